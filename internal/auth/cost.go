//go:build !race

package auth

// argon2id cost: OWASP's recommendation (19 MiB, 2 passes, 1 lane). A build
// with the race detector uses cost_race.go instead.
const (
	argonMemory = 19 * 1024
	argonTime   = 2
)

// dummyHash is checked when a login names no known identity, so that the
// answer takes as long as for a wrong password. It is a constant: hashing
// one at start-up cost 19 MiB of memory and 30 ms for nothing.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$DgXKRT6kTqYKQilRhl6jtQ$si/P3SZ3sC0z93dQ6HFK4IZwZVmxJzlPyPfb2h8ZIEc"
