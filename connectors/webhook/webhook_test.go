package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/post"
)

const secret = "test-secret-0123456789"

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestVerify(t *testing.T) {
	body := []byte(`{"id":"1","text":"hi"}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	good := Sign([]byte(secret), now, body)
	tests := []struct {
		name      string
		ts, sig   string
		body      []byte
		at        time.Time
		wantError error
	}{
		{name: "good", ts: ts, sig: good, body: body, at: now},
		{name: "good with clock skew", ts: ts, sig: good, body: body, at: now.Add(-4 * time.Minute)},
		{name: "unsigned", ts: "", sig: "", body: body, at: now, wantError: ErrUnsigned},
		{name: "no timestamp", ts: "", sig: good, body: body, at: now, wantError: ErrUnsigned},
		{name: "timestamp not a number", ts: "yesterday", sig: good, body: body, at: now, wantError: ErrBadTimestamp},
		{name: "stale", ts: ts, sig: good, body: body, at: now.Add(6 * time.Minute), wantError: ErrStale},
		{name: "from the future", ts: ts, sig: good, body: body, at: now.Add(-6 * time.Minute), wantError: ErrStale},
		{name: "tampered body", ts: ts, sig: good, body: []byte(`{"id":"1","text":"hx"}`), at: now, wantError: ErrBadSignature},
		{name: "wrong secret", ts: ts, sig: Sign([]byte("other-secret-0123456"), now, body), body: body, at: now, wantError: ErrBadSignature},
		{name: "no prefix", ts: ts, sig: strings.TrimPrefix(good, "sha256="), body: body, at: now, wantError: ErrBadSignature},
		{name: "not hex", ts: ts, sig: "sha256=zz", body: body, at: now, wantError: ErrBadSignature},
		{name: "timestamp swapped", ts: strconv.FormatInt(now.Unix()+1, 10), sig: good, body: body, at: now, wantError: ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify([]byte(secret), tt.ts, tt.sig, tt.body, tt.at, 5*time.Minute)
			if !errors.Is(err, tt.wantError) {
				t.Fatalf("err = %v, want %v", err, tt.wantError)
			}
		})
	}
}

func TestParseBody(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    int
		wantErr string
	}{
		{name: "one", body: `{"id":"1","text":"hi"}`, want: 1},
		{name: "array", body: `[{"id":"1","text":"hi"},{"id":"2","text":"yo","network":"mastodon"}]`, want: 2},
		{name: "empty", body: ``, wantErr: "empty body"},
		{name: "empty array", body: `[]`, wantErr: "no posts"},
		{name: "malformed", body: `{"id":"1",`, wantErr: "malformed JSON"},
		{name: "syntax", body: `{"id":1x}`, wantErr: "malformed JSON"},
		{name: "wrong type", body: `{"id":"1","text":42}`, wantErr: "field text"},
		{name: "trailing", body: `{"id":"1","text":"a"} {"id":"2"}`, wantErr: "after the first JSON value"},
		{name: "no id", body: `{"text":"hi"}`, wantErr: "id is required"},
		{name: "no text", body: `{"id":"1"}`, wantErr: "text is required"},
		{name: "second post bad", body: `[{"id":"1","text":"a"},{"id":"2"}]`, wantErr: "post 1: invalid post: text is required"},
		{name: "too many", body: `[` + strings.Repeat(`{"id":"1","text":"a"},`, 3) + `{"id":"9","text":"b"}]`, wantErr: "too many posts"},
		{name: "scalar", body: `"hello"`, wantErr: "malformed JSON: field (top level): expected an object, got string"},
		{name: "null", body: `null`, wantErr: "the body is null: send one post object or an array of posts"},
		// Errors name the field and the kind of value in JSON words, not Go types.
		{name: "number for a string", body: `{"id":1,"text":"a"}`, wantErr: "malformed JSON: field id: expected a string, got number"},
		{name: "string for a number", body: `{"id":"1","text":"a","author":{"followers":"120"}}`, wantErr: "malformed JSON: field author.followers: expected a whole number, got string"},
		{name: "string for an object", body: `{"id":"1","text":"a","author":"ana"}`, wantErr: "malformed JSON: field author: expected an object, got string"},
		{name: "string for a list", body: `{"id":"1","text":"a","hashtags":"Summit"}`, wantErr: "malformed JSON: field hashtags: expected an array of strings, got string"},
		{name: "bad time", body: `{"id":"1","text":"a","created_at":"yesterday"}`,
			wantErr: `malformed JSON: field created_at: "yesterday" is not a time such as 2026-11-23T10:00:00Z (RFC 3339)`},
		{name: "bad time in an array", body: `[{"id":"1","text":"a","created_at":"2026-11-23T10:00:00Z"},{"id":"2","text":"b","created_at":"23/11/2026"}]`,
			wantErr: `malformed JSON: post 1: field created_at: "23/11/2026" is not a time such as 2026-11-23T10:00:00Z (RFC 3339)`},
		{name: "number for a time", body: `{"id":"1","text":"a","created_at":1764000000}`, wantErr: "malformed JSON: field created_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			posts, err := ParseBody([]byte(tt.body), "webhook", "hook", 3, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(posts) != tt.want {
				t.Fatalf("posts %d err %v", len(posts), err)
			}
			for _, p := range posts {
				if p.Source != "hook" || !strings.Contains(p.ID, ":") {
					t.Fatalf("post not normalized: %+v", p)
				}
			}
		})
	}
	posts, _ := ParseBody([]byte(`[{"id":"1","text":"a"},{"id":"2","text":"b","network":"mastodon"}]`), "webhook", "hook", 10, now)
	if posts[0].ID != "webhook:1" || posts[1].ID != "mastodon:2" {
		t.Fatalf("ids %q %q", posts[0].ID, posts[1].ID)
	}
}

func newSource(t *testing.T, yaml string) *Source {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg.Sources[0], connectors.Deps{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return s.(*Source)
}

func TestSettings(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{
		{"sources: [{id: h, type: webhook}]", "sources[0].secret: is required"},
		{"sources: [{id: h, type: webhook, secret: short}]", "sources[0].secret"},
		{"sources: [{id: h, type: webhook, secret: " + secret + ", scret: x}]", "sources[0].scret (line 1): unknown key"},
		{"sources: [{id: h, type: webhook, secret: " + secret + ", max_age: 1s}]", "sources[0].max_age"},
		{"sources: [{id: h, type: webhook, secret: " + secret + ", network: 'Bad Net'}]", "sources[0].network"},
	} {
		cfg, err := config.Parse([]byte(tt.yaml))
		if err != nil {
			t.Fatal(err)
		}
		_, err = New(cfg.Sources[0], connectors.Deps{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.yaml, err, tt.want)
		}
	}
}

func TestHandle(t *testing.T) {
	s := newSource(t, "sources: [{id: hook, type: webhook, secret: "+secret+", max_body_bytes: 2048}]")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	// A stand-in for the runner: stores nothing, fails posts whose text says so.
	stored := make(chan []post.Post, 10)
	go func() {
		for {
			posts, ack, err := s.Read(ctx)
			if err != nil {
				return
			}
			if posts[0].Text == "fail" {
				ack(ctx, errors.New("bus down"))
				continue
			}
			stored <- posts
			ack(ctx, nil)
		}
	}()
	e := echo.New()
	e.POST("/api/v1/ingest/:source", s.Handle)
	send := func(body string, sign bool, at time.Time) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/ingest/hook", strings.NewReader(body))
		if sign {
			req.Header.Set(TimestampHeader, strconv.FormatInt(at.Unix(), 10))
			req.Header.Set(SignatureHeader, Sign([]byte(secret), at, []byte(body)))
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	tests := []struct {
		name   string
		body   string
		sign   bool
		at     time.Time
		status int
		stored bool
	}{
		{name: "stored", body: `[{"id":"1","text":"hi"},{"id":"2","text":"yo"}]`, sign: true, at: now, status: 202, stored: true},
		{name: "unsigned", body: `{"id":"3","text":"hi"}`, status: 401},
		{name: "stale", body: `{"id":"3","text":"hi"}`, sign: true, at: now.Add(-time.Hour), status: 401},
		{name: "malformed", body: `{"id":`, sign: true, at: now, status: 400},
		{name: "one bad post stores nothing", body: `[{"id":"4","text":"ok"},{"id":"5"}]`, sign: true, at: now, status: 400},
		{name: "too large", body: `{"id":"6","text":"` + strings.Repeat("a", 3000) + `"}`, sign: true, at: now, status: 413},
		{name: "store failure", body: `{"id":"7","text":"fail"}`, sign: true, at: now, status: 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := send(tt.body, tt.sign, tt.at)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), `"`) {
				t.Fatalf("no message in %q", rec.Body)
			}
			if tt.stored {
				if got := <-stored; len(got) != 2 || got[0].Source != "hook" {
					t.Fatalf("stored %+v", got)
				}
			}
		})
	}
	select {
	case got := <-stored:
		t.Fatalf("a rejected call stored %+v", got)
	default:
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if rec := send(`{"id":"8","text":"late"}`, true, now); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("after close: %d", rec.Code)
	}
}

// Calls arriving while a batch is being stored wait together and are
// stored in the next batch, in one publish; each is answered with its own
// posts once the batch is stored, or with 503 if it is not.
func TestConcurrentCallsShareABatch(t *testing.T) {
	s := newSource(t, "sources: [{id: hook, type: webhook, secret: "+secret+"}]")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.POST("/api/v1/ingest/:source", s.Handle)
	send := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/ingest/hook", strings.NewReader(body))
		req.Header.Set(TimestampHeader, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(SignatureHeader, Sign([]byte(secret), now, []byte(body)))
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	const callers = 40
	for _, fail := range []bool{false, true} {
		// The first call is read alone; the others queue up behind it and
		// are read as one batch once it is stored.
		results := make(chan *httptest.ResponseRecorder, callers)
		go func() { results <- send(`[{"id":"first","text":"a"}]`) }()
		first, ack, err := s.Read(ctx)
		if err != nil || len(first) != 1 {
			t.Fatalf("first read: %d posts, %v", len(first), err)
		}
		for i := 1; i < callers; i++ {
			go func() { results <- send(fmt.Sprintf(`[{"id":"%d-a","text":"a"},{"id":"%d-b","text":"b"}]`, i, i)) }()
		}
		for len(s.calls) < callers-1 {
			runtime.Gosched()
		}
		_ = ack(ctx, nil)
		posts, ack, err := s.Read(ctx)
		if err != nil || len(posts) != 2*(callers-1) {
			t.Fatalf("second read: %d posts, %v", len(posts), err)
		}
		for i := 0; i < len(posts); i += 2 { // each call's posts stay together, in order
			if strings.TrimSuffix(posts[i].ID, "-a") != strings.TrimSuffix(posts[i+1].ID, "-b") {
				t.Fatalf("posts %d and %d are %s and %s", i, i+1, posts[i].ID, posts[i+1].ID)
			}
		}
		var storeErr error
		if fail {
			storeErr = errors.New("bus down")
		}
		_ = ack(ctx, storeErr)
		for range callers {
			rec := <-results
			want := http.StatusAccepted
			if fail && !strings.Contains(rec.Body.String(), "first") {
				want = http.StatusServiceUnavailable
			}
			if rec.Code != want {
				t.Fatalf("fail=%t: status %d, want %d: %s", fail, rec.Code, want, rec.Body)
			}
			if want == http.StatusAccepted && !strings.Contains(rec.Body.String(), `"accepted":`) {
				t.Fatalf("answer %s", rec.Body)
			}
		}
	}
}
