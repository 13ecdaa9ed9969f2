//go:build race

package auth

// Under the race detector argon2's memory-hard loop runs about five times
// slower (over a second a hash on the CI machine), and the end-to-end
// tests create and sign in hundreds of users: the race build, which
// hunts data races, not password strength, hashes at a token cost. Every
// build without -race (the README's `go test ./...`, CI's PostgreSQL run,
// the binary) uses the real cost, which TestPasswordCost pins. The cost is
// in each hash's PHC string, so either build checks the other's hashes.
const (
	argonMemory = 64
	argonTime   = 1
)

// dummyHash: as in cost.go, at this build's cost.
const dummyHash = "$argon2id$v=19$m=64,t=1,p=1$DgXKRT6kTqYKQilRhl6jtQ$qvX4I3m5CKk6Ek4bEwYnSQ8tJQ5dEo1MZIiMl7i2S7o"
