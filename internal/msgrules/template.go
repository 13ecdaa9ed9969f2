package msgrules

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/boxwire/boxwire/internal/errs"
)

// Template statuses: Meta's review states, capitalised as the seed
// writes "Approved".
const (
	Pending  = "Pending"
	Approved = "Approved"
	Rejected = "Rejected"
	Paused   = "Paused"
	Disabled = "Disabled"
)

var templateStatuses = []string{Pending, Approved, Rejected, Paused, Disabled}

// Limits WhatsApp puts on templates, and on a text message, which bounds
// the work of matching a broadcast against its template.
const (
	MaxTemplateName = 512
	MaxTemplateText = 1024
	MaxMessageText  = 4096
)

// maxPlaceholder bounds {{n}}: a 1024-character text cannot hold more
// than a few hundred placeholders, and the bound keeps n out of the
// range where it could allocate much.
const maxPlaceholder = 999

// Template is a message template of one API account.
type Template struct {
	ID           string
	APIAccountID string
	Name         string
	Text         string // "Hi {{1}}, …"
	Example      string // free text shown to reviewers
	Status       string
}

// ParseTemplateStatus accepts a template status in any case, because
// Meta's API writes "APPROVED" where the seed writes "Approved"; it
// returns the seed's spelling.
func ParseTemplateStatus(s string) (string, error) {
	for _, st := range templateStatuses {
		if strings.EqualFold(s, st) {
			return st, nil
		}
	}
	return "", errs.Field(errs.Body, "status", errs.Invalid_,
		"status must be one of %s", strings.Join(templateStatuses, ", "))
}

var templateNameRE = regexp.MustCompile(`^[a-z0-9_]+$`)

// ValidateTemplate checks a new or edited template against WhatsApp's
// rules, so that a template Meta would refuse is refused here first.
func ValidateTemplate(name, text, example string) error {
	switch {
	case name == "":
		return errs.Field(errs.Body, "name", errs.Required, "name is required")
	case len(name) > MaxTemplateName:
		return errs.Field(errs.Body, "name", errs.TooLong, "name must be at most %d characters", MaxTemplateName)
	case !templateNameRE.MatchString(name):
		return errs.Field(errs.Body, "name", errs.Malformed,
			"name may hold only lower-case letters, digits and underscores, as WhatsApp requires")
	}
	switch {
	case text == "":
		return errs.Field(errs.Body, "templateText", errs.Required, "templateText is required")
	case strings.ContainsRune(text, 0):
		return errs.Field(errs.Body, "templateText", errs.Invalid_, "templateText may not contain NUL")
	case utf8.RuneCountInString(text) > MaxTemplateText:
		return errs.Field(errs.Body, "templateText", errs.TooLong,
			"templateText must be at most %d characters", MaxTemplateText)
	}
	if _, err := Placeholders(text); err != nil {
		return err
	}
	if strings.ContainsRune(example, 0) {
		return errs.Field(errs.Body, "templateExample", errs.Invalid_, "templateExample may not contain NUL")
	}
	if utf8.RuneCountInString(example) > MaxTemplateText {
		return errs.Field(errs.Body, "templateExample", errs.TooLong,
			"templateExample must be at most %d characters", MaxTemplateText)
	}
	return nil
}

// placeholderRE matches anything in double braces, so that {{0}} and
// {{name}} are reported instead of being taken as literal text.
var placeholderRE = regexp.MustCompile(`\{\{([^{}]*)\}\}`)

// Placeholders returns the numbers of a template's placeholders in the
// order they appear (a number may repeat). They must be {{1}} to {{n}}
// without gaps, as WhatsApp numbers a template's parameters.
func Placeholders(text string) ([]int, error) {
	if !utf8.ValidString(text) {
		return nil, errs.Field(errs.Body, "templateText", errs.Malformed, "templateText must be UTF-8 text")
	}
	var nums []int
	highest := 0
	for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
		n, ok := placeholderNumber(m[1])
		if !ok {
			return nil, templateTextError("%s is not a placeholder: placeholders are {{1}}, {{2}}, … up to {{%d}}",
				m[0], maxPlaceholder)
		}
		nums = append(nums, n)
		highest = max(highest, n)
	}
	if rest := placeholderRE.ReplaceAllString(text, ""); strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		return nil, templateTextError("templateText has a {{ or }} that is not part of a placeholder like {{1}}")
	}
	if gap := firstMissing(nums, highest); gap > 0 {
		return nil, templateTextError("templateText uses {{%d}} but not {{%d}}: placeholders must be numbered from 1 without gaps",
			highest, gap)
	}
	return nums, nil
}

// placeholderNumber parses the inside of {{…}}: a decimal from 1 to
// maxPlaceholder with no sign, spaces or leading zero.
func placeholderNumber(s string) (int, bool) {
	if s == "" || len(s) > len(strconv.Itoa(maxPlaceholder)) || s[0] == '0' {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, _ := strconv.Atoi(s)
	return n, n <= maxPlaceholder
}

// firstMissing returns the smallest of 1..highest not in nums, or 0.
func firstMissing(nums []int, highest int) int {
	seen := make([]bool, highest+1)
	for _, n := range nums {
		seen[n] = true
	}
	for n := 1; n <= highest; n++ {
		if !seen[n] {
			return n
		}
	}
	return 0
}

func templateTextError(format string, args ...any) error {
	return errs.Field(errs.Body, "templateText", errs.Invalid_, format, args...)
}

func messageError(format string, args ...any) error {
	return errs.Field(errs.Body, "message", errs.Invalid_,
		"message must be the template text with every {{n}} filled: "+format, args...)
}

// CheckFilled checks that message is templateText with every {{n}}
// replaced by a value, and returns the values: values[i] fills {{i+1}}.
// Broadcast clients send the filled text (seed 004), while the channel
// needs the parameters, so they are recovered here.
func CheckFilled(templateText, message string) ([]string, error) {
	nums, err := Placeholders(templateText)
	if err != nil {
		return nil, err
	}
	if !utf8.ValidString(message) {
		return nil, errs.Field(errs.Body, "message", errs.Malformed, "message must be UTF-8 text")
	}
	if utf8.RuneCountInString(message) > MaxMessageText {
		return nil, errs.Field(errs.Body, "message", errs.TooLong, "message must be at most %d characters", MaxMessageText)
	}
	groups, problem := splitFilled(placeholderRE.Split(templateText, -1), nums, message)
	if problem != "" {
		return nil, messageError("%s", problem)
	}
	return collectValues(nums, groups)
}

// splitFilled cuts message into the template's literal parts lits and
// the values between them, or says where it leaves the template.
//
// Each value is taken as short as possible: it ends at the first later
// occurrence of the next literal part. That is what an anchored regexp
// with a lazy group per placeholder would match, and it fails only when
// no split exists, since a later cut leaves a shorter rest that the next
// value could as well have absorbed. A regexp was the first version, but
// RE2's submatch engine took 80 ms on a 1024-character template against
// a 4096-character message; this walk is linear in practice.
func splitFilled(lits []string, nums []int, message string) (groups []string, problem string) {
	if len(nums) == 0 {
		if message != lits[0] {
			return nil, "the template has no placeholders, so the message must be exactly its text"
		}
		return nil, ""
	}
	rest, ok := strings.CutPrefix(message, lits[0])
	if !ok {
		return nil, fmt.Sprintf("expected %q at the start", lits[0])
	}
	last := len(nums) - 1
	for i, n := range nums[:last] {
		lit := lits[i+1]
		// A value is at least one character, so the search starts after
		// the first; whole characters keep values valid UTF-8 when two
		// placeholders touch and lit is empty.
		_, first := utf8.DecodeRuneInString(rest)
		at := -1
		if rest != "" {
			at = strings.Index(rest[first:], lit)
		}
		switch {
		case at >= 0:
			groups = append(groups, rest[:first+at])
			rest = rest[first+at+len(lit):]
		case rest == "" || strings.HasPrefix(rest, lit):
			return nil, fmt.Sprintf("{{%d}} is empty", n)
		default:
			return nil, fmt.Sprintf("expected %q after {{%d}}", lit, n)
		}
	}
	lit := lits[last+1]
	switch {
	case !strings.HasSuffix(rest, lit):
		return nil, fmt.Sprintf("expected %q at the end", lit)
	case len(rest) == len(lit):
		return nil, fmt.Sprintf("{{%d}} is empty", nums[last])
	}
	return append(groups, rest[:len(rest)-len(lit)]), ""
}

// collectValues checks each matched value and that a repeated {{n}} has
// the same value everywhere.
func collectValues(nums []int, groups []string) ([]string, error) {
	values := make([]string, highestOf(nums))
	for i, n := range nums {
		v := groups[i]
		if err := checkValue(n, v); err != nil {
			return nil, err
		}
		if values[n-1] != "" && values[n-1] != v {
			return nil, messageError("{{%d}} appears more than once, so it must have the same value each time (got %q and %q)",
				n, values[n-1], v)
		}
		values[n-1] = v
	}
	return values, nil
}

// checkValue applies WhatsApp's rules for a parameter's text: not blank,
// no new-line or tab, no more than four consecutive spaces. A value that
// still holds a placeholder means the client forgot to fill it.
func checkValue(n int, v string) error {
	switch {
	case strings.TrimSpace(v) == "":
		return messageError("{{%d}} is empty", n)
	case placeholderRE.MatchString(v):
		return messageError("{{%d}} is not filled (its place holds %q)", n, v)
	case strings.ContainsAny(v, "\r\n\t\x00"):
		return messageError("the value of {{%d}} has a new-line, tab or NUL, which WhatsApp does not allow in a placeholder value", n)
	case strings.Contains(v, "     "):
		return messageError("the value of {{%d}} has more than four consecutive spaces, which WhatsApp does not allow", n)
	}
	return nil
}

func highestOf(nums []int) int {
	highest := 0
	for _, n := range nums {
		highest = max(highest, n)
	}
	return highest
}

// CheckBroadcast checks a broadcast of message with template t from an
// API account and returns the placeholder values to send. Only an
// Approved template of the same account can be sent: WhatsApp refuses
// any other, and templates are per channel number.
func CheckBroadcast(t Template, apiAccountID, message string) ([]string, error) {
	switch {
	case apiAccountID == "":
		return nil, errs.Field(errs.Body, "apiAccountId", errs.Required, "apiAccountId is required")
	case t.APIAccountID != apiAccountID:
		return nil, errs.Field(errs.Body, "templateId", errs.Invalid_,
			"templateId must name a template of the broadcast's API account")
	case t.Status != Approved:
		status := t.Status
		if status == "" {
			status = "not reviewed"
		}
		return nil, errs.Field(errs.Body, "templateId", errs.Invalid_,
			"templateId names a template that is %s: only an Approved template can be broadcast", status)
	}
	return CheckFilled(t.Text, message)
}
