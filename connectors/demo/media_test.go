package demo

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// fetch asks the media handler for target.
func fetch(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

// svgSize parses body as XML and returns the root svg element's size.
func svgSize(t *testing.T, body []byte) (width, height int) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(body))
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("invalid XML: %v\n%s", err, body)
		}
		if el, ok := tok.(xml.StartElement); ok && root == "" {
			root = el.Name.Local
			if el.Name.Space != "http://www.w3.org/2000/svg" {
				t.Errorf("root namespace %q", el.Name.Space)
			}
			for _, a := range el.Attr {
				switch a.Name.Local {
				case "width":
					width, _ = strconv.Atoi(a.Value)
				case "height":
					height, _ = strconv.Atoi(a.Value)
				}
			}
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	return width, height
}

func TestMediaHandler(t *testing.T) {
	h := MediaHandler()
	tests := []struct {
		name, method, target string
		status               int
		width, height        int
	}{
		{name: "avatar", target: "/demo/media/avatar/jose-alvarez.svg", status: 200, width: 128, height: 128},
		{name: "right-to-left avatar", target: "/demo/media/avatar/leila-haddad.svg", status: 200, width: 128, height: 128},
		{name: "spam avatar", target: "/demo/media/avatar/cheap-followers.svg", status: 200, width: 128, height: 128},
		{name: "first photo", target: "/demo/media/photo/0.svg", status: 200, width: sceneOf(0).width, height: sceneOf(0).height},
		{name: "last photo", target: "/demo/media/photo/" + strconv.Itoa(photoCount-1) + ".svg", status: 200,
			width: sceneOf(photoCount - 1).width, height: sceneOf(photoCount - 1).height},
		{name: "head", method: http.MethodHead, target: "/demo/media/photo/7.svg", status: 200},
		{name: "post", method: http.MethodPost, target: "/demo/media/photo/7.svg", status: 405},
		{name: "unknown avatar", target: "/demo/media/avatar/nobody.svg", status: 404},
		{name: "photo out of range", target: "/demo/media/photo/" + strconv.Itoa(photoCount) + ".svg", status: 404},
		{name: "negative photo", target: "/demo/media/photo/-1.svg", status: 404},
		{name: "padded number", target: "/demo/media/photo/01.svg", status: 404},
		{name: "signed number", target: "/demo/media/photo/+1.svg", status: 404},
		{name: "other extension", target: "/demo/media/photo/1.png", status: 404},
		{name: "trailing slash", target: "/demo/media/photo/1.svg/", status: 404},
		{name: "unknown kind", target: "/demo/media/video/1.svg", status: 404},
		{name: "prefix only", target: "/demo/media/", status: 404},
		{name: "outside the prefix", target: "/photo/1.svg", status: 404},
		{name: "traversal", target: "/demo/media/avatar/../photo/1.svg", status: 404},
		{name: "encoded traversal", target: "/demo/media/avatar/%2e%2e%2fphoto%2f1.svg", status: 404},
		{name: "markup in the name", target: "/demo/media/avatar/%3Cscript%3E.svg", status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			rec := fetch(t, h, method, tt.target)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", got)
			}
			if tt.status != 200 {
				if ct := rec.Header().Get("Content-Type"); ct == "image/svg+xml" {
					t.Errorf("error answered as an image")
				}
				return
			}
			want := map[string]string{
				"Content-Type":            "image/svg+xml",
				"Cache-Control":           "public, max-age=86400",
				"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
			}
			for k, v := range want {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s %q, want %q", k, got, v)
				}
			}
			if method == http.MethodHead {
				return
			}
			w, hgt := svgSize(t, rec.Body.Bytes())
			if w != tt.width || hgt != tt.height {
				t.Errorf("size %dx%d, want %dx%d", w, hgt, tt.width, tt.height)
			}
		})
	}
}

// TestEveryImageIsValid draws every avatar and photo the demo can link to.
func TestEveryImageIsValid(t *testing.T) {
	h := MediaHandler()
	for _, p := range cast {
		rec := fetch(t, h, http.MethodGet, avatarURL(p.key))
		if rec.Code != 200 {
			t.Fatalf("%s: status %d", p.key, rec.Code)
		}
		svgSize(t, rec.Body.Bytes())
	}
	for n := range photoCount {
		rec := fetch(t, h, http.MethodGet, photoURL(n))
		if rec.Code != 200 {
			t.Fatalf("photo %d: status %d", n, rec.Code)
		}
		sc := sceneOf(n)
		if w, hgt := svgSize(t, rec.Body.Bytes()); w != sc.width || hgt != sc.height {
			t.Fatalf("photo %d is %dx%d, want %dx%d", n, w, hgt, sc.width, sc.height)
		}
		if rec.Body.Len() > 200_000 {
			t.Errorf("photo %d is %d bytes", n, rec.Body.Len())
		}
	}
	// The same photo is drawn the same way every time.
	if a, b := fetch(t, h, http.MethodGet, photoURL(42)).Body.String(), fetch(t, h, http.MethodGet, photoURL(42)).Body.String(); a != b {
		t.Error("photo 42 differs between two requests")
	}
}

// TestPostsLinkServedImages checks that what posts link to is served, at
// the size the post says.
func TestPostsLinkServedImages(t *testing.T) {
	h := MediaHandler()
	g := Generator{SourceID: "demo", Seed: 3, SpamShare: 0.1, OffensiveShare: 0.1}
	for seq := range int64(500) {
		p := g.Post(seq, testNow)
		if rec := fetch(t, h, http.MethodGet, p.Author.AvatarURL); rec.Code != 200 {
			t.Fatalf("post %d: avatar %s: status %d", seq, p.Author.AvatarURL, rec.Code)
		}
		for _, m := range p.Media {
			rec := fetch(t, h, http.MethodGet, m.URL)
			if rec.Code != 200 {
				t.Fatalf("post %d: %s: status %d", seq, m.URL, rec.Code)
			}
			if w, hgt := svgSize(t, rec.Body.Bytes()); w != m.Width || hgt != m.Height {
				t.Errorf("post %d: %s is %dx%d, post says %dx%d", seq, m.URL, w, hgt, m.Width, m.Height)
			}
		}
	}
}
