// Package webhook delivers the organisations' outbound webhooks (DESIGN
// §6). Each enabled hook follows its organisation's view of the journal
// from its stored position and receives every entry of its type, in
// order, signed per Standard Webhooks, at least once: the position moves
// only after a delivery succeeds, so a restart resumes where it stopped.
package webhook

import (
	"context"
	"errors"
	"github.com/google/uuid"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/journal"
	"github.com/boxwire/boxwire/internal/msgrules"
	"github.com/boxwire/boxwire/internal/store"
)

// Defaults of a Dispatcher's settings.
const (
	DefaultTimeout = 10 * time.Second
	firstBackoff   = time.Second
	maxBackoff     = 5 * time.Minute
)

// readBatch is how many journal entries a hook reads at once; skipped
// entries of other types are recorded once per batch, not one by one.
const readBatch = 100

// Dispatcher delivers webhooks. Set its fields, then call Run once;
// Wake may be called at any time, also before Run.
type Dispatcher struct {
	Store *store.Store
	// Guard decides which addresses deliveries may connect to; nil is
	// the zero Guard, which refuses the server's own network. Deliveries
	// go through its Client: no proxy, no redirects.
	Guard *Guard
	// MaxFailures disables a hook after this many consecutive failed
	// deliveries; 0 means never.
	MaxFailures int
	// Backoff is the wait before retrying after the failures-th
	// consecutive failure. Default DefaultBackoff.
	Backoff func(failures int) time.Duration
	// Timeout bounds one attempt, until the response's status. Default
	// DefaultTimeout.
	Timeout time.Duration
	Log     *slog.Logger
	// Now gives the webhook-timestamp of an attempt. Default time.Now.
	Now func() time.Time
	// OnDelivery, if set, hears each attempt's outcome: "delivered",
	// "failed", or "disabled" (the failure that disabled the hook).
	OnDelivery func(outcome string)

	wakeOnce sync.Once
	wake     chan struct{}
	nodeOnce sync.Once
	nodeID   string
	httpOnce sync.Once
	http     *http.Client
}

// errStopped ends a hook's deliveries: it was disabled or deleted.
var errStopped = errors.New("webhook stopped")

// Wake says that new journal entries committed. It never blocks: wake-ups
// that arrive together are merged, since each one means "read again".
func (d *Dispatcher) Wake() {
	select {
	case d.wakeChan() <- struct{}{}:
	default:
	}
}

func (d *Dispatcher) wakeChan() chan struct{} {
	d.wakeOnce.Do(func() { d.wake = make(chan struct{}, 1) })
	return d.wake
}

// hookWorker is the goroutine that delivers one hook's entries.
type hookWorker struct {
	wake chan struct{}
}

// Run delivers until ctx ends, then waits for its goroutines to finish.
// Each enabled hook gets its own goroutine, so a hook that fails or
// answers slowly never delays another. The hooks are listed again every
// journal.SafetyPoll, which starts the hooks created or re-enabled since,
// and also covers wake-ups that were lost.
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer d.release(ctx)
	defer wg.Wait()
	workers := map[string]*hookWorker{}
	exited := make(chan string)
	tick := time.NewTicker(journal.SafetyPoll)
	defer tick.Stop()
	d.startWorkers(ctx, workers, exited, &wg)
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-exited:
			delete(workers, id)
		case <-d.wakeChan():
			nudge(workers)
		case <-tick.C:
			d.startWorkers(ctx, workers, exited, &wg)
			nudge(workers)
		}
	}
}

// startWorkers starts a goroutine for each enabled hook that has none.
func (d *Dispatcher) startWorkers(ctx context.Context, workers map[string]*hookWorker, exited chan<- string, wg *sync.WaitGroup) {
	hooks, err := d.Store.EnabledWebhooks(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.log().Error("webhooks: list enabled hooks", "error", err)
		}
		return
	}
	for _, h := range hooks {
		if workers[h.WebhookID] != nil {
			continue
		}
		w := &hookWorker{wake: make(chan struct{}, 1)}
		workers[h.WebhookID] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.follow(ctx, h.OrgID, h.WebhookID, w.wake)
			select {
			case exited <- h.WebhookID:
			case <-ctx.Done():
			}
		}()
	}
}

func nudge(workers map[string]*hookWorker) {
	for _, w := range workers {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// follow delivers one hook's entries until ctx ends or the hook stops. A
// store failure also ends it, logged; Run starts it again on its next
// tick, which paces the retries.
func (d *Dispatcher) follow(ctx context.Context, orgID, id string, wake <-chan struct{}) {
	for {
		more, err := d.deliverBatch(ctx, orgID, id)
		switch {
		case ctx.Err() != nil, errors.Is(err, errStopped):
			return
		case err != nil:
			d.log().Error("webhooks: delivery stopped", "webhook", id, "error", err)
			return
		case more:
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		}
	}
}

// deliverBatch reads the next entries of the hook's organisation after
// its position and delivers those of its type, one at a time, in order.
// more reports a full batch: there may be more to read at once.
//
// It only reads until there is something to write: deliver takes the
// lease before each attempt, and recording skipped entries takes it too,
// so a node without the lease writes nothing and stops. A wake-up is
// shared by every hook of every organisation, so a write here would be
// one durable transaction per hook per wake-up, most of them with nothing
// to deliver.
func (d *Dispatcher) deliverBatch(ctx context.Context, orgID, id string) (more bool, err error) {
	h, err := d.Store.Webhook(ctx, orgID, id)
	if err != nil {
		return false, stopIfGone(err)
	}
	if !h.IsEnabled {
		return false, errStopped
	}
	entries, err := d.Store.ReadJournal(ctx, journal.Query{After: h.Position,
		Scopes: []string{msgrules.OrgScope(orgID)}, Limit: readBatch})
	if err != nil {
		return false, err
	}
	var skipped int64 // the last entry passed over since the last delivery
	for _, e := range entries {
		delivered := false
		if receives(h.Type, e.Type) {
			if h, delivered, err = d.deliver(ctx, h, e); err != nil {
				return false, err
			}
		}
		if delivered {
			skipped = 0
		} else {
			skipped = e.Position
		}
	}
	if skipped > 0 {
		err = d.Store.Write(context.WithoutCancel(ctx), func(ctx context.Context, tx *store.Tx) error {
			return tx.SkipWebhook(ctx, id, d.node(), skipped, tx.Now().Add(leaseTTL))
		})
	}
	return len(entries) == readBatch, stopIfGone(err)
}

// receives reports whether a hook of type hookType is sent an entry:
// T.created and T.updated go to hooks of type T.
func receives(hookType, entryType string) bool {
	kind, _, ok := strings.Cut(entryType, ".")
	return ok && kind == hookType
}

// leaseTTL is how long a node keeps a hook to itself after its last
// attempt; another node takes the hook over once it lapses.
const leaseTTL = 30 * time.Second

// current re-reads the hook, so that an admin's change, disabling or
// deletion takes effect before the next attempt, and renews this node's
// lease on it. While another node holds the lease the worker stops; Run
// starts it again on its next tick, to take over if that node is gone.
func (d *Dispatcher) current(ctx context.Context, orgID, id string) (msgrules.Webhook, error) {
	var h msgrules.Webhook
	var mine bool
	err := d.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		if h, err = tx.Webhook(ctx, orgID, id); err != nil || !h.IsEnabled {
			return err
		}
		mine, err = tx.LeaseWebhook(ctx, id, d.node(), tx.Now().Add(leaseTTL))
		return err
	})
	if err == nil && (!h.IsEnabled || !mine) {
		return h, errStopped
	}
	return h, stopIfGone(err)
}

// release gives up this node's leases once its workers have ended.
func (d *Dispatcher) release(ctx context.Context) {
	err := d.Store.Write(context.WithoutCancel(ctx), func(ctx context.Context, tx *store.Tx) error {
		return tx.ReleaseWebhooks(ctx, d.node())
	})
	if err != nil {
		d.log().Warn("webhooks: releasing leases failed; other nodes take over in "+leaseTTL.String(), "error", err)
	}
}

// node names this dispatcher in webhook leases.
func (d *Dispatcher) node() string {
	d.nodeOnce.Do(func() { d.nodeID = uuid.NewString() })
	return d.nodeID
}

func stopIfGone(err error) error {
	if errs.CodeOf(err) == errs.NotFound {
		return errStopped
	}
	return err
}

// deliver sends e to the hook until it succeeds, retrying with backoff.
// delivered is false when the entry is passed over: the hook no longer
// takes e's type (an admin changed it), or another node delivered it.
func (d *Dispatcher) deliver(ctx context.Context, h msgrules.Webhook, e journal.Entry) (_ msgrules.Webhook, delivered bool, err error) {
	body, err := deliveryBody(e)
	if err != nil {
		return h, false, err
	}
	for {
		if h, err = d.current(ctx, h.OrgID, h.WebhookID); err != nil {
			return h, false, err
		}
		if !receives(h.Type, e.Type) || e.Position <= h.Position {
			return h, false, nil
		}
		cause := d.post(ctx, h, e.ID, body)
		if ctx.Err() != nil {
			// Shutting down is not the receiver's failure; the entry is
			// sent again after the restart.
			return h, false, ctx.Err()
		}
		if cause == nil {
			d.observe("delivered")
			return h, true, d.delivered(ctx, h, e)
		}
		if h, err = d.failed(ctx, h, e, cause); err != nil {
			return h, false, err
		}
		if err := sleep(ctx, d.backoff(h.FailureCount)); err != nil {
			return h, false, err
		}
	}
}

// delivered moves the hook past e and ends its run of failures. The write
// outlives ctx: a delivery that happened should be recorded even during
// shutdown, or it would be sent again.
func (d *Dispatcher) delivered(ctx context.Context, h msgrules.Webhook, e journal.Entry) error {
	return stopIfGone(d.Store.Write(context.WithoutCancel(ctx), func(ctx context.Context, tx *store.Tx) error {
		return tx.AdvanceWebhook(ctx, h.WebhookID, e.Position)
	}))
}

// failed counts a failed attempt and disables the hook at MaxFailures.
// The count is read in the write transaction, so an admin's re-enable
// (which clears it) is not overwritten with a stale count.
func (d *Dispatcher) failed(ctx context.Context, h msgrules.Webhook, e journal.Entry, cause error) (msgrules.Webhook, error) {
	var stopped, disable bool
	err := d.Store.Write(context.WithoutCancel(ctx), func(ctx context.Context, tx *store.Tx) error {
		cur, err := tx.Webhook(ctx, h.OrgID, h.WebhookID)
		if err != nil {
			return err
		}
		if stopped = !cur.IsEnabled; stopped {
			return nil // an admin disabled it during the attempt
		}
		h = cur
		h.FailureCount, disable = msgrules.WebhookFailures(cur.FailureCount, d.MaxFailures, false)
		return tx.WebhookFailed(ctx, h.WebhookID, h.FailureCount, disable)
	})
	switch {
	case err != nil:
		return h, stopIfGone(err)
	case stopped:
		return h, errStopped
	}
	d.log().Warn("webhooks: delivery failed", "webhook", h.WebhookID, "entry", e.ID,
		"failureCount", h.FailureCount, "error", cause)
	if !disable {
		d.observe("failed")
	}
	if disable {
		d.observe("disabled")
		d.log().Warn("webhooks: hook disabled after consecutive failures", "webhook", h.WebhookID,
			"failureCount", h.FailureCount)
		h.IsEnabled = false
		return h, errStopped
	}
	return h, nil
}

func (d *Dispatcher) observe(outcome string) {
	if d.OnDelivery != nil {
		d.OnDelivery(outcome)
	}
}

// sleep waits for d or until ctx ends. A wake-up does not cut it short: a
// failing receiver is not retried faster because the journal is busy.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// DefaultBackoff doubles from one second up to five minutes. The wait is
// drawn between half and all of that, so hooks that failed together (a
// receiver that was down) do not all retry at the same instant.
func DefaultBackoff(failures int) time.Duration {
	wait := maxBackoff
	if failures < 1 {
		failures = 1
	}
	if failures <= 20 { // beyond, the shift is far above the cap anyway
		wait = min(firstBackoff<<(failures-1), maxBackoff)
	}
	return wait/2 + rand.N(wait/2+1)
}

func (d *Dispatcher) backoff(failures int) time.Duration {
	if d.Backoff != nil {
		return d.Backoff(failures)
	}
	return DefaultBackoff(failures)
}

func (d *Dispatcher) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.Default()
}
