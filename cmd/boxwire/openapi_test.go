package main

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/boxwire/boxwire/internal/api"
	"github.com/boxwire/boxwire/internal/api/openapi"
)

// documentRoutes lists the document's operations as mux patterns
// ("GET /boxes/{id}"), HEAD left out: the mux answers HEAD on GET routes.
func documentRoutes(t *testing.T, doc []byte) []string {
	t.Helper()
	var d struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	var out []string
	for path, item := range d.Paths {
		for method := range item {
			switch method {
			case "get", "put", "post", "delete", "options", "patch":
				out = append(out, strings.ToUpper(method)+" "+path)
			case "head":
				if _, ok := item["get"]; !ok {
					t.Errorf("HEAD %s is documented without GET: the mux serves HEAD only on GET routes", path)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIDocumentsEveryRoute walks the server's route table: a route
// added without documenting it, or a documented path that is no route,
// fails here, named.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	routes := ts.http.Handler.(*api.Handler).Routes()
	if len(routes) < 100 {
		t.Fatalf("only %d routes listed", len(routes))
	}
	res, err := http.Get(ts.URL() + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	written, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(served) != string(written) {
		t.Fatal("GET /openapi.json does not serve the document in the repository")
	}
	documented := documentRoutes(t, served)
	for _, r := range routes {
		if _, skip := notInDocument[r]; skip {
			continue
		}
		if !slices.Contains(documented, r) {
			t.Errorf("route %q is not in internal/api/openapi/openapi.yaml", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("internal/api/openapi/openapi.yaml documents %q, which is no route", d)
		}
	}
	for r := range notInDocument {
		if !slices.Contains(routes, r) && r != "POST /_test/clock" {
			t.Errorf("notInDocument names %q, which is no route any more", r)
		}
	}
}
