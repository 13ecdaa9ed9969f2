package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/errs"
)

// MaxJSONBody bounds a JSON request body.
const MaxJSONBody = 1 << 20

// DecodeJSON reads one JSON value from the body into dst, naming what is
// wrong: the body, a field of the wrong type, text no store can keep
// alike (see jsonTextProblem), or the size.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return errs.Field(errs.Headers, "Content-Type", errs.Invalid_, "the body must be application/json")
		}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxJSONBody))
	if err != nil {
		return jsonError(err)
	}
	if err := jsonTextProblem(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return errs.Field(errs.Body, "body", errs.Malformed, "the body must hold one JSON value")
	}
	if _, err := dec.Token(); err != nil && !errors.Is(err, io.EOF) {
		return jsonError(err)
	}
	return nil
}

func jsonError(err error) error {
	var (
		syntax  *json.SyntaxError
		typ     *json.UnmarshalTypeError
		tooBig  *http.MaxBytesError
		invalid *json.InvalidUnmarshalError
		own     *errs.Error
	)
	switch {
	case errors.As(err, &own): // the body's reader said why (too slow)
		return own
	case errors.Is(err, io.EOF):
		return errs.Field(errs.Body, "body", errs.Required, "a JSON body is required")
	case errors.As(err, &tooBig):
		return &errs.Error{Code: errs.TooLarge, Message: "the body is too large", Where: errs.Body,
			Fields: map[string]string{"body": "too_large"}}
	case errors.As(err, &typ) && typ.Field != "":
		return errs.Field(errs.Body, typ.Field, errs.Malformed, "%s must be a JSON %s", typ.Field, jsonKind(typ.Type.Kind().String()))
	case errors.As(err, &syntax), errors.As(err, &typ), errors.Is(err, io.ErrUnexpectedEOF):
		return errs.Field(errs.Body, "body", errs.Malformed, "the body is not valid JSON")
	case errors.As(err, &invalid):
		return errs.Wrap(err, "decode")
	}
	return errs.Field(errs.Body, "body", errs.Malformed, "the body could not be read: %v", err)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	}
	return "number"
}

// PathUUID returns the path value name, refusing anything not a UUID.
func PathUUID(r *http.Request, name string) (string, error) {
	v := r.PathValue(name)
	if uuid.Validate(v) != nil {
		return "", errs.Field(errs.Path, name, errs.Malformed, "%s must be a UUID", name)
	}
	return v, nil
}

// QueryInt reads a non-negative integer query parameter; absent gives def.
func QueryInt(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errs.Field(errs.Query, name, errs.Invalid_, "%s must be a non-negative integer", name)
	}
	return n, nil
}
