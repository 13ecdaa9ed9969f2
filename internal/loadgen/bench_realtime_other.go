//go:build !unix

package loadgen

// benchRaiseNoFile reports 0 (unknown) where there is no RLIMIT_NOFILE:
// the connection count is then not checked against it.
func benchRaiseNoFile() (uint64, error) { return 0, nil }
