package loadgen

import (
	"testing"
	"time"
)

// The fan-out's publisher starts each POST on the first tick after the
// previous one's 201: a slow POST makes it skip ticks, never burst.
func TestFanoutPacer(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	p := fanoutPacer{start: t0, interval: 10 * time.Millisecond}
	steps := []struct {
		ack, want time.Time
		missed    int
	}{
		{ms(3), ms(10), 0},  // acknowledged within its tick: the next tick
		{ms(12), ms(20), 0}, // the same
		{ms(20), ms(30), 0}, // acknowledged on the tick: that tick has passed
		{ms(55), ms(60), 2}, // took 25 ms: ticks 40 and 50 are skipped, not sent back to back
		{ms(61), ms(70), 2},
	}
	for i, s := range steps {
		if got := p.next(s.ack); !got.Equal(s.want) || p.missed != s.missed {
			t.Errorf("step %d: ack at %v: next %v, %d missed; want %v, %d", i, s.ack.Sub(t0), got.Sub(t0), p.missed, s.want.Sub(t0), s.missed)
		}
	}
	back := fanoutPacer{start: t0}
	if got := back.next(ms(7)); !got.Equal(ms(7)) || back.missed != 0 {
		t.Errorf("no interval: next %v, %d missed; want at once", got.Sub(t0), back.missed)
	}
}
