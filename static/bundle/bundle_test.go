package bundle_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"regexp"
	"testing"

	"github.com/chorus-wall/chorus/static/bundle"
)

// MaxGzip is the widget's budget: embed.js at most 30 KB gzipped.
const MaxGzip = 30 * 1024

// TestCommittedBundleIsFresh fails when static/web/embed.js is not what
// the modules build today: someone changed a module or a stylesheet and
// did not run `go generate ./static`.
func TestCommittedBundleIsFresh(t *testing.T) {
	want, err := bundle.Build("../web/assets")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../web/embed.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("static/web/embed.js is stale (%d bytes, a fresh build has %d): run `go generate ./static` and commit it", len(got), len(want))
	}
}

// TestBundleBudget: within 30 KB gzipped, and nothing in it reaches for
// cookies, storage, other hosts or code from strings.
func TestBundleBudget(t *testing.T) {
	js, err := os.ReadFile("../web/embed.js")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(js)
	zw.Close()
	t.Logf("embed.js: %d bytes, %d gzipped (budget %d)", len(js), buf.Len(), MaxGzip)
	if buf.Len() > MaxGzip {
		t.Errorf("embed.js is %d bytes gzipped; the budget is %d", buf.Len(), MaxGzip)
	}
	for _, bad := range []string{
		"document.cookie", "localStorage", "sessionStorage", "indexedDB", "innerHTML", "outerHTML",
		"insertAdjacentHTML", "document.write", "eval(", "new Function", "import(", "sendBeacon",
	} {
		if bytes.Contains(js, []byte(bad)) {
			t.Errorf("embed.js uses %s", bad)
		}
	}
	if m := regexp.MustCompile(`(?i)\b(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}`).Find(js); m != nil {
		t.Errorf("embed.js names another host: %s", m)
	}
}
