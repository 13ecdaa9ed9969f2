package httpx

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/boxwire/boxwire/internal/errs"
)

// jsonTextProblem refuses a JSON body whose strings hold what
// encoding/json lets through but the stores do not keep alike: \u0000
// (PostgreSQL refuses NUL in text, SQLite keeps it), invalid UTF-8 and
// lone surrogates such as \ud800 (encoding/json silently turns both into
// U+FFFD, so what is stored is not what was sent). The error names the
// field by its path of keys, as encoding/json names a field of the wrong
// type. Syntax errors are left to the decoder.
func jsonTextProblem(data []byte) error {
	if utf8.Valid(data) && !bytes.Contains(data, []byte(`\u`)) {
		return nil // the usual body: nothing to look for
	}
	type frame struct {
		object, wantKey bool
		key             string
	}
	var stack []frame
	path := func(last string) string {
		var keys []string
		for _, f := range stack {
			if f.object && f.key != "" {
				keys = append(keys, f.key)
			}
		}
		if last != "" {
			keys = append(keys, last)
		}
		if len(keys) == 0 {
			return "body"
		}
		return strings.Join(keys, ".")
	}
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantKey, stack[n-1].key = true, ""
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var prev int64
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or a syntax error DecodeJSON reports
		}
		raw := data[prev:dec.InputOffset()]
		prev = dec.InputOffset()
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, frame{object: true, wantKey: true})
			case '[':
				stack = append(stack, frame{})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			top := len(stack) - 1
			isKey := top >= 0 && stack[top].object && stack[top].wantKey
			if reason := jsonStringProblem(raw, t); reason != "" {
				if isKey {
					return errs.Field(errs.Body, path(""), errs.Malformed, "a key in %s %s", path(""), reason)
				}
				f := path("")
				return errs.Field(errs.Body, f, errs.Malformed, "%s %s", f, reason)
			}
			if isKey {
				stack[top].key, stack[top].wantKey = t, false
			} else {
				valueDone()
			}
		default:
			valueDone()
		}
	}
}

// jsonStringProblem looks at one string token: raw is its text in the
// body (after the separators before it), s its decoded value.
func jsonStringProblem(raw []byte, s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return "must not hold a NUL character (\\u0000)"
	case !utf8.Valid(raw):
		return "must be valid UTF-8"
	case loneSurrogate(raw):
		return "must not hold a lone surrogate (\\ud800–\\udfff unpaired)"
	}
	return ""
}

// loneSurrogate reports a \uD800–\uDFFF escape that is not a high
// surrogate followed by a low one.
func loneSurrogate(raw []byte) bool {
	hex := func(i int) (rune, bool) {
		if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 32)
		return rune(n), err == nil
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		r, ok := hex(i)
		if !ok {
			i++ // another escape: skip the escaped character
			continue
		}
		switch {
		case r >= 0xD800 && r < 0xDC00:
			lo, ok := hex(i + 6)
			if !ok || lo < 0xDC00 || lo >= 0xE000 {
				return true
			}
			i += 11
		case r >= 0xDC00 && r < 0xE000:
			return true
		default:
			i += 5
		}
	}
	return false
}
