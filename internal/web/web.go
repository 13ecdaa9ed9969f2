// Package web serves the browser app: static files embedded in the binary
// (no build step: ES modules, CSS and vendored libraries as written), so
// `boxwire serve` needs no Node.js. The app talks only to the public API.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed app
var files embed.FS

// Prefix is where the app's assets are served; the page itself is at "/"
// and, for a browser opening an invitation link, at /boxes/{id}.
const Prefix = "/app/"

// csp lets the page load only its own scripts and talk only to its own
// origin: no inline script, no third party, no framing.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

// asset is one embedded file, with its gzip form and validator made once.
type asset struct {
	name, kind, etag string
	raw, gz          []byte
}

// App serves the embedded app.
type App struct{ assets map[string]*asset }

// New loads the embedded files.
func New() *App {
	a := &App{assets: map[string]*asset{}}
	sub, _ := fs.Sub(files, "app")
	fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(raw)
		kind := mime.TypeByExtension(path.Ext(p))
		if kind == "" {
			kind = "application/octet-stream"
		}
		a.assets[p] = &asset{name: p, kind: kind, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, raw: raw, gz: gzipped(raw)}
		return nil
	})
	return a
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// Sizes reports each asset's size, gzip-compressed, as sent to a browser.
func (a *App) Sizes() map[string]int {
	out := map[string]int{}
	for name, f := range a.assets {
		out[name] = len(f.gz)
	}
	return out
}

// Page serves the app's page (index.html).
func (a *App) Page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", csp)
	w.Header().Set("Referrer-Policy", "no-referrer")
	a.serve(w, r, a.assets["index.html"])
}

// Asset serves a file under Prefix, or calls notFound.
func (a *App) Asset(notFound http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, ok := a.assets[strings.TrimPrefix(r.URL.Path, Prefix)]
		if !ok || f.name == "index.html" {
			notFound(w, r)
			return
		}
		a.serve(w, r, f)
	}
}

// WantsPage reports a browser navigating to a URL (it asks for HTML),
// as opposed to an API client or the app's own fetch calls.
func WantsPage(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		r.Header.Get("Authorization") == "" && strings.Contains(r.Header.Get("Accept"), "text/html")
}

func (a *App) serve(w http.ResponseWriter, r *http.Request, f *asset) {
	h := w.Header()
	h.Set("Content-Type", f.kind)
	h.Set("X-Content-Type-Options", "nosniff")
	// Revalidate every time: the ETag makes it a 304 when nothing changed,
	// and a new binary is never shadowed by an old cached script.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	h.Add("Vary", "Accept-Encoding")
	body := f.raw
	if f.gz != nil && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// Links returns next with one change: a browser opening an invitation link
// (/boxes/{id}#share, the format `boxwire box invite` prints) gets the
// page, which joins the box; API clients asking the same path get the API.
func (a *App) Links(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := strings.CutPrefix(r.URL.Path, "/boxes/")
		if ok && id != "" && id != "joined" && !strings.Contains(id, "/") && WantsPage(r) {
			a.Page(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
