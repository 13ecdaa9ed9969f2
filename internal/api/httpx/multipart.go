package httpx

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/printable"
)

// Multipart bodies (file uploads on both surfaces) are read part by part,
// never whole: these are the rules they share.

// NextPart reads a multipart body's next part, io.EOF after the last. A
// body past its http.MaxBytesReader limit is too_large naming fileField; a
// client too slow for BodyLimits keeps that error; anything else is a
// malformed body.
func NextPart(mr *multipart.Reader, fileField string) (*multipart.Part, error) {
	part, err := mr.NextPart()
	switch {
	case err == nil, err == io.EOF:
		return part, err
	case TooBig(err):
		return nil, &errs.Error{Code: errs.TooLarge, Message: "the upload is too large", Where: errs.Body,
			Fields: map[string]string{fileField: "too_large"}}
	}
	if own := (*errs.Error)(nil); errors.As(err, &own) { // too slow
		return nil, own
	}
	return nil, errs.Field(errs.Body, "body", errs.Malformed, "the multipart body could not be read")
}

// SmallPart reads a text part of at most limit bytes. It refuses, naming
// the field, what JSON decoding refuses in any string: PostgreSQL stores
// no NUL, and invalid UTF-8 is not text.
func SmallPart(r io.Reader, field string, limit int) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if own := (*errs.Error)(nil); errors.As(err, &own) { // too slow
		return "", own
	}
	if err != nil {
		return "", errs.Field(errs.Body, field, errs.Malformed, "%s could not be read", field)
	}
	if len(b) > limit {
		return "", &errs.Error{Code: errs.TooLarge, Message: field + " is too large", Where: errs.Body,
			Fields: map[string]string{field: "too_large"}}
	}
	if why := printable.Storable(string(b)); why != "" {
		return "", errs.Field(errs.Body, field, errs.Invalid_, "%s %s", field, why)
	}
	return string(b), nil
}

// TooBig reports a body read past its http.MaxBytesReader limit.
func TooBig(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}
