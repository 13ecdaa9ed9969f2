// Command fsyncgap measures how long fdatasync takes on a disk, back to
// back and after the disk has been left idle, for bench/peers.sh and
// BENCHMARKS.md. Each durable append waits for one fdatasync of SQLite's
// WAL; under load they follow each other closely, but a lone publish
// (the fan-out benchmark: one every 50 ms) meets the disk idle. On a
// virtual disk the two can differ twentyfold, and that difference is in
// every figure that includes a durable write.
//
// It overwrites a preallocated file, as the WAL is overwritten once it has
// wrapped, so no fdatasync has to journal a new file size.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const fileSize = 4 << 20 // about the WAL's size between checkpoints

func main() {
	dir := flag.String("dir", os.TempDir(), "directory on the disk to measure (the data directory's)")
	size := flag.Int("size", 20<<10, "bytes written before each fdatasync (a lone append writes about five 4 KiB WAL frames)")
	n := flag.Int("n", 60, "fdatasyncs per pause")
	pauses := flag.String("pauses", "0,1ms,5ms,50ms", "idle time before each fdatasync, comma-separated")
	flag.Parse()
	if err := run(*dir, *size, *n, *pauses); err != nil {
		log.Fatal(err)
	}
}

// run measures and prints; it returns instead of exiting so that the
// file is always removed.
func run(dir string, size, n int, pauses string) error {
	gaps, err := parsePauses(pauses)
	if err != nil {
		return err
	}
	if size < 1 || size > fileSize || n < 2 {
		return fmt.Errorf("-size must be 1 to %d and -n at least 2", fileSize)
	}
	f, err := os.CreateTemp(dir, "fsyncgap-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := prepare(f); err != nil {
		return err
	}
	fmt.Printf("fdatasync of %d bytes overwritten in %s, %d times per pause\n", size, filepath.Dir(f.Name()), n)
	for _, gap := range gaps {
		d, err := measure(f, size, n, gap)
		if err != nil {
			return err
		}
		fmt.Printf("pause %-6v p50 %8.3f ms  p90 %8.3f ms\n", gap, ms(d[len(d)/2]), ms(d[len(d)*9/10]))
	}
	return nil
}

func parsePauses(s string) ([]time.Duration, error) {
	var gaps []time.Duration
	for _, p := range strings.Split(s, ",") {
		d, err := time.ParseDuration(p) // "0" needs no unit
		if err != nil || d < 0 {
			return nil, fmt.Errorf("-pauses: %q is not a duration", p)
		}
		gaps = append(gaps, d)
	}
	return gaps, nil
}

// prepare writes the whole file and syncs it, so that later writes
// overwrite allocated blocks.
func prepare(f *os.File) error {
	if _, err := f.Write(make([]byte, fileSize)); err != nil {
		return err
	}
	return unix.Fsync(int(f.Fd()))
}

// measure writes size bytes and fdatasyncs n times, pausing gap before
// each, and returns the fdatasync times sorted.
func measure(f *os.File, size, n int, gap time.Duration) ([]time.Duration, error) {
	buf := make([]byte, size)
	ds := make([]time.Duration, 0, n)
	var off int64
	for range n {
		time.Sleep(gap)
		if _, err := f.WriteAt(buf, off); err != nil {
			return nil, err
		}
		if off += int64(size); off+int64(size) > fileSize {
			off = 0 // from the start again, as the WAL after a checkpoint
		}
		began := time.Now()
		if err := unix.Fdatasync(int(f.Fd())); err != nil {
			return nil, err
		}
		ds = append(ds, time.Since(began))
	}
	slices.Sort(ds)
	return ds, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
