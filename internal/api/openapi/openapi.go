// Package openapi holds Boxwire's OpenAPI 3.1 document: written by hand
// once, in openapi.yaml, and served as JSON at GET /openapi.json. Tests
// in cmd/boxwire keep it true: every route is in it, and the end-to-end
// traffic is validated against it.
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"go.yaml.in/yaml/v3"
)

// YAML is the document as written.
//
//go:embed openapi.yaml
var YAML []byte

var (
	once    sync.Once
	asJSON  []byte
	jsonErr error
)

// JSON is the document as JSON, converted once from YAML.
func JSON() ([]byte, error) {
	once.Do(func() {
		var doc any
		if err := yaml.Unmarshal(YAML, &doc); err != nil {
			jsonErr = fmt.Errorf("openapi.yaml: %w", err)
			return
		}
		asJSON, jsonErr = json.Marshal(doc)
	})
	return asJSON, jsonErr
}

// Handler serves the document as JSON.
func Handler(w http.ResponseWriter, r *http.Request) {
	b, err := JSON()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(b)
}
