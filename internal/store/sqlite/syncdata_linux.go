package sqlite

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncData makes the WAL's written bytes durable with fdatasync, as SQLite
// itself does: the WAL is reused from its start after each checkpoint, so
// its size rarely changes, and fsync would also journal the new
// modification time: one more filesystem journal commit per batch, on the
// path every durable write waits on.
func syncData(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}
