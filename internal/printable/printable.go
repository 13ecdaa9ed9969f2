// Package printable holds the rules for text that people read: what a
// store can keep alike on SQLite and PostgreSQL, what a name or title may
// hold, and how to show untrusted text on a terminal. No I/O.
package printable

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Storable says why s cannot be stored as text alike by every store —
// PostgreSQL refuses NUL and invalid UTF-8 in text, SQLite keeps them —
// or "" when it can.
func Storable(s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return "must not hold a NUL byte"
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	}
	return ""
}

// Name says why s is unfit as a name or title, or "" when it is fit: it
// must be storable and hold no control character but newline and tab.
// A carriage return, backspace or escape sequence in a name could rewrite
// what a terminal or a log viewer shows around it.
func Name(s string) string {
	if why := Storable(s); why != "" {
		return why
	}
	for _, r := range s {
		if isControl(r) {
			return "must not hold control characters"
		}
	}
	return ""
}

// Clean drops from s what Name refuses (and invalid UTF-8): for text
// that arrives from elsewhere and cannot be refused, such as a WhatsApp
// profile name.
func Clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || isControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}

// Escape makes s safe to print on a terminal: control characters other
// than newline and tab (ESC, CR, backspace, DEL, C1 codes such as CSI)
// are written as \u001b, \u000d, \u009b, and invalid UTF-8 bytes as
// \xff, so text from a server cannot move the cursor, recolour or hide
// what follows. The \u form keeps a JSON answer valid JSON.
func Escape(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x` + strconv.FormatUint(uint64(s[i]), 16))
		case isControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func needsEscape(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if isControl(r) {
			return true
		}
	}
	return false
}

// isControl: C0, DEL and C1 controls, except newline and tab.
func isControl(r rune) bool {
	return r != '\n' && r != '\t' && unicode.IsControl(r)
}
