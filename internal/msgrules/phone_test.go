package msgrules_test

import (
	"strings"
	"testing"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
)

func TestNormalizeE164(t *testing.T) {
	tests := []struct {
		in, want string
		reason   string // "" = accepted
	}{
		// Accepted: E.164 as the seed writes it, and pasted forms of it.
		{in: "+447902111123", want: "+447902111123"},
		{in: " +44 7902 111123 ", want: "+447902111123"},
		{in: "+44 (0) 7902-111-123", want: "+447902111123"}, // UK trunk "(0)" dropped
		{in: "+(44) 7902 111123", want: "+447902111123"},
		{in: "+1 (415) 555-2671", want: "+14155552671"},
		{in: "+39 06 1234 5678", want: "+390612345678"}, // Italian leading zero kept
		{in: "+33 6 12 34 56 78", want: "+33612345678"},
		{in: "+91 98765 43210", want: "+919876543210"},
		// Refused.
		{in: "", reason: errs.Required},
		{in: "   ", reason: errs.Required},
		{in: "07902 111123", reason: errs.Malformed},   // national form, no country code
		{in: "447902111123", reason: errs.Malformed},   // no leading +
		{in: "00447902111123", reason: errs.Malformed}, // international prefix instead of +
		{in: "+44 7902 111123 ext 5", reason: errs.Malformed},
		{in: "+1-800-FLOWERS", reason: errs.Malformed},
		{in: "tel:+447902111123", reason: errs.Malformed},
		{in: "+44.7902.111123", reason: errs.Malformed},
		{in: "+４４7902111123", reason: errs.Malformed}, // full-width digits
		{in: "++447902111123", reason: errs.Malformed},
		{in: "+", reason: errs.Malformed},
		{in: "+()- ", reason: errs.Malformed},
		{in: "+4479051337665", reason: errs.Invalid_}, // the seed's own example: one digit too many for the UK
		{in: "+44790211112", reason: errs.Invalid_},   // one digit short
		{in: "+1 555 555 5555", reason: errs.Invalid_},
		{in: "+999 123456", reason: errs.Invalid_}, // no such country code
		{in: "+0 123", reason: errs.Invalid_},
		{in: "+1234567890123456", reason: errs.TooLong}, // 16 digits
		{in: "+44 " + strings.Repeat(" ", 40) + "7902111123", reason: errs.TooLong},
	}
	for _, tt := range tests {
		got, err := msgrules.NormalizeE164("mobileNumber", tt.in)
		if tt.reason == "" {
			wantErr(t, err, "", "", "", "")
			if got != tt.want {
				t.Errorf("NormalizeE164(%q) = %q, want %q", tt.in, got, tt.want)
			}
			continue
		}
		wantErr(t, err, errs.Invalid, errs.Body, "mobileNumber", tt.reason)
		if got != "" {
			t.Errorf("NormalizeE164(%q) = %q with an error", tt.in, got)
		}
	}
}

func FuzzNormalizeE164(f *testing.F) {
	for _, s := range []string{"+447902111123", "+44 (0) 7902-111-123", "+1 (415) 555-2671", "07902 111123", "+", "+٤٤7902111123", "+999 123456"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := msgrules.NormalizeE164("phone", s)
		if err != nil {
			if e := errs.As(err); e.Code != errs.Invalid || e.Fields["phone"] == "" {
				t.Fatalf("NormalizeE164(%q): %v is not a field error", s, err)
			}
			return
		}
		again, err := msgrules.NormalizeE164("phone", got)
		if err != nil || again != got {
			t.Fatalf("NormalizeE164(%q) = %q, which normalizes to %q, %v", s, got, again, err)
		}
		if got[0] != '+' || len(got) > 16 || strings.Trim(got[1:], "0123456789") != "" {
			t.Fatalf("NormalizeE164(%q) = %q, not E.164", s, got)
		}
	})
}

func TestChannelNumber(t *testing.T) {
	for in, want := range map[string]string{
		"+15551234567":    "+15551234567", // WhatsApp's test business numbers
		"+1 555 123 4567": "+15551234567",
		"+447902111123":   "+447902111123",
	} {
		if got, err := msgrules.ChannelNumber("from", in); err != nil || got != want {
			t.Errorf("ChannelNumber(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "15551234567", "+1", "+999123", "+4479021111231234567", "+44 7902 abc"} {
		if _, err := msgrules.ChannelNumber("from", bad); err == nil {
			t.Errorf("ChannelNumber(%q) accepted", bad)
		}
	}
	if _, err := msgrules.NormalizeE164("mobileNumber", "+15551234567"); err == nil {
		t.Error("NormalizeE164 accepts +1 555 numbers; ChannelNumber exists for them")
	}
}
