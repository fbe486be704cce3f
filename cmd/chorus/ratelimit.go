package main

import (
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/chorus-wall/chorus/config"
)

// limiter keeps one token bucket per key (a webhook source, a credential,
// a client address) and answers 429 with Retry-After past it.
type limiter struct {
	name    string
	rate    config.Rate
	log     *slog.Logger
	refused prometheus.Counter
	now     func() time.Time

	mu      sync.Mutex
	keys    map[string]*bucket
	swept   time.Time
	maxIdle time.Duration
}

// bucket is one key's tokens, and how many refusals its last log line has
// not told yet: a flood is logged once a second per key, with its count.
type bucket struct {
	lim        *rate.Limiter
	seen       time.Time
	logged     time.Time
	suppressed int
}

// refusedCalls counts calls refused by each limit.
func refusedCalls(reg prometheus.Registerer) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "chorus_http_rate_limited_total",
		Help: "HTTP calls answered 429 by a rate limit (limit: webhook or admin).",
	}, []string{"limit"})
	reg.MustRegister(v)
	return v
}

func newLimiter(name string, r config.Rate, log *slog.Logger, refused *prometheus.CounterVec) *limiter {
	return &limiter{
		name: name, rate: r, log: log, refused: refused.WithLabelValues(name), now: time.Now,
		keys: map[string]*bucket{}, maxIdle: 10 * time.Minute,
	}
}

// allow takes a token for key, or answers 429 with Retry-After (whole
// seconds, at least 1) and logs the refusal with attrs.
func (l *limiter) allow(c echo.Context, key string, attrs ...any) error {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b, ok := l.keys[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(l.rate.PerSecond), l.rate.Burst)}
		l.keys[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	delay := r.DelayFrom(now)
	if delay == 0 {
		return nil
	}
	r.CancelAt(now)
	l.refused.Inc()
	if now.Sub(b.logged) >= time.Second {
		l.log.Warn("rate limited", append([]any{"limit", l.name, "key", key, "method", c.Request().Method,
			"path", c.Request().URL.Path, "remote", c.RealIP(), "refused", b.suppressed + 1,
			"per_second", l.rate.PerSecond, "burst", l.rate.Burst}, attrs...)...)
		b.logged, b.suppressed = now, 0
	} else {
		b.suppressed++
	}
	retry := int(math.Ceil(delay.Seconds()))
	c.Response().Header().Set("Retry-After", strconv.Itoa(max(retry, 1)))
	return echo.NewHTTPError(http.StatusTooManyRequests, "too many calls: "+l.name+" allows "+
		strconv.FormatFloat(l.rate.PerSecond, 'g', -1, 64)+" per second; retry after "+strconv.Itoa(max(retry, 1))+" s")
}

// sweep forgets keys idle for maxIdle, once a minute, so a flood from many
// addresses cannot grow the map without end. The caller holds mu.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Minute {
		return
	}
	l.swept = now
	for k, b := range l.keys {
		if now.Sub(b.seen) > l.maxIdle {
			delete(l.keys, k)
		}
	}
}
