package httpx

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/errs"
)

// RateLimit allows each (user, calling application) pair Rate requests
// a second with bursts of Burst: seed 004 identifies the application
// with X-Calling-Application at sign-in so that one noisy integration
// does not starve the user's others. Buckets idle for ten minutes are
// forgotten, which bounds the memory to the pairs recently active.
type RateLimit struct {
	Rate  float64
	Burst int
	Now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

const idleBucket = 10 * time.Minute

// Wrap refuses a request over the limit with 429 and Retry-After, in the
// surface's shape. It runs after authentication: the caller is known.
func (l *RateLimit) Wrap(render Renderer) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, _ := auth.CallerFrom(r.Context())
			if wait := l.take(c.Identity.ID+"\x00"+c.App, l.now()); wait > 0 {
				secs := int(math.Ceil(wait.Seconds()))
				render(w, r, &errs.Error{Code: errs.RateLimited, RetryAfter: time.Duration(secs) * time.Second,
					Message: "too many requests for this user and calling application; retry after " + strconv.Itoa(secs) + "s"})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func (l *RateLimit) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// take spends a token of key's bucket, or says how long until one is due.
func (l *RateLimit) take(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	if now.Sub(l.swept) > idleBucket {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > idleBucket {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(l.Rate), l.Burst)}
		l.buckets[key] = b
	}
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d
	}
	return 0
}
