package graph

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/fetch"
	"github.com/chorus-wall/chorus/post"
)

func TestScan(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		mentions bool
		tags     []string
		users    []string
		urls     []string
		spans    [][2]int // of every entity, in the order tags, users, urls
	}{
		{name: "plain", text: "#Chorus live at https://chorus.example/a?b=1. Bring @ana.b!", mentions: true,
			tags: []string{"Chorus"}, users: []string{"ana.b"}, urls: []string{"https://chorus.example/a?b=1"},
			spans: [][2]int{{0, 7}, {52, 58}, {16, 44}}},
		{name: "after emoji", text: "🎉🎉 #fest 👋 @x_y", mentions: true, tags: []string{"fest"}, users: []string{"x_y"}, spans: [][2]int{{3, 8}, {11, 15}}},
		{name: "arabic and persian zwnj", text: "مرحبا #كورس_لايف و #می‌خواهم", tags: []string{"كورس_لايف", "می‌خواهم"}, spans: [][2]int{{6, 16}, {19, 28}}},
		{name: "japanese full-width hash", text: "ライブ ＃合唱団", tags: []string{"合唱団"}, spans: [][2]int{{4, 8}}},
		{name: "not tags", text: "room #1, a#b, &#39; and C# code", tags: nil},
		{name: "emails are not mentions", text: "mail ana@chorus.example or @", mentions: true},
		{name: "mentions off", text: "hi @ana", mentions: false},
		{name: "url in parentheses", text: "(see https://en.wikipedia.org/wiki/Chorus_(music)) and https://x.example/(a)", urls: []string{"https://en.wikipedia.org/wiki/Chorus_(music)", "https://x.example/(a)"}, spans: [][2]int{{5, 49}, {55, 76}}},
		{name: "hash inside a url is no tag", text: "https://chorus.example/#/wall #live", tags: []string{"live"}, urls: []string{"https://chorus.example/#/wall"}, spans: [][2]int{{30, 35}, {0, 29}}},
		{name: "bare scheme", text: "https:// nothing", urls: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Scan(tt.text, tt.mentions)
			values := func(ss []Span) []string {
				var out []string
				for _, s := range ss {
					out = append(out, s.Value)
				}
				return out
			}
			if !slices.Equal(values(e.Hashtags), tt.tags) || !slices.Equal(values(e.Mentions), tt.users) || !slices.Equal(values(e.URLs), tt.urls) {
				t.Fatalf("got %v %v %v", values(e.Hashtags), values(e.Mentions), values(e.URLs))
			}
			var spans [][2]int
			rs := []rune(tt.text)
			for _, s := range slices.Concat(e.Hashtags, e.Mentions, e.URLs) {
				spans = append(spans, [2]int{s.Start, s.End})
				if got := string(rs[s.Start:s.End]); !strings.HasSuffix(got, s.Value) {
					t.Errorf("span %q does not end with %q", got, s.Value)
				}
			}
			if tt.spans != nil && !slices.Equal(spans, tt.spans) {
				t.Errorf("spans %v, want %v", spans, tt.spans)
			}
		})
	}
}

// TestCleanMatchesNormalize: Clean keeps what post.Normalize keeps, so
// spans computed on Clean's result hold after Normalize.
func TestCleanMatchesNormalize(t *testing.T) {
	for _, s := range []string{
		"plain", "a\r\nb\rc\n\r\nd", "\u202Ehidden\u202C \u2066iso\u2069", "tab\tand\x00nul\x1b[31m", "zwj 👨‍👩‍👧 stays",
		"invalid \xff\xfe utf8", "\u0085next line", "bidi mark \u200f stays",
	} {
		p := post.Post{ID: "x", Text: s}
		if err := p.Normalize("facebook", time.Now()); err != nil {
			t.Fatal(err)
		}
		if got := Clean(s); got != p.Text {
			t.Errorf("Clean(%q) = %q, Normalize keeps %q", s, got, p.Text)
		}
	}
}

func TestOffsets(t *testing.T) {
	raw := "a\r\n🎉\u202Eb👍🏽c"
	o := NewOffsets(raw)
	clean := []rune(Clean(raw)) // a \n 🎉 b 👍 🏽 c
	u := utf16.Encode([]rune(raw))
	tests := []struct {
		name        string
		off, length int
		want        string
		ok          bool
	}{
		{name: "emoji", off: 3, length: 2, want: "🎉", ok: true},
		{name: "across a removed override", off: 3, length: 4, want: "🎉b", ok: true},
		{name: "skin tone pair", off: 7, length: 4, want: "👍🏽", ok: true},
		{name: "to the end", off: 7, length: len(u) - 7, want: "👍🏽c", ok: true},
		{name: "half a pair", off: 4, length: 1},
		{name: "zero length", off: 1, length: 0},
		{name: "beyond", off: 2, length: len(u)},
		{name: "huge", off: 1 << 62, length: 1 << 62},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, end, ok := o.Span(tt.off, tt.length)
			if ok != tt.ok {
				t.Fatalf("ok %v", ok)
			}
			if ok && string(clean[start:end]) != tt.want {
				t.Errorf("got %q, want %q", string(clean[start:end]), tt.want)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	h := http.Header{}
	h.Set("X-App-Usage", `{"call_count":100,"total_cputime":25,"total_time":25}`)
	h.Set("X-Business-Use-Case-Usage", `{"104689318914162":[{"type":"pages","call_count":100,"total_cputime":25,"total_time":25,"estimated_time_to_regain_access":19}],"17841405309211844":[{"type":"instagram","call_count":40,"estimated_time_to_regain_access":3}]}`)
	if got := RegainAccess(h); got != 19*time.Minute {
		t.Errorf("wait %s", got)
	}
	if n := len(Usages(h)); n != 3 {
		t.Errorf("%d usages", n)
	}
	h.Set("X-Business-Use-Case-Usage", "not json")
	if got := RegainAccess(h); got != 0 {
		t.Errorf("wait %s from nothing", got)
	}
	h.Set("X-Page-Usage", `{"call_count":98,"total_cputime":10,"total_time":10,"estimated_time_to_regain_access":0.5}`)
	if got := RegainAccess(h); got != 30*time.Second {
		t.Errorf("wait %s", got)
	}
}

func TestClassify(t *testing.T) {
	status := func(code int, body string) error {
		return &fetch.StatusError{Network: "facebook", Method: "GET", URL: "https://graph.facebook.com/v21.0/1/posts?access_token=secret", Status: code, Body: []byte(body)}
	}
	tests := []struct {
		name  string
		err   error
		check func(t *testing.T, err error)
	}{
		{name: "user limit 17", err: status(400, `{"error":{"message":"(#17) User request limit reached","type":"OAuthException","code":17}}`),
			check: func(t *testing.T, err error) {
				var r *connectors.RetryError
				if !errors.As(err, &r) || r.Wait != DefaultRateLimitWait {
					t.Errorf("%T %v", err, err)
				}
			}},
		{name: "page limit 32", err: status(400, `{"error":{"message":"(#32) Page request limit reached","type":"OAuthException","code":32}}`),
			check: func(t *testing.T, err error) {
				var r *connectors.RetryError
				if !errors.As(err, &r) {
					t.Errorf("%T %v", err, err)
				}
			}},
		{name: "permission", err: &connectors.AuthError{Status: 403, Err: status(403, `{"error":{"message":"(#10) This endpoint requires the 'pages_read_engagement' permission","type":"OAuthException","code":10}}`)},
			check: func(t *testing.T, err error) {
				var a *connectors.AuthError
				if !errors.As(err, &a) || !strings.Contains(err.Error(), "lacks a permission") {
					t.Errorf("%T %v", err, err)
				}
			}},
		{name: "other OAuthException with 403", err: &connectors.AuthError{Status: 403, Err: status(403, `{"error":{"message":"blocked","type":"OAuthException","code":368}}`)},
			check: func(t *testing.T, err error) {
				var a *connectors.AuthError
				if !errors.As(err, &a) || !strings.Contains(err.Error(), "refused") {
					t.Errorf("%T %v", err, err)
				}
			}},
		{name: "a proxy's 403 page stays fetch's AuthError", err: &connectors.AuthError{Status: 403, Err: status(403, `<html>denied</html>`)},
			check: func(t *testing.T, err error) {
				var a *connectors.AuthError
				if !errors.As(err, &a) {
					t.Errorf("%T %v", err, err)
				}
			}},
		{name: "transient server error", err: status(500, `{"error":{"message":"An unknown error has occurred.","type":"OAuthException","is_transient":true,"code":1}}`),
			check: func(t *testing.T, err error) {
				var api *APIError
				var r *connectors.RetryError
				if !errors.As(err, &api) || errors.As(err, &r) || api.InvalidQuery() || !strings.Contains(err.Error(), `page "1"`) {
					t.Errorf("%T %v", err, err)
				}
			}},
		{name: "invalid parameter 100", err: status(400, `{"error":{"message":"(#100) Tried accessing nonexisting field (postz)","type":"OAuthException","code":100}}`),
			check: func(t *testing.T, err error) {
				var api *APIError
				if !errors.As(err, &api) || !api.InvalidQuery() {
					t.Errorf("%T %v", err, err)
				}
			}},
		{name: "network failure passes", err: errors.New("dial tcp: refused"),
			check: func(t *testing.T, err error) {
				if err.Error() != "dial tcp: refused" {
					t.Errorf("%v", err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classify("facebook", `page "1"`, tt.err, http.Header{})
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("token shows: %v", err)
			}
			tt.check(t, err)
		})
	}
}

func TestCursor(t *testing.T) {
	var c Cursor
	t0 := time.Unix(1_800_000_000, 0)
	if !c.IsZero() || c.Seen(t0, "a") {
		t.Fatal("zero cursor sees")
	}
	c.Advance(t0, "a")
	c.Advance(t0, "b")
	c.Advance(t0.Add(-time.Hour), "old")
	if c.Time != t0.Unix() || !slices.Equal(c.IDs, []string{"a", "b"}) {
		t.Fatalf("%+v", c)
	}
	if !c.Seen(t0, "a") || c.Seen(t0, "c") || !c.Seen(t0.Add(-time.Second), "z") || c.Seen(t0.Add(time.Second), "a") {
		t.Error("seen")
	}
	if !c.Past(t0.Add(-time.Second)) || c.Past(t0) {
		t.Error("past")
	}
	c.Advance(t0.Add(time.Second), "d")
	if !slices.Equal(c.IDs, []string{"d"}) {
		t.Errorf("%+v", c)
	}
}

func TestKeyPart(t *testing.T) {
	natsKey := regexp.MustCompile(`^[-/_=.a-zA-Z0-9]+$`)
	for _, s := range []string{"choruslive", "Summit_26", "كورس_لايف", "合唱団", "chorus.live", "b64-x", "a b", ""} {
		k := KeyPart(s)
		if !natsKey.MatchString(k) || strings.Contains(k, ".") {
			t.Errorf("KeyPart(%q) = %q", s, k)
		}
	}
	if KeyPart("choruslive") != "choruslive" || KeyPart("كورس") == KeyPart("合唱") {
		t.Error("keys")
	}
}

func FuzzText(f *testing.F) {
	f.Add("🎉 #tag @user https://x.example/(a) \u202E\r\n", 2, 3)
	f.Add("ライブ ＃合唱団", 0, 1)
	f.Fuzz(func(t *testing.T, s string, off, length int) {
		clean := Clean(s)
		n := len([]rune(clean))
		e := Scan(clean, true)
		for _, sp := range slices.Concat(e.Hashtags, e.Mentions, e.URLs) {
			if sp.Start < 0 || sp.End <= sp.Start || sp.End > n {
				t.Fatalf("span %+v outside %d runes", sp, n)
			}
		}
		if start, end, ok := NewOffsets(s).Span(off, length); ok && (start < 0 || end <= start || end > n) {
			t.Fatalf("offsets [%d,%d) outside %d runes", start, end, n)
		}
		if Clean(clean) != clean {
			t.Fatalf("Clean is not idempotent on %q", s)
		}
	})
}

func TestAppendUnique(t *testing.T) {
	var list []string
	for _, v := range []string{"Go", "chorus", "go", "GO", "Chorus", "wall"} {
		list = AppendUnique(list, v)
	}
	if want := []string{"Go", "chorus", "wall"}; !slices.Equal(list, want) {
		t.Errorf("got %v, want %v", list, want)
	}
}
