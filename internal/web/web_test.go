package web

import (
	"sort"
	"strings"
	"testing"
)

// TestPageWeight keeps the app under its budget: everything a first visit
// downloads, gzip-compressed as served, under 300 KB.
func TestPageWeight(t *testing.T) {
	const budget = 300 << 10
	sizes := New().Sizes()
	total := 0
	var names []string
	for name, n := range sizes {
		total += n
		names = append(names, name)
	}
	sort.Strings(names)
	if total > budget {
		t.Fatalf("the app weighs %d bytes compressed, over the %d budget: %v", total, budget, sizes)
	}
	for _, want := range []string{"index.html", "main.js", "style.css", "vendor/tweetnacl/nacl-fast.min.js", "vendor/tweetnacl/LICENSE"} {
		if _, ok := sizes[want]; !ok {
			t.Fatalf("%s is not embedded: %v", want, names)
		}
	}
	t.Logf("%d files, %d bytes gzip-compressed", len(sizes), total)
}

// TestNoInlineScript: the CSP forbids inline scripts, so the page must
// have none (it would silently not run).
func TestNoInlineScript(t *testing.T) {
	page := string(New().assets["index.html"].raw)
	for _, tag := range strings.Split(page, "<script")[1:] {
		if !strings.Contains(strings.SplitN(tag, ">", 2)[0], "src=") {
			t.Fatalf("an inline script in index.html: <script%.80s", tag)
		}
	}
}
