package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"testing"

	"github.com/chorus-wall/chorus/static"
)

// embed.js goes to every visitor of a brand's page: gzipped for browsers
// that take it (within the 30 KB budget on the wire), as it is for those
// that do not, and revalidated by its ETag before each use, like every page.
func TestEmbedJSIsServedGzipped(t *testing.T) {
	a := startApp(t, t.TempDir(), testConfig)
	want, err := fs.ReadFile(static.FS(), "embed.js")
	if err != nil {
		t.Fatal(err)
	}
	// get asks for embed.js with headers (name, value, ...); the transport
	// adds no Accept-Encoding of its own when one is given.
	get := func(headers ...string) (*http.Response, []byte) {
		t.Helper()
		req := mustReq(http.MethodGet, a.base+"/embed.js")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultTransport.RoundTrip(req) // no transparent gzip
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}

	resp, body := get("Accept-Encoding", "gzip, deflate, br")
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("embed.js for a browser: Content-Encoding %q, Vary %q, Cache-Control %q",
			resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"), resp.Header.Get("Cache-Control"))
	}
	zippedTag := resp.Header.Get("ETag")
	t.Logf("embed.js on the wire: %d bytes gzipped (%d as it is)", len(body), len(want))
	if len(body) > 30*1024 {
		t.Errorf("embed.js is %d bytes gzipped on the wire; the budget is 30 KB", len(body))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(zr); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("the gzipped embed.js unpacks to %d bytes (%v), want the %d of the file", len(got), err, len(want))
	}

	resp, body = get("Accept-Encoding", "identity, gzip;q=0")
	if resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, want) {
		t.Fatalf("embed.js for a client refusing gzip: Content-Encoding %q, %d bytes", resp.Header.Get("Content-Encoding"), len(body))
	}
	etag := resp.Header.Get("ETag")
	if etag == "" || zippedTag == "" || etag == zippedTag {
		t.Fatalf("embed.js's ETags: %q as it is, %q gzipped; want two different ones", etag, zippedTag)
	}
	if resp, _ := get("Accept-Encoding", "identity", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Fatalf("embed.js revalidated with its ETag: %d", resp.StatusCode)
	}
	if resp, _ := get("Accept-Encoding", "gzip", "If-None-Match", zippedTag); resp.StatusCode != http.StatusNotModified {
		t.Fatalf("gzipped embed.js revalidated with its ETag: %d", resp.StatusCode)
	}
	if resp, _ := get("Accept-Encoding", "gzip", "If-None-Match", etag); resp.StatusCode != http.StatusOK {
		t.Fatalf("gzipped embed.js asked with the other form's ETag: %d, want the body", resp.StatusCode)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		name, header string
		want         bool
	}{
		{"browser", "gzip, deflate, br, zstd", true},
		{"none", "", false},
		{"identity only", "identity", false},
		{"any", "*", true},
		{"refused", "gzip;q=0", false},
		{"refused with zeros", "br, gzip; q=0.000", false},
		{"weighted", "br;q=1.0, gzip;q=0.8", true},
		{"upper case", "GZIP", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := acceptsGzip(tc.header); got != tc.want {
				t.Errorf("acceptsGzip(%q) = %v", tc.header, got)
			}
		})
	}
}
