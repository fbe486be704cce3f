package media

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/post"
)

// fakeDNS answers every lookup from its table, so no test asks real DNS and
// a name can resolve to any address.
type fakeDNS map[string][]netip.Addr

func (f fakeDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("lookup %s: no such host", host)
}

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

var testKey = bytes.Repeat([]byte{7}, 32)

// upstream is an https image server on loopback, reached as example.com
// (a name its certificate carries) through the fake DNS.
type upstream struct {
	srv   *httptest.Server
	mu    sync.Mutex
	files map[string]func(w http.ResponseWriter, r *http.Request)
	hits  atomic.Int64
	down  atomic.Bool
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{files: map[string]func(http.ResponseWriter, *http.Request){}}
	u.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		if u.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		u.mu.Lock()
		h := u.files[r.URL.Path]
		u.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) serve(path, ctype string, body []byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.files[path] = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", ctype)
		_, _ = w.Write(body)
	}
}

func (u *upstream) handle(path string, h func(http.ResponseWriter, *http.Request)) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.files[path] = h
}

// url is the upstream's https URL for path under the name example.com.
func (u *upstream) url(path string) string {
	port := u.srv.Listener.Addr().(*net.TCPAddr).Port
	return fmt.Sprintf("https://example.com:%d%s", port, path)
}

func (u *upstream) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(u.srv.Certificate())
	return p
}

// clock is a settable time for freshness tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type harness struct {
	proxy *Proxy
	e     *echo.Echo
	clock *clock
	dir   string
}

func newHarness(t *testing.T, up *upstream, dns fakeDNS, tweak func(*Options)) *harness {
	t.Helper()
	clk := &clock{now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	opts := Options{
		Dir: t.TempDir(), PublicURL: "https://chorus.example", Resolver: dns,
		InsecureAllowLoopback: true, Now: clk.Now,
	}
	if up != nil {
		opts.RootCAs = up.pool()
	}
	if tweak != nil {
		tweak(&opts)
	}
	p, err := New(testKey, opts)
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.GET("/media/:sig/:url", p.Serve)
	return &harness{proxy: p, e: e, clock: clk, dir: opts.Dir}
}

func (h *harness) get(path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func testJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 40), uint8(y * 40), 120, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func testPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var localDNS = fakeDNS{"example.com": addrs("127.0.0.1")}

func TestServesAndCachesImages(t *testing.T) {
	up := newUpstream(t)
	img := testJPEG(t, 6, 4)
	up.serve("/a.jpg", "application/octet-stream", img) // the header is not trusted either way
	h := newHarness(t, up, localDNS, nil)
	path := h.proxy.URL(up.url("/a.jpg"))
	if !strings.HasPrefix(path, Prefix) {
		t.Fatalf("URL = %q", path)
	}
	for i := range 3 {
		rec := h.get(path)
		if rec.Code != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
		}
		hd := rec.Header()
		if hd.Get("Content-Type") != "image/jpeg" || hd.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(hd.Get("Cache-Control"), "max-age=31536000") ||
			hd.Get("Content-Security-Policy") != "default-src 'none'; sandbox" {
			t.Fatalf("headers: %v", hd)
		}
		if !bytes.Equal(rec.Body.Bytes(), img) {
			t.Fatal("body differs from the upstream image")
		}
	}
	if n := up.hits.Load(); n != 1 {
		t.Fatalf("upstream fetched %d times, want 1", n)
	}
	// A conditional request is answered without a body.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("If-None-Match", h.get(path).Header().Get("ETag"))
	h.e.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Fatalf("conditional: %d", rec.Code)
	}
}

func TestConcurrentRequestsFetchOnce(t *testing.T) {
	up := newUpstream(t)
	img := testPNG(t, 3, 3)
	release := make(chan struct{})
	up.handle("/slow.png", func(w http.ResponseWriter, _ *http.Request) {
		<-release
		_, _ = w.Write(img)
	})
	h := newHarness(t, up, localDNS, nil)
	path := h.proxy.URL(up.url("/slow.png"))
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Go(func() { codes[i] = h.get(path).Code })
	}
	// Wait until the one fetch is under way, then let it finish.
	for up.hits.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("request %d: %d", i, c)
		}
	}
	if n := up.hits.Load(); n > 2 {
		t.Fatalf("upstream fetched %d times for 8 simultaneous requests", n)
	}
}

func TestRefusesNonPublicAddresses(t *testing.T) {
	up := newUpstream(t)
	up.serve("/a.png", "image/png", testPNG(t, 2, 2))
	port := up.srv.Listener.Addr().(*net.TCPAddr).Port
	dns := fakeDNS{
		"example.com":         addrs("127.0.0.1"),
		"private.example":     addrs("10.1.2.3"),
		"metadata.example":    addrs("169.254.169.254"),
		"mixed.example":       addrs("192.168.1.10", "fd00::1"),
		"cgnat.example":       addrs("100.64.0.9"),
		"mapped.example":      addrs("::ffff:127.0.0.1"),
		"nat64.example":       addrs("64:ff9b::a01:203"),
		"unspecified.example": addrs("0.0.0.0"),
	}
	for _, tc := range []struct {
		name string
		url  string
	}{
		{"loopback by DNS", up.url("/a.png")},
		{"loopback literal", fmt.Sprintf("https://127.0.0.1:%d/a.png", port)},
		{"IPv6 loopback literal", fmt.Sprintf("https://[::1]:%d/a.png", port)},
		{"private by DNS", "https://private.example/a.png"},
		{"link-local metadata by DNS", "https://metadata.example/latest/meta-data"},
		{"every answer private", "https://mixed.example/a.png"},
		{"shared address space", "https://cgnat.example/a.png"},
		{"IPv4-mapped loopback", "https://mapped.example/a.png"},
		{"NAT64 of a private address", "https://nat64.example/a.png"},
		{"unspecified", "https://unspecified.example/a.png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Loopback is refused here: the test-only allowance is off.
			h := newHarness(t, up, dns, func(o *Options) { o.InsecureAllowLoopback = false })
			before := up.hits.Load()
			rec := h.get(h.proxy.URL(tc.url))
			if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "upstream address refused") {
				t.Fatalf("got %d %s", rec.Code, rec.Body)
			}
			if up.hits.Load() != before {
				t.Fatal("the upstream was reached")
			}
		})
	}
}

func TestRedirects(t *testing.T) {
	up := newUpstream(t)
	img := testPNG(t, 2, 2)
	up.serve("/real.png", "image/png", img)
	redirect := func(to string) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusFound) }
	}
	up.handle("/ok", redirect(up.url("/real.png")))
	up.handle("/to-private", redirect("https://private.example/x.png"))
	up.handle("/to-metadata", redirect("https://169.254.169.254/latest/meta-data"))
	up.handle("/to-http", redirect("http://example.com/real.png"))
	up.handle("/loop", redirect(up.url("/loop")))
	dns := fakeDNS{"example.com": addrs("127.0.0.1"), "private.example": addrs("10.0.0.7")}
	h := newHarness(t, up, dns, nil)
	for _, tc := range []struct {
		path string
		code int
		says string
	}{
		{"/ok", http.StatusOK, ""},
		{"/to-private", http.StatusForbidden, "address refused"},
		{"/to-metadata", http.StatusForbidden, "address refused"},
		{"/to-http", http.StatusBadGateway, "unreachable"},
		{"/loop", http.StatusBadGateway, "unreachable"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec := h.get(h.proxy.URL(up.url(tc.path)))
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.says) {
				t.Fatalf("got %d %s, want %d %q", rec.Code, rec.Body, tc.code, tc.says)
			}
		})
	}
	if n := up.hits.Load(); n > 1+1+1+1+1+maxRedirects+1 {
		t.Fatalf("%d upstream requests: the redirect loop was not capped", n)
	}
}

func TestRefusesWhatIsNotASmallImage(t *testing.T) {
	up := newUpstream(t)
	big := append(testPNG(t, 2, 2), bytes.Repeat([]byte{0}, 2048)...)
	up.serve("/big.png", "image/png", big)
	up.handle("/big-chunked.png", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		for range 4 {
			_, _ = w.Write(big[:1000])
			w.(http.Flusher).Flush()
		}
	})
	up.serve("/page.jpg", "image/jpeg", []byte("<!doctype html><script>alert(1)</script>"))
	up.serve("/logo.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))
	up.serve("/broken.jpg", "image/jpeg", []byte("\xff\xd8\xff\xe0 not really"))
	up.serve("/huge.png", "image/png", testPNG(t, 4000, 3000))
	h := newHarness(t, up, localDNS, func(o *Options) { o.MaxBytes = 1500; o.MaxPixels = 1_000_000 })
	for _, tc := range []struct{ path, says string }{
		{"/big.png", "over the 1500-byte limit"},
		{"/big-chunked.png", "over the 1500-byte limit"},
		{"/page.jpg", "not a JPEG, PNG, GIF, WebP or AVIF"},
		{"/logo.svg", "not a JPEG, PNG, GIF, WebP or AVIF"},
		{"/broken.jpg", "malformed"},
		{"/missing.png", "no such image"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec := h.get(h.proxy.URL(up.url(tc.path)))
			if rec.Code < 400 || !strings.Contains(rec.Body.String(), tc.says) {
				t.Fatalf("got %d %s, want an error saying %q", rec.Code, rec.Body, tc.says)
			}
			if ct := rec.Header().Get("Content-Type"); strings.HasPrefix(ct, "image/") {
				t.Fatalf("an error was served as %s", ct)
			}
		})
	}
	// A small file that decodes to a huge bitmap (a decompression bomb).
	h = newHarness(t, up, localDNS, func(o *Options) { o.MaxPixels = 1_000_000 })
	if rec := h.get(h.proxy.URL(up.url("/huge.png"))); rec.Code != http.StatusBadGateway || !strings.Contains(rec.Body.String(), "pixel limit") {
		t.Fatalf("huge.png: %d %s", rec.Code, rec.Body)
	}
}

func TestRefusesUnsignedAndTamperedURLs(t *testing.T) {
	up := newUpstream(t)
	up.serve("/a.png", "image/png", testPNG(t, 2, 2))
	h := newHarness(t, up, localDNS, nil)
	good := h.proxy.URL(up.url("/a.png"))
	parts := strings.Split(strings.TrimPrefix(good, Prefix), "/")
	other := base64.RawURLEncoding.EncodeToString([]byte(up.url("/b.png")))
	otherKey, err := New(bytes.Repeat([]byte{9}, 32), Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// The tampered signature differs in its first character, which always
	// changes the MAC's first byte. (Upper-casing a few characters, as this
	// test once did, left about one signature in eight unchanged: base64url
	// has 38 characters that upper-casing keeps.)
	first := "A"
	if parts[0][0] == 'A' {
		first = "B"
	}
	for name, path := range map[string]string{
		"no signature":             Prefix + "x/" + parts[1],
		"signature of another URL": Prefix + parts[0] + "/" + other,
		"flipped signature":        Prefix + first + parts[0][1:] + "/" + parts[1],
		"another key":              otherKey.URL(up.url("/a.png")),
		"not base64":               Prefix + parts[0] + "/%25%25",
	} {
		t.Run(name, func(t *testing.T) {
			if rec := h.get(path); rec.Code != http.StatusForbidden && rec.Code != http.StatusNotFound {
				t.Fatalf("%s: got %d %q, want 403 or 404", path, rec.Code, rec.Body.Bytes()[:min(rec.Body.Len(), 80)])
			}
		})
	}
	if up.hits.Load() != 0 {
		t.Fatal("an unsigned request reached the upstream")
	}
	if rec := h.get(good); rec.Code != http.StatusOK {
		t.Fatalf("the signed URL: %d", rec.Code)
	}
}

func TestURLRewriting(t *testing.T) {
	h := newHarness(t, nil, localDNS, nil)
	p := h.proxy
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"/demo/media/avatar/ana.svg", "/demo/media/avatar/ana.svg"},
		{"https://chorus.example/demo/media/photo/3.svg?x=1", "/demo/media/photo/3.svg?x=1"},
		{"javascript:alert(1)", ""},
		{"data:image/png;base64,AAAA", ""},
		{"//evil.example/a.png", ""},
		{"https://user:pw@cdn.example/a.png", ""},
	} {
		if got := p.URL(tc.in); got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// http is fetched as https.
	up := p.URL("http://cdn.example/a.png")
	target, ok := p.verify(strings.Split(strings.TrimPrefix(up, Prefix), "/")[0], strings.Split(up, "/")[3])
	if !ok || target != "https://cdn.example/a.png" {
		t.Fatalf("http URL proxied as %q (%v)", target, ok)
	}
	if abs := p.AbsURL("https://cdn.example/a.png"); !strings.HasPrefix(abs, "https://chorus.example/media/") {
		t.Fatalf("AbsURL = %q", abs)
	}
	in := post.Post{
		Author: post.Author{AvatarURL: "https://cdn.example/me.jpg"},
		Media: []post.Media{
			{Kind: post.MediaImage, URL: "https://cdn.example/1.jpg", PreviewURL: "https://cdn.example/1s.jpg"},
			{Kind: post.MediaVideo, URL: "https://cdn.example/v.mp4", PreviewURL: "https://cdn.example/v.jpg"},
		},
	}
	out := p.Post(in)
	for _, u := range []string{out.Author.AvatarURL, out.Media[0].URL, out.Media[0].PreviewURL, out.Media[1].URL, out.Media[1].PreviewURL} {
		if !strings.HasPrefix(u, Prefix) {
			t.Fatalf("not proxied: %q", u)
		}
	}
	if in.Media[0].URL != "https://cdn.example/1.jpg" || in.Author.AvatarURL != "https://cdn.example/me.jpg" {
		t.Fatal("Post changed its input")
	}
}

func TestOutageServesCachedCopies(t *testing.T) {
	up := newUpstream(t)
	img := testPNG(t, 5, 5)
	up.serve("/a.png", "image/png", img)
	h := newHarness(t, up, localDNS, func(o *Options) { o.FreshFor = time.Hour })
	path := h.proxy.URL(up.url("/a.png"))
	if rec := h.get(path); rec.Code != http.StatusOK {
		t.Fatalf("first fetch: %d", rec.Code)
	}
	up.down.Store(true)
	h.clock.Add(2 * time.Hour) // stale: the proxy asks again, the upstream fails
	rec := h.get(path)
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), img) {
		t.Fatalf("during the outage: %d", rec.Code)
	}
	if up.hits.Load() != 2 {
		t.Fatalf("upstream asked %d times, want 2 (first fetch, one revalidation)", up.hits.Load())
	}
	// A restarted proxy (a kiosk's Chorus rebooted mid-outage) still has it.
	again, err := New(testKey, Options{Dir: h.dir, Resolver: localDNS, InsecureAllowLoopback: true, RootCAs: up.pool(),
		Now: func() time.Time { return h.clock.Now().Add(48 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.GET("/media/:sig/:url", again.Serve)
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), img) {
		t.Fatalf("after a restart during the outage: %d %s", rec.Code, rec.Body)
	}
	// Once the upstream is back, a stale copy is fetched again.
	up.down.Store(false)
	h.clock.Add(failureMemory + time.Second)
	if rec := h.get(path); rec.Code != http.StatusOK {
		t.Fatalf("after the outage: %d", rec.Code)
	}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	up := newUpstream(t)
	imgs := map[string][]byte{}
	for _, name := range []string{"a", "b", "c", "d"} {
		imgs[name] = testJPEG(t, 8, 8)
		up.serve("/"+name+".jpg", "image/jpeg", imgs[name])
	}
	size := int64(len(imgs["a"]))
	h := newHarness(t, up, localDNS, func(o *Options) { o.CacheBytes = 3*size + size/2 })
	get := func(name string) {
		t.Helper()
		if rec := h.get(h.proxy.URL(up.url("/" + name + ".jpg"))); rec.Code != http.StatusOK {
			t.Fatalf("%s: %d", name, rec.Code)
		}
	}
	get("a")
	get("b")
	get("c")
	get("a") // a is now the most recently used; b the least
	get("d") // over the bound: b goes
	if got := h.proxy.cache.bytes(); got > 3*size+size/2 {
		t.Fatalf("cache holds %d bytes, bound %d", got, 3*size+size/2)
	}
	files := 0
	_ = filepath.WalkDir(h.dir, func(_ string, d os.DirEntry, _ error) error {
		if !d.IsDir() {
			files++
		}
		return nil
	})
	if files != 3 {
		t.Fatalf("%d files on disk, want 3", files)
	}
	hits := up.hits.Load()
	get("a")
	get("c")
	get("d")
	if up.hits.Load() != hits {
		t.Fatal("a, c or d was evicted")
	}
	get("b")
	if up.hits.Load() != hits+1 {
		t.Fatal("b was not evicted")
	}
	// A restart reloads what is on disk, within the bound.
	again, err := New(testKey, Options{Dir: h.dir, CacheBytes: 2 * size})
	if err != nil {
		t.Fatal(err)
	}
	if got := again.cache.bytes(); got > 2*size || got == 0 {
		t.Fatalf("reloaded cache holds %d bytes, bound %d", got, 2*size)
	}
}

func TestPublic(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"93.184.216.34", true}, {"2606:2800:220:1:248:1893:25c8:1946", true}, {"1.1.1.1", true},
		{"127.0.0.1", false}, {"127.8.9.1", false}, {"::1", false}, {"10.0.0.1", false}, {"172.16.5.4", false},
		{"192.168.0.1", false}, {"169.254.169.254", false}, {"fe80::1", false}, {"fd12::1", false},
		{"0.0.0.0", false}, {"::", false}, {"224.0.0.1", false}, {"ff02::1", false}, {"255.255.255.255", false},
		{"100.64.1.1", false}, {"198.18.0.1", false}, {"192.0.2.1", false}, {"240.1.1.1", false},
		{"::ffff:10.0.0.1", false}, {"::ffff:8.8.8.8", true}, {"64:ff9b::a00:1", false}, {"2002:a00:1::", false},
		{"2001:db8::1", false}, {"2001::1", false},
	} {
		if got := Public(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("Public(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}

// The proxied URL survives as a path segment and a query of any shape.
func TestURLRoundTrip(t *testing.T) {
	h := newHarness(t, nil, localDNS, nil)
	raw := "https://cdn.example/a b/é.jpg?size=large&sig=" + strings.Repeat("x", 500)
	u := h.proxy.URL(raw)
	parsed, err := url.Parse("https://chorus.example" + u)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(strings.TrimPrefix(parsed.Path, Prefix), "/")
	target, ok := h.proxy.verify(parts[0], parts[1])
	want, _ := url.Parse(raw)
	if !ok || target != want.String() {
		t.Fatalf("round trip: %q %v", target, ok)
	}
}

// TestForgetDeletesCachedPictures: forgetting a post deletes the cached
// files of its avatar and media, and nothing else.
func TestForgetDeletesCachedPictures(t *testing.T) {
	up := newUpstream(t)
	for _, name := range []string{"avatar", "photo", "other"} {
		up.serve("/"+name+".jpg", "image/jpeg", testJPEG(t, 8, 8))
	}
	h := newHarness(t, up, localDNS, nil)
	files := func() int {
		n := 0
		_ = filepath.WalkDir(h.dir, func(_ string, d os.DirEntry, _ error) error {
			if !d.IsDir() {
				n++
			}
			return nil
		})
		return n
	}
	for _, name := range []string{"avatar", "photo", "other"} {
		if rec := h.get(h.proxy.URL(up.url("/" + name + ".jpg"))); rec.Code != http.StatusOK {
			t.Fatalf("%s: %d", name, rec.Code)
		}
	}
	if files() != 3 {
		t.Fatalf("%d files cached, want 3", files())
	}
	p := post.Post{ID: "x:1", Author: post.Author{AvatarURL: up.url("/avatar.jpg")},
		Media: []post.Media{{Kind: post.MediaImage, URL: up.url("/photo.jpg"), PreviewURL: up.url("/none.jpg")}}}
	if n := h.proxy.Forget([]post.Post{p}); n != 2 {
		t.Fatalf("forgot %d files, want 2", n)
	}
	if files() != 1 || h.proxy.cache.bytes() != int64(len(testJPEG(t, 8, 8))) {
		t.Fatalf("%d files and %d bytes left, want the other picture only", files(), h.proxy.cache.bytes())
	}
}
