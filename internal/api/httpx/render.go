package httpx

import (
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"sort"
	"strconv"

	"github.com/boxwire/boxwire/internal/errs"
)

// Renderer writes an error in one surface's shape. Each surface has
// exactly one; nothing else writes error bodies.
type Renderer func(w http.ResponseWriter, r *http.Request, err error)

// Status maps an error code to its HTTP status.
func Status(c errs.Code) int {
	switch c {
	case errs.Invalid:
		return http.StatusBadRequest
	case errs.Unauthorized:
		return http.StatusUnauthorized
	case errs.Forbidden:
		return http.StatusForbidden
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Conflict:
		return http.StatusConflict
	case errs.Gone:
		return http.StatusGone
	case errs.TooLarge:
		return http.StatusRequestEntityTooLarge
	case errs.RateLimited:
		return http.StatusTooManyRequests
	case errs.Timeout:
		return http.StatusRequestTimeout
	case errs.InsufficientStorage:
		return http.StatusInsufficientStorage
	}
	return http.StatusInternalServerError
}

// prepare logs server-side failures (with the request id, via the
// request's logger), hides their cause, and sets Retry-After. A 5xx other
// than 500 keeps its message, which is written for the client (507 says
// the disk is full); the cause, with its paths, only reaches the log.
func prepare(w http.ResponseWriter, r *http.Request, err error) (*errs.Error, int) {
	e := errs.As(err)
	status := Status(e.Code)
	if status >= 500 {
		Log(r.Context()).LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("error", err.Error()), slog.String("path", r.URL.Path))
		if status == http.StatusInternalServerError {
			e = &errs.Error{Code: errs.Internal, Message: "internal error"}
		} else {
			e = &errs.Error{Code: e.Code, Message: e.Message}
		}
	}
	if e.Code == errs.RateLimited && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	}
	if e.Code == errs.Unauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="boxwire"`)
	}
	return e, status
}

// Misakey renders the boxes surface's shape:
// {"code", "origin", "desc", "details": {field: reason}}.
func Misakey(w http.ResponseWriter, r *http.Request, err error) {
	e, status := prepare(w, r, err)
	origin := e.Where
	if origin == "" {
		origin = errs.NotDefined
	}
	details := e.Fields
	if details == nil {
		details = map[string]string{}
	}
	JSON(w, status, map[string]any{"code": misakeyCodes[e.Code], "origin": origin, "desc": e.Message, "details": details})
}

var misakeyCodes = map[errs.Code]string{
	errs.Invalid: "bad_request", errs.Unauthorized: "unauthorized", errs.Forbidden: "forbidden",
	errs.NotFound: "not_found", errs.Conflict: "conflict", errs.Gone: "gone",
	errs.TooLarge: "request_entity_too_large", errs.RateLimited: "too_many_requests", errs.Internal: "internal",
	errs.Timeout: "request_timeout", errs.InsufficientStorage: "insufficient_storage",
}

// Box renders the Box-compatible event stream's shape:
// {"type": "error", "status", "code", "message", "request_id"}.
func Box(w http.ResponseWriter, r *http.Request, err error) {
	e, status := prepare(w, r, err)
	body := map[string]any{"type": "error", "status": status, "code": boxCodes[e.Code], "message": e.Message,
		"request_id": RequestID(r.Context())}
	if len(e.Fields) > 0 {
		var list []map[string]string
		for _, f := range sortedFields(e) {
			list = append(list, map[string]string{"name": f, "reason": e.Fields[f], "message": e.Message})
		}
		body["context_info"] = map[string]any{"errors": list}
	}
	JSON(w, status, body)
}

var boxCodes = map[errs.Code]string{
	errs.Invalid: "bad_request", errs.Unauthorized: "unauthorized", errs.Forbidden: "forbidden",
	errs.NotFound: "not_found", errs.Conflict: "conflict", errs.Gone: "trashed",
	errs.TooLarge: "request_entity_too_large", errs.RateLimited: "rate_limit_exceeded", errs.Internal: "internal_server_error",
	errs.Timeout: "request_timeout", errs.InsufficientStorage: "insufficient_storage",
}

// Problem renders RFC 9457 application/problem+json for the messaging
// surface, with the stable code, the request id and the fields at fault.
func Problem(w http.ResponseWriter, r *http.Request, err error) {
	e, status := prepare(w, r, err)
	body := map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status,
		"detail": e.Message, "code": string(e.Code), "requestId": RequestID(r.Context())}
	if len(e.Fields) > 0 {
		var list []map[string]string
		for _, f := range sortedFields(e) {
			list = append(list, map[string]string{"field": f, "reason": e.Fields[f], "in": string(e.Where)})
		}
		body["errors"] = list
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func sortedFields(e *errs.Error) []string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// JSON writes v as a JSON response.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Recover turns a panic into a 500 in the surface's shape, logged with the
// request id; the client learns nothing of the cause.
func Recover(render Renderer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			render(w, r, errs.Wrap(panicError{p}, "handler panicked"))
		}()
		next.ServeHTTP(w, r)
	})
}

type panicError struct{ v any }

func (p panicError) Error() string { return "panic: " + toString(p.v) }

func toString(v any) string {
	if e, ok := v.(error); ok {
		return e.Error()
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
