// Package media is Chorus's image proxy: visitors' browsers load every
// remote image (avatars, post photos, video posters, logos) from Chorus
// under a signed /media/ URL, never from a social network's CDN.
//
// The proxy fetches over https only, from public addresses only (checked
// at dial time, so neither DNS answers nor redirects get around it), serves
// only images it has sniffed itself, within a size and pixel cap, with
// camera metadata stripped, and keeps them in a bounded disk cache that
// keeps serving through an upstream outage. URLs are signed with a key
// every node shares, so it is no open proxy.
package media

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/chorus-wall/chorus/connectors/lru"
	"github.com/chorus-wall/chorus/post"
)

// Prefix is where the proxy is mounted; every signed URL starts with it.
const Prefix = "/media/"

// Options tune the proxy; zero values take the defaults below.
type Options struct {
	// Dir is the cache directory (required), e.g. <data_dir>/media.
	Dir string
	// CacheBytes bounds the cache on disk (default 1 GiB).
	CacheBytes int64
	// MaxBytes is the largest image fetched (default 10 MiB).
	MaxBytes int64
	// MaxPixels is the largest image, width times height (default 50
	// megapixels), so a tiny file cannot make screens decode a huge bitmap.
	MaxPixels int
	// FreshFor is how long a cached image is served without asking the
	// upstream again (default 24h). After it the proxy fetches again and,
	// when the upstream fails, keeps serving the copy it has.
	FreshFor time.Duration
	// FetchTimeout bounds one upstream fetch, redirects included (default 20s).
	FetchTimeout time.Duration
	// Concurrency bounds simultaneous upstream fetches (default 16).
	Concurrency int
	// PublicURL is how browsers reach Chorus: URLs on its origin are served
	// as they are, and AbsURL makes absolute URLs with it.
	PublicURL string
	UserAgent string
	Logger    *slog.Logger
	// Registerer receives the proxy's metrics, when set.
	Registerer prometheus.Registerer
	Now        func() time.Time

	// Resolver looks up upstream hosts (default net.DefaultResolver).
	Resolver Resolver
	// RootCAs verify upstream certificates (default: the system's).
	RootCAs *x509.CertPool
	// InsecureAllowLoopback lets tests fetch from httptest TLS servers on
	// 127.0.0.1. It is never set outside tests: no configuration key
	// reaches it.
	InsecureAllowLoopback bool
}

func (o *Options) defaults() {
	if o.CacheBytes <= 0 {
		o.CacheBytes = 1 << 30
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 10 << 20
	}
	if o.MaxPixels <= 0 {
		o.MaxPixels = 50_000_000
	}
	if o.FreshFor <= 0 {
		o.FreshFor = 24 * time.Hour
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = 20 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.UserAgent == "" {
		o.UserAgent = "Chorus media proxy"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
}

// failureMemory is how long a failed fetch is answered from memory, so a
// broken avatar on a thousand screens costs the upstream one request.
const failureMemory = 2 * time.Minute

// Proxy signs image URLs and serves them.
type Proxy struct {
	key     []byte
	opts    Options
	self    string // PublicURL's origin
	fetcher *fetcher
	cache   *cache
	flight  singleflight.Group
	slots   chan struct{}

	failMu   sync.Mutex
	failures *lru.Cache[failure]

	served *prometheus.CounterVec
}

type failure struct {
	err *FetchError
	at  time.Time
}

// New returns a proxy signing with key (at least 32 bytes, shared by every
// node: see bus.SharedSecret) and caching under opts.Dir.
func New(key []byte, opts Options) (*Proxy, error) {
	if len(key) < 32 {
		return nil, errors.New("media: signing key must be at least 32 bytes")
	}
	if opts.Dir == "" {
		return nil, errors.New("media: no cache directory")
	}
	opts.defaults()
	c, err := openCache(opts.Dir, opts.CacheBytes)
	if err != nil {
		return nil, err
	}
	p := &Proxy{
		key: key, opts: opts, fetcher: newFetcher(opts), cache: c,
		slots:    make(chan struct{}, opts.Concurrency),
		failures: lru.New[failure](4096),
		served: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chorus_media_requests_total",
			Help: "Media proxy requests by result: hit (fresh in cache), fetched, stale (cached copy served because the upstream failed), failed, refused (bad signature).",
		}, []string{"result"}),
	}
	if u, err := url.Parse(opts.PublicURL); err == nil && u.Host != "" {
		p.self = u.Scheme + "://" + u.Host
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(p.served, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "chorus_media_cache_bytes",
			Help: "Bytes of images in the media proxy's disk cache.",
		}, func() float64 { return float64(c.bytes()) }))
	}
	return p, nil
}

// URL returns what a page should load for the image at raw: a signed proxy
// path for a remote http(s) URL (http is fetched as https), a same-site path
// (and a URL on Chorus's own origin, made a path) as it is, and "" for
// anything else, so no other URL can reach a page.
func (p *Proxy) URL(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	if strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//") && !strings.HasPrefix(raw, "/\\") {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return ""
	}
	if p.self != "" && strings.EqualFold(u.Scheme+"://"+u.Host, p.self) {
		return u.RequestURI()
	}
	u.Scheme = "https"
	target := u.String()
	return Prefix + p.sign(target) + "/" + base64.RawURLEncoding.EncodeToString([]byte(target))
}

// AbsURL is URL made absolute with the public URL, for pages read away
// from Chorus (email, feed readers).
func (p *Proxy) AbsURL(raw string) string {
	u := p.URL(raw)
	if strings.HasPrefix(u, "/") {
		return p.opts.PublicURL + u
	}
	return u
}

// Post returns in with its avatar, media and preview URLs as URL makes
// them; in is not changed. Video URLs go through the proxy too, which serves
// only images, so no visitor's browser fetches a video from the network.
func (p *Proxy) Post(in post.Post) post.Post { return rewrite(in, p.URL) }

// AbsPost is Post with absolute URLs, as AbsURL makes them.
func (p *Proxy) AbsPost(in post.Post) post.Post { return rewrite(in, p.AbsURL) }

func rewrite(in post.Post, to func(string) string) post.Post {
	out := in
	out.Author.AvatarURL = to(in.Author.AvatarURL)
	if len(in.Media) > 0 {
		out.Media = make([]post.Media, len(in.Media))
		for i, m := range in.Media {
			m.URL = to(m.URL)
			m.PreviewURL = to(m.PreviewURL)
			out.Media[i] = m
		}
	}
	return out
}

// Forget deletes the cached copies of posts' pictures (avatars, media,
// previews) and returns how many files it deleted: after an erasure or a
// purge no picture of those posts stays on disk. A later request for one
// fetches it again, as for any image not cached.
func (p *Proxy) Forget(posts []post.Post) int {
	n := 0
	for _, in := range posts {
		urls := []string{in.Author.AvatarURL}
		for _, m := range in.Media {
			urls = append(urls, m.URL, m.PreviewURL)
		}
		for _, u := range urls {
			if u == "" {
				continue
			}
			sum := sha256.Sum256([]byte(u))
			key := hex.EncodeToString(sum[:])
			if p.cache.remove(key) {
				n++
			}
			p.failMu.Lock()
			p.failures.Remove(key)
			p.failMu.Unlock()
		}
	}
	if n > 0 {
		p.opts.Logger.Info("media: forgot cached pictures of erased or purged posts", "files", n)
	}
	return n
}

func (p *Proxy) sign(target string) string {
	mac := hmac.New(sha256.New, p.key)
	mac.Write([]byte("chorus-media\x00"))
	mac.Write([]byte(target))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// verify returns the upstream URL of a signed path's parts.
func (p *Proxy) verify(sig, encoded string) (string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil || len(raw) > 4*post.MaxURLBytes {
		return "", false
	}
	want := p.sign(string(raw))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return "", false
	}
	return string(raw), true
}

// Serve answers GET /media/:sig/:url with the image, from the cache when it
// can: fresh copies without asking the upstream, stale copies when the
// upstream fails.
func (p *Proxy) Serve(c echo.Context) error {
	h := c.Response().Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	target, ok := p.verify(c.Param("sig"), c.Param("url"))
	if !ok {
		p.served.WithLabelValues("refused").Inc()
		h.Set("Cache-Control", "no-store")
		return echo.NewHTTPError(http.StatusForbidden, "unsigned or tampered media URL")
	}
	sum := sha256.Sum256([]byte(target))
	key := hex.EncodeToString(sum[:])
	if e, ok := p.cache.get(key); ok && p.opts.Now().Sub(e.fetched) < p.opts.FreshFor {
		if p.serveFile(c, e) {
			p.served.WithLabelValues("hit").Inc()
			return nil
		}
	}
	e, ferr := p.fetch(c.Request().Context(), key, target)
	if ferr != nil {
		if old, ok := p.cache.get(key); ok && p.serveFile(c, old) {
			p.served.WithLabelValues("stale").Inc()
			return nil
		}
		p.served.WithLabelValues("failed").Inc()
		h.Set("Cache-Control", "public, max-age=60")
		return echo.NewHTTPError(ferr.Status, ferr.Reason)
	}
	if p.serveFile(c, e) {
		p.served.WithLabelValues("fetched").Inc()
		return nil
	}
	return echo.NewHTTPError(http.StatusServiceUnavailable, "media cache unavailable")
}

// fetch gets target once however many requests want it at the same time,
// answering a recent failure from memory.
func (p *Proxy) fetch(ctx context.Context, key, target string) (*cached, *FetchError) {
	p.failMu.Lock()
	f, failed := p.failures.Get(key)
	p.failMu.Unlock()
	if failed && p.opts.Now().Sub(f.at) < failureMemory {
		return nil, f.err
	}
	v, err, _ := p.flight.Do(key, func() (any, error) {
		// The fetch serves every waiting request: it must not end when the
		// first one's visitor goes away.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.FetchTimeout)
		defer cancel()
		select {
		case p.slots <- struct{}{}:
			defer func() { <-p.slots }()
		case <-ctx.Done():
			return nil, refuse("too many fetches at once", ctx.Err())
		}
		img, err := p.fetcher.fetch(ctx, target)
		if err != nil {
			return nil, err
		}
		return p.cache.put(key, img, p.opts.Now())
	})
	if err != nil {
		var fe *FetchError
		if !errors.As(err, &fe) {
			p.opts.Logger.Error("media cache", "err", err)
			fe = &FetchError{Status: http.StatusServiceUnavailable, Reason: "media cache unavailable", err: err}
		}
		p.opts.Logger.Debug("media fetch failed", "url", redact(target), "err", fe)
		p.failMu.Lock()
		p.failures.Put(key, failure{err: fe, at: p.opts.Now()})
		p.failMu.Unlock()
		return nil, fe
	}
	return v.(*cached), nil
}

// serveFile writes e with long cache headers; false when its file is gone.
func (p *Proxy) serveFile(c echo.Context, e *cached) bool {
	var content io.ReadSeeker = bytes.NewReader(e.body)
	if e.body == nil {
		f, ok := p.cache.open(e)
		if !ok {
			return false
		}
		defer f.Close()
		content = f
	}
	h := c.Response().Header()
	h.Set("Content-Type", e.typ())
	// The URL names the upstream image for good, so browsers and CDNs may
	// keep it as long as they like.
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", fmt.Sprintf(`"%s-%x"`, e.key[:24], e.fetched.Unix()))
	http.ServeContent(c.Response(), c.Request(), "", e.fetched, content)
	return true
}

// redact keeps a URL's query out of logs (it may carry a signature).
func redact(raw string) string {
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		return raw[:i] + "?…"
	}
	return raw
}
