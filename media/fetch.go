package media

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // registers GIF for DecodeConfig
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	_ "golang.org/x/image/webp"
)

// Resolver looks up a host's addresses; *net.Resolver is one. Tests give
// their own, so a name can answer with any address.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// FetchError is why an upstream image could not be served. Status is what
// the proxy answers: 404 when the upstream has no such image, 502 otherwise.
type FetchError struct {
	Status int
	Reason string
	err    error
}

func (e *FetchError) Error() string {
	if e.err != nil {
		return "media: " + e.Reason + ": " + e.err.Error()
	}
	return "media: " + e.Reason
}

func (e *FetchError) Unwrap() error { return e.err }

func refuse(reason string, err error) *FetchError {
	return &FetchError{Status: http.StatusBadGateway, Reason: reason, err: err}
}

// imageTypes are the types the proxy serves: raster images a browser shows
// in an <img>, which is all a video poster is too. SVG is not among them (it
// can carry script), nor is anything a browser might render as a document.
var imageTypes = map[string]string{
	"image/jpeg": ".jpg",
	"image/png":  ".png",
	"image/gif":  ".gif",
	"image/webp": ".webp",
	"image/avif": ".avif",
}

// sniff names the image type of data from its first bytes, never from what
// the upstream claims; "" when it is not an image the proxy serves.
func sniff(data []byte) string {
	// AVIF is an ISO-BMFF file whose ftyp box names an AVIF brand; the
	// standard sniffer does not know it.
	if len(data) >= 12 && string(data[4:8]) == "ftyp" {
		if brand := string(data[8:12]); brand == "avif" || brand == "avis" {
			return "image/avif"
		}
	}
	ct := http.DetectContentType(data)
	if _, ok := imageTypes[ct]; ok {
		return ct
	}
	return ""
}

// fetcher gets images over https only, from public addresses only.
type fetcher struct {
	client    *http.Client
	maxBytes  int64
	maxPixels int
	userAgent string
}

// maxRedirects is how many redirects one fetch follows.
const maxRedirects = 4

func newFetcher(opts Options) *fetcher {
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   dialGuard(opts.InsecureAllowLoopback),
	}
	resolver := opts.Resolver
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	transport := &http.Transport{
		// Never through an environment proxy: the address check must see
		// the real upstream.
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dial(ctx, dialer, resolver, network, addr)
		},
		TLSClientConfig:       &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 15 * time.Second,
	}
	return &fetcher{
		client: &http.Client{
			Transport: transport,
			Timeout:   opts.FetchTimeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) > maxRedirects {
					return fmt.Errorf("more than %d redirects", maxRedirects)
				}
				if req.URL.Scheme != "https" {
					return fmt.Errorf("redirect to %s: only https is fetched", req.URL.Scheme)
				}
				// The target's address is checked when it is dialed.
				return nil
			},
		},
		maxBytes:  opts.MaxBytes,
		maxPixels: opts.MaxPixels,
		userAgent: opts.UserAgent,
	}
}

// dial resolves addr's host with resolver and dials its addresses in turn;
// the dialer's Control refuses every address that is not public.
func dial(ctx context.Context, d *net.Dialer, resolver Resolver, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else if ips, err = resolver.LookupNetIP(ctx, "ip", host); err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("%s has no addresses", host)
	}
	var errs []error
	for _, ip := range ips {
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// fetched is an image read from upstream, checked and stripped.
type fetched struct {
	Type string
	Body []byte
}

// fetch gets raw (an https URL) and returns the image, or a *FetchError
// saying why not.
func (f *fetcher) fetch(ctx context.Context, raw string) (*fetched, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return nil, refuse("only https URLs without credentials are fetched", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, refuse("bad upstream URL", err)
	}
	req.Header.Set("User-Agent", f.userAgent)
	req.Header.Set("Accept", "image/avif,image/webp,image/png,image/jpeg,image/gif;q=0.9")
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, ErrNotPublic) {
			return nil, &FetchError{Status: http.StatusForbidden, Reason: "upstream address refused", err: err}
		}
		return nil, refuse("upstream unreachable", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, &FetchError{Status: http.StatusNotFound, Reason: "upstream has no such image (HTTP " + strconv.Itoa(resp.StatusCode) + ")"}
	case resp.StatusCode != http.StatusOK:
		return nil, refuse("upstream answered HTTP "+strconv.Itoa(resp.StatusCode), nil)
	case resp.ContentLength > f.maxBytes:
		return nil, refuse(fmt.Sprintf("image of %d bytes is over the %d-byte limit", resp.ContentLength, f.maxBytes), nil)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return nil, refuse("reading upstream", err)
	}
	if int64(len(body)) > f.maxBytes {
		return nil, refuse(fmt.Sprintf("image is over the %d-byte limit", f.maxBytes), nil)
	}
	typ := sniff(body)
	if typ == "" {
		return nil, refuse("upstream is not a JPEG, PNG, GIF, WebP or AVIF image", nil)
	}
	if typ != "image/avif" {
		cfg, _, err := image.DecodeConfig(bytes.NewReader(body))
		if err != nil {
			return nil, refuse("upstream image is malformed", err)
		}
		if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > f.maxPixels {
			return nil, refuse(fmt.Sprintf("image of %dx%d pixels is over the %d-pixel limit", cfg.Width, cfg.Height, f.maxPixels), nil)
		}
	}
	return &fetched{Type: typ, Body: stripMetadata(typ, body)}, nil
}
