//go:build !race

package auth_test

import (
	"strings"
	"testing"

	"github.com/boxwire/boxwire/internal/auth"
)

// TestPasswordCost pins the production cost of password hashes: OWASP's
// argon2id recommendation (19 MiB, 2 passes, 1 lane).
func TestPasswordCost(t *testing.T) {
	h, err := auth.HashPassword("s3cret-pass")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not argon2id at OWASP's cost", h)
	}
}
