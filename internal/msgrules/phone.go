// Package messaging holds the rules of the messaging API (DESIGN §6):
// phone numbers, the session window, templates and broadcasts,
// conversation assignment, delivery status and Standard Webhooks
// signing. No I/O: the service loads the state, asks these functions,
// and stores what they decide.
package msgrules

import (
	"strings"

	"github.com/nyaruka/phonenumbers/v2"

	"github.com/boxwire/boxwire/internal/errs"
)

// maxPhoneInput bounds what reaches the parser. Fifteen digits, a plus
// and generous separators fit; anything longer is not a phone number.
const maxPhoneInput = 40

// maxE164Digits is E.164's limit on country code plus national number.
const maxE164Digits = 15

// NormalizeE164 validates a phone number written in international form
// and returns it in canonical E.164 ("+447902111123"). Spaces, dashes
// and parentheses are allowed because people paste numbers that way;
// letters, extensions and national forms are refused because a contact
// is addressed on the channel by this exact string.
func NormalizeE164(field, s string) (string, error) {
	// The library does the real work: country codes, national prefixes
	// like "(0)", and per-country length and range rules.
	return parseE164(field, s, phonenumbers.IsValidNumber, "valid")
}

// parseE164 checks s's shape, parses it and lets accept judge the number;
// kind says what accept wants, for the error.
func parseE164(field, s string, accept func(*phonenumbers.PhoneNumber) bool, kind string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errs.Field(errs.Body, field, errs.Required, "%s is required", field)
	}
	if err := e164Shape(field, s); err != nil {
		return "", err
	}
	num, err := phonenumbers.Parse(s, "")
	if err != nil || !accept(num) {
		return "", errs.Field(errs.Body, field, errs.Invalid_, "%s is not a %s phone number", field, kind)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// e164Shape checks the characters before parsing: the library accepts
// national numbers, letters ("1-800-FLOWERS"), extensions and "tel:"
// URIs, none of which a contact's mobile number may be.
func e164Shape(field, s string) error {
	if len(s) > maxPhoneInput {
		return errs.Field(errs.Body, field, errs.TooLong, "%s is too long for a phone number", field)
	}
	if s[0] != '+' {
		return errs.Field(errs.Body, field, errs.Malformed,
			"%s must be in international form with a leading + and the country code, e.g. +447902111123", field)
	}
	digits := 0
	for _, c := range s[1:] {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == ' ' || c == '-' || c == '(' || c == ')':
		default:
			return errs.Field(errs.Body, field, errs.Malformed,
				"%s may hold only a leading +, digits, spaces, dashes and parentheses", field)
		}
	}
	switch {
	case digits == 0:
		return errs.Field(errs.Body, field, errs.Malformed, "%s must contain digits", field)
	case digits > maxE164Digits:
		return errs.Field(errs.Body, field, errs.TooLong, "%s has more than %d digits", field, maxE164Digits)
	}
	return nil
}

// ChannelNumber accepts a number a channel uses or reports: E.164 shape,
// a known country code and a possible length, without the stricter
// number-range check of NormalizeE164. WhatsApp's own test numbers
// (+1 555 …) and new ranges the library does not know yet are real
// senders and business numbers all the same.
func ChannelNumber(field, s string) (string, error) {
	return parseE164(field, s, phonenumbers.IsPossibleNumber, "possible")
}
