//go:build !linux

package sqlite

import "os"

// syncData is fsync where fdatasync is not at hand (see syncdata_linux.go).
func syncData(f *os.File) error { return f.Sync() }
