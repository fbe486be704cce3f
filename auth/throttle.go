package auth

import (
	"math"
	"net"
	"sync"
	"time"

	"github.com/chorus-wall/chorus/connectors/lru"
)

// Limit is a leaky bucket of failures: Burst failures in a row are free,
// then one more attempt per Every.
type Limit struct {
	Burst int
	Every time.Duration
}

// Default throttles: a user name gets 5 wrong passwords, then one try a
// minute; an address gets 20 failures (a venue's shared connection), then
// one try every 15 seconds.
var (
	DefaultUserLimit    = Limit{Burst: 5, Every: time.Minute}
	DefaultAddressLimit = Limit{Burst: 20, Every: 15 * time.Second}
)

// Throttle slows down password guessing: it counts failed sign-ins (and
// setup codes) per user name and per client address, and says how long to
// wait before the next try. It lives in each process's memory; with
// several nodes an attacker gets each node's allowance, which still bounds
// guessing to a few tries a minute per node.
type Throttle struct {
	mu    sync.Mutex
	now   func() time.Time
	user  Limit
	addr  Limit
	users *lru.Cache[*bucket]
	addrs *lru.Cache[*bucket]
}

type bucket struct {
	level float64
	at    time.Time
}

// NewThrottle returns a throttle; now is the clock (time.Now when nil).
func NewThrottle(user, addr Limit, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	// Bounded: an attacker cycling names or addresses cannot grow memory;
	// the oldest entries are forgotten first.
	return &Throttle{now: now, user: user, addr: addr, users: lru.New[*bucket](10000), addrs: lru.New[*bucket](10000)}
}

// Wait is how long the caller must wait before trying user from addr
// (either may be ""); 0 means now.
func (t *Throttle) Wait(user, addr string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	return max(t.wait(t.users, t.user, user, now), t.wait(t.addrs, t.addr, addressKey(addr), now))
}

func (t *Throttle) wait(c *lru.Cache[*bucket], l Limit, key string, now time.Time) time.Duration {
	if key == "" {
		return 0
	}
	b, ok := c.Get(key)
	if !ok {
		return 0
	}
	level := b.drain(l, now)
	if over := level - float64(l.Burst-1); over > 0 {
		// To the millisecond, so float noise never shows as 20.000000001s.
		return max(time.Millisecond, time.Duration(math.Round(over*float64(l.Every)/float64(time.Millisecond)))*time.Millisecond)
	}
	return 0
}

// Failed counts a failed attempt.
func (t *Throttle) Failed(user, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.fail(t.users, t.user, user, now)
	t.fail(t.addrs, t.addr, addressKey(addr), now)
}

func (t *Throttle) fail(c *lru.Cache[*bucket], l Limit, key string, now time.Time) {
	if key == "" {
		return
	}
	b, ok := c.Get(key)
	if !ok {
		b = &bucket{at: now}
		c.Put(key, b)
	}
	b.level = b.drain(l, now) + 1
	b.at = now
}

// Succeeded forgets user's failures: the right password was given.
func (t *Throttle) Succeeded(user string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if b, ok := t.users.Get(user); ok {
		b.level = 0
	}
}

// drain returns the bucket's level at now.
func (b *bucket) drain(l Limit, now time.Time) float64 {
	if l.Every <= 0 {
		return 0
	}
	return max(0, b.level-float64(now.Sub(b.at))/float64(l.Every))
}

// addressKey is the address a throttle counts: the IPv4 address, or the
// /64 an IPv6 address is in (one machine usually has a whole /64).
func addressKey(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil {
		return addr
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}
