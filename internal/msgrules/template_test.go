package msgrules_test

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
)

// The seed's template and broadcast.
const (
	seedTemplate = "Hi {{1}}, thanks for the conversation earlier about {{2}} lets catch up soon."
	seedMessage  = "Hi Jack, thanks for the conversation earlier about the 2 bedroom house in Swindon lets catch up soon."
)

func TestPlaceholders(t *testing.T) {
	tests := []struct {
		text   string
		want   []int
		bad    bool
		reason string // of a bad one; errs.Invalid_ if empty
	}{
		{text: seedTemplate, want: []int{1, 2}},
		{text: "no placeholders", want: nil},
		{text: "{{2}} before {{1}}", want: []int{2, 1}},
		{text: "{{1}} and {{1}} again, then {{2}}", want: []int{1, 1, 2}},
		{text: "{{1}}{{2}}", want: []int{1, 2}},
		{text: "single {braces} are text: {{1}}", want: []int{1}},
		{text: "{{{1}}}", want: []int{1}},
		{text: "{{999}}", bad: true}, // gap: 1..998 missing
		{text: "Hi {{0}}", bad: true},
		{text: "Hi {{01}}", bad: true},
		{text: "Hi {{name}}", bad: true},
		{text: "Hi {{ 1 }}", bad: true},
		{text: "Hi {{}}", bad: true},
		{text: "Hi {{-1}}", bad: true},
		{text: "Hi {{1000}}", bad: true},
		{text: "Hi {{1}} about {{3}}", bad: true},
		{text: "Hi {{2}}", bad: true},
		{text: "Hi {{1}", bad: true},
		{text: "Hi {{1}} }}", bad: true},
		{text: "Hi {{ {{1}}", bad: true},
		{text: "Hi \xff {{1}}", bad: true, reason: errs.Malformed},
	}
	for _, tt := range tests {
		got, err := msgrules.Placeholders(tt.text)
		if tt.bad {
			wantErr(t, err, errs.Invalid, errs.Body, "templateText", cmp.Or(tt.reason, errs.Invalid_))
			continue
		}
		wantErr(t, err, "", "", "", "")
		if !slices.Equal(got, tt.want) {
			t.Errorf("Placeholders(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
	// 1..n contiguous is accepted at the top of the range too.
	var all strings.Builder
	for n := 1; n <= 999; n++ {
		all.WriteString("{{" + strconv.Itoa(n) + "}}")
	}
	if nums, err := msgrules.Placeholders(all.String()); err != nil || len(nums) != 999 {
		t.Errorf("Placeholders({{1}}…{{999}}) = %d numbers, %v", len(nums), err)
	}
}

func TestValidateTemplate(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name, text, example string
		field, reason       string // "" = accepted
	}{
		{name: "catch_up_2", text: seedTemplate, example: "Hi [John], …"},
		{name: long(512), text: long(1024), example: long(1024)},
		{name: "x", text: strings.Repeat("é", 1024)}, // characters, not bytes
		{name: "", text: seedTemplate, field: "name", reason: errs.Required},
		{name: long(513), text: seedTemplate, field: "name", reason: errs.TooLong},
		{name: "Catch_up", text: seedTemplate, field: "name", reason: errs.Malformed},
		{name: "catch-up", text: seedTemplate, field: "name", reason: errs.Malformed},
		{name: "catch up", text: seedTemplate, field: "name", reason: errs.Malformed},
		{name: "café", text: seedTemplate, field: "name", reason: errs.Malformed},
		{name: "ok", text: "", field: "templateText", reason: errs.Required},
		{name: "ok", text: long(1025), field: "templateText", reason: errs.TooLong},
		{name: "ok", text: "Hi {{name}}", field: "templateText", reason: errs.Invalid_},
		{name: "ok", text: "Hi {{2}}", field: "templateText", reason: errs.Invalid_},
		{name: "ok", text: seedTemplate, example: long(1025), field: "templateExample", reason: errs.TooLong},
	}
	for _, tt := range tests {
		err := msgrules.ValidateTemplate(tt.name, tt.text, tt.example)
		if tt.field == "" {
			wantErr(t, err, "", "", "", "")
			continue
		}
		wantErr(t, err, errs.Invalid, errs.Body, tt.field, tt.reason)
	}
}

func TestParseTemplateStatus(t *testing.T) {
	for in, want := range map[string]string{
		"Pending": msgrules.Pending, "Approved": msgrules.Approved, "Rejected": msgrules.Rejected,
		"Paused": msgrules.Paused, "Disabled": msgrules.Disabled,
		"APPROVED": msgrules.Approved, "approved": msgrules.Approved, // Meta's and lower case
	} {
		got, err := msgrules.ParseTemplateStatus(in)
		wantErr(t, err, "", "", "", "")
		if got != want {
			t.Errorf("ParseTemplateStatus(%q) = %q, want %q", in, got, want)
		}
	}
	for _, in := range []string{"", "Approve", "IN_APPEAL", " Approved"} {
		_, err := msgrules.ParseTemplateStatus(in)
		wantErr(t, err, errs.Invalid, errs.Body, "status", errs.Invalid_)
	}
}

func TestCheckFilled(t *testing.T) {
	tests := []struct {
		name, template, message string
		want                    []string
		detail                  string // a part of the error message; "" = accepted
		reason                  string // errs.Invalid_ if empty
	}{
		{name: "seed example", template: seedTemplate, message: seedMessage,
			want: []string{"Jack", "the 2 bedroom house in Swindon"}},
		{name: "no placeholders", template: "Your order has shipped.", message: "Your order has shipped.", want: []string{}},
		{name: "repeated placeholder", template: "{{1}}, yes {{1}}! About {{2}}.", message: "Jack, yes Jack! About it.",
			want: []string{"Jack", "it"}},
		{name: "out of order", template: "{{2}} for {{1}}", message: "tea for two", want: []string{"two", "tea"}},
		{name: "placeholders at both ends", template: "{{1}} and {{2}}", message: "salt and pepper",
			want: []string{"salt", "pepper"}},
		{name: "regexp characters in the text", template: "Total (excl. VAT): ${{1}}* [{{2}}]?", message: "Total (excl. VAT): $12.50* [EUR]?",
			want: []string{"12.50", "EUR"}},
		{name: "new-line in the template text", template: "Hi {{1}},\nsee you.", message: "Hi Jack,\nsee you.", want: []string{"Jack"}},
		{name: "four spaces in a value", template: "Hi {{1}}.", message: "Hi a    b.", want: []string{"a    b"}},
		{name: "value starting with the next text", template: "{{1}}a{{2}}", message: "aab", want: []string{"a", "b"}},
		{name: "adjacent placeholders", template: "{{1}}{{2}}!", message: "abc!", want: []string{"a", "bc"}},
		{name: "adjacent placeholders, wide characters", template: "{{1}}{{2}}", message: "éü€", want: []string{"é", "ü€"}},
		{name: "value like a braces pair", template: "Hi {{1}}.", message: "Hi {x}.", want: []string{"{x}"}},

		{name: "unfilled placeholder left", template: seedTemplate,
			message: "Hi {{1}}, thanks for the conversation earlier about the house lets catch up soon.", detail: "{{1}} is not filled"},
		{name: "template sent as is", template: seedTemplate, message: seedTemplate, detail: "{{1}} is not filled"},
		{name: "changed literal at the start", template: seedTemplate,
			message: "Hello Jack, thanks for the conversation earlier about the house lets catch up soon.", detail: `expected "Hi " at the start`},
		{name: "changed literal in the middle", template: seedTemplate,
			message: "Hi Jack, thanks for the chat earlier about the house lets catch up soon.", detail: `expected ", thanks for the conversation earlier about " after {{1}}`},
		{name: "changed literal at the end", template: seedTemplate,
			message: "Hi Jack, thanks for the conversation earlier about the house lets catch up later.", detail: `expected " lets catch up soon." at the end`},
		{name: "empty first value", template: seedTemplate,
			message: "Hi , thanks for the conversation earlier about the house lets catch up soon.", detail: "{{1}} is empty"},
		{name: "empty last value", template: seedTemplate,
			message: "Hi Jack, thanks for the conversation earlier about  lets catch up soon.", detail: "{{2}} is empty"},
		{name: "blank value", template: "Hi {{1}}.", message: "Hi   .", detail: "{{1}} is empty"},
		{name: "empty trailing value", template: "Hi {{1}}", message: "Hi ", detail: "{{1}} is empty"},
		{name: "new-line in a value", template: "Hi {{1}}.", message: "Hi Jack\nand Jill.", detail: "new-line, tab or NUL"},
		{name: "tab in a value", template: "Hi {{1}}.", message: "Hi Jack\tJill.", detail: "new-line, tab or NUL"},
		{name: "NUL in a value", template: "Hi {{1}}.", message: "Hi Jack\x00.", detail: "new-line, tab or NUL"},
		{name: "five spaces in a value", template: "Hi {{1}}.", message: "Hi a     b.", detail: "four consecutive spaces"},
		{name: "repeated placeholder with two values", template: "{{1}}, yes {{1}}!", message: "Jack, yes Jill!",
			detail: "same value each time"},
		{name: "no placeholders, different text", template: "Your order has shipped.", message: "Your order has shipped!",
			detail: "must be exactly its text"},
		{name: "extra text after", template: seedTemplate, message: seedMessage + " Bye.", detail: "at the end"},
		{name: "empty message", template: seedTemplate, message: "", detail: `expected "Hi " at the start`},
		{name: "too long", template: "{{1}}", message: strings.Repeat("a", msgrules.MaxMessageText+1), detail: "at most",
			reason: errs.TooLong},
		{name: "not UTF-8", template: "Hi {{1}}.", message: "Hi \xff.", detail: "UTF-8", reason: errs.Malformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := msgrules.CheckFilled(tt.template, tt.message)
			if tt.detail == "" {
				wantErr(t, err, "", "", "", "")
				if !slices.Equal(got, tt.want) {
					t.Errorf("values = %q, want %q", got, tt.want)
				}
				return
			}
			wantErr(t, err, errs.Invalid, errs.Body, "message", cmp.Or(tt.reason, errs.Invalid_))
			if msg := errs.As(err).Message; !strings.Contains(msg, tt.detail) {
				t.Errorf("message %q does not contain %q", msg, tt.detail)
			}
			if got != nil {
				t.Errorf("values %q returned with an error", got)
			}
		})
	}
	// A broken template is reported as the template's fault.
	_, err := msgrules.CheckFilled("Hi {{name}}", "Hi Jack")
	wantErr(t, err, errs.Invalid, errs.Body, "templateText", errs.Invalid_)
}

func TestCheckBroadcast(t *testing.T) {
	tmpl := msgrules.Template{ID: "tmpl-1", APIAccountID: "acct-1", Name: "catch_up", Text: seedTemplate, Status: msgrules.Approved}
	with := func(status string) msgrules.Template { c := tmpl; c.Status = status; return c }

	got, err := msgrules.CheckBroadcast(tmpl, "acct-1", seedMessage)
	wantErr(t, err, "", "", "", "")
	if !slices.Equal(got, []string{"Jack", "the 2 bedroom house in Swindon"}) {
		t.Errorf("values = %q", got)
	}

	tests := []struct {
		name          string
		t             msgrules.Template
		account, msg  string
		field, reason string
		detail        string
	}{
		{"another account's template", tmpl, "acct-2", seedMessage, "templateId", errs.Invalid_, "API account"},
		{"no account", tmpl, "", seedMessage, "apiAccountId", errs.Required, "required"},
		{"pending", with(msgrules.Pending), "acct-1", seedMessage, "templateId", errs.Invalid_, "is Pending"},
		{"rejected", with(msgrules.Rejected), "acct-1", seedMessage, "templateId", errs.Invalid_, "is Rejected"},
		{"paused", with(msgrules.Paused), "acct-1", seedMessage, "templateId", errs.Invalid_, "is Paused"},
		{"disabled", with(msgrules.Disabled), "acct-1", seedMessage, "templateId", errs.Invalid_, "is Disabled"},
		{"no status", with(""), "acct-1", seedMessage, "templateId", errs.Invalid_, "not reviewed"},
		{"unfilled", tmpl, "acct-1", seedTemplate, "message", errs.Invalid_, "not filled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := msgrules.CheckBroadcast(tt.t, tt.account, tt.msg)
			wantErr(t, err, errs.Invalid, errs.Body, tt.field, tt.reason)
			if msg := errs.As(err).Message; !strings.Contains(msg, tt.detail) {
				t.Errorf("message %q does not contain %q", msg, tt.detail)
			}
		})
	}
}

// fill substitutes values[n-1] for every {{n}}, as a client does.
func fill(template string, values []string) string {
	for i, v := range values {
		template = strings.ReplaceAll(template, "{{"+strconv.Itoa(i+1)+"}}", v)
	}
	return template
}

func FuzzCheckFilled(f *testing.F) {
	f.Add(seedTemplate, seedMessage)
	f.Add(seedTemplate, seedTemplate)
	f.Add("{{1}}, yes {{1}}!", "Jack, yes Jack!")
	f.Add("{{1}}{{2}}", "ab")
	f.Add("a{{1}}b{{1}}c", "a)b)c")
	f.Add("x {{name}}", "x y")
	f.Fuzz(func(t *testing.T, template, message string) {
		nums, perr := msgrules.Placeholders(template)
		values, err := msgrules.CheckFilled(template, message)
		if err != nil {
			if errs.As(err).Code != errs.Invalid {
				t.Fatalf("CheckFilled(%q, %q): %v is not Invalid", template, message, err)
			}
			return
		}
		if perr != nil {
			t.Fatalf("CheckFilled accepted a template Placeholders refuses: %v", perr)
		}
		if len(values) != highest(nums) {
			t.Fatalf("CheckFilled(%q, %q) = %d values for placeholders %v", template, message, len(values), nums)
		}
		if refilled := fill(template, values); refilled != message {
			t.Fatalf("CheckFilled(%q, %q) = %q, which fills to %q", template, message, values, refilled)
		}
	})
}

// FuzzFillRoundTrip fills a template with values a client may send and
// checks that exactly those values come back. Values that let the
// template's text match at an earlier place are skipped: the message is
// then ambiguous, and FuzzCheckFilled covers it.
func FuzzFillRoundTrip(f *testing.F) {
	f.Add(seedTemplate, "Jack", "the house")
	f.Add("{{2}}-{{1}}", "a-b", "c")
	f.Add("{{1}}{{2}}", "a", "bc")
	f.Fuzz(func(t *testing.T, template, v1, v2 string) {
		nums, err := msgrules.Placeholders(template)
		if err != nil || len(nums) > 2 || len(nums) != highest(nums) {
			return // only {{1}} and {{2}}, once each
		}
		values := []string{v1, v2}[:len(nums)]
		for _, v := range values {
			if !utf8.ValidString(v) || strings.TrimSpace(v) == "" || strings.ContainsAny(v, "{}\r\n\t") || strings.Contains(v, "     ") {
				return // values WhatsApp refuses
			}
		}
		if len(nums) == 2 {
			// The first value ends where the middle text first occurs.
			first, mid := values[nums[0]-1], placeholderSplit.Split(template, -1)[1]
			_, size := utf8.DecodeRuneInString(first)
			if strings.Index((first + mid)[size:], mid) != len(first)-size {
				return
			}
		}
		message := fill(template, values)
		got, err := msgrules.CheckFilled(template, message)
		if errs.As(err).Fields["message"] == errs.TooLong {
			return
		}
		if err != nil || !slices.Equal(got, values) {
			t.Fatalf("CheckFilled(%q, %q) = %q, %v; want %q", template, message, got, err, values)
		}
	})
}

var placeholderSplit = regexp.MustCompile(`\{\{[0-9]+\}\}`)

func highest(nums []int) int {
	h := 0
	for _, n := range nums {
		h = max(h, n)
	}
	return h
}
