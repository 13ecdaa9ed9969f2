//go:build unix

package loadgen

import "syscall"

// benchRaiseNoFile raises this process's open-file soft limit to its hard
// limit (Go already does so at start since 1.19; this checks it) and
// returns the soft limit in force.
func benchRaiseNoFile() (uint64, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, err
	}
	if r.Cur < r.Max {
		raised := r
		raised.Cur = r.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			r = raised
		}
	}
	return uint64(r.Cur), nil
}
