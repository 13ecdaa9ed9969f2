package httpx

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/printable"
)

// Mux is the server's router: an http.ServeMux that remembers every
// route registered on it, so a test can walk them all, and that refuses,
// on each, path and query values PostgreSQL cannot store as text (a NUL
// byte, invalid UTF-8) before the route's handler runs. SQLite would
// store them, PostgreSQL fails with a 500: checking once here makes both
// stores answer the same 400 on every route, present and future.
//
// Surface gives a view of the same Mux that renders the refusals in one
// surface's error shape; each surface's Register takes its view.
type Mux struct {
	mux    *http.ServeMux
	routes *[]string
	render Renderer
}

// NewMux returns an empty Mux rendering refusals with Problem.
func NewMux() *Mux {
	return &Mux{mux: http.NewServeMux(), routes: new([]string), render: Problem}
}

// Surface is m with refusals rendered by render.
func (m *Mux) Surface(render Renderer) *Mux {
	return &Mux{mux: m.mux, routes: m.routes, render: render}
}

// Handle registers h for pattern, as http.ServeMux does.
func (m *Mux) Handle(pattern string, h http.Handler) {
	m.mux.Handle(pattern, checkInput(m.render, wildcards(pattern), h))
	*m.routes = append(*m.routes, pattern)
}

// HandleFunc registers fn for pattern.
func (m *Mux) HandleFunc(pattern string, fn func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(fn))
}

func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.mux.ServeHTTP(w, r) }

// Routes are the patterns registered, sorted.
func (m *Mux) Routes() []string {
	out := append([]string(nil), *m.routes...)
	sort.Strings(out)
	return out
}

// wildcards are the names of pattern's path wildcards: {id}, {rest...}.
func wildcards(pattern string) []string {
	var names []string
	for rest := pattern; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			return names
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return names
		}
		if name := strings.TrimSuffix(rest[i+1:i+j], "..."); name != "$" {
			names = append(names, name)
		}
		rest = rest[i+j+1:]
	}
}

// checkInput refuses a request whose path wildcards or query hold text
// no store can keep alike, naming the parameter.
func checkInput(render Renderer, names []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, name := range names {
			if reason := printable.Storable(r.PathValue(name)); reason != "" {
				render(w, r, errs.Field(errs.Path, name, errs.Malformed, "%s %s", name, reason))
				return
			}
		}
		if err := checkValues(errs.Query, "query", r.URL.Query()); err != nil {
			render(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkValues refuses bad text in keys or values of a query or form;
// the field is the key, or whole when the key itself is bad.
func checkValues(where errs.Where, whole string, vals url.Values) error {
	for k, vs := range vals {
		if reason := printable.Storable(k); reason != "" {
			return errs.Field(where, whole, errs.Malformed, "a %s parameter name %s", whole, reason)
		}
		for _, v := range vs {
			if reason := printable.Storable(v); reason != "" {
				return errs.Field(where, k, errs.Malformed, "%s %s", k, reason)
			}
		}
	}
	return nil
}

// ParseForm parses a form-encoded body as r.ParseForm does and refuses
// the text a store cannot keep, naming the field.
func ParseForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		if own := (*errs.Error)(nil); errors.As(err, &own) { // too slow
			return own
		}
		return errs.Field(errs.Body, "body", errs.Malformed, "the form body could not be read")
	}
	return checkValues(errs.Body, "body", r.PostForm)
}
