package reddit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeReddit answers listing endpoints the way Reddit does: each listing
// holds its posts newest first and pages them with limit (at most 100),
// before (the posts newer than a fullname, nothing when it is gone) and
// after (the posts older than it). Requests are recorded.
type fakeReddit struct {
	*httptest.Server
	t *testing.T

	mu       sync.Mutex
	listings map[string][]json.RawMessage // path (without .json) -> children, newest first
	requests []*http.Request
	// hook may answer a request itself (rate limits, errors); it returns
	// true when it did.
	hook func(w http.ResponseWriter, r *http.Request, n int) bool
	// oauth, when set, requires "Authorization: bearer <token>" on
	// listings and serves tokens for the client credentials.
	oauth            bool
	clientID, secret string
	tokens           int
	currentToken     string
}

func newFakeReddit(t *testing.T) *fakeReddit {
	t.Helper()
	f := &fakeReddit{t: t, listings: map[string][]json.RawMessage{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeReddit) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Clone(context.Background()))
	n := len(f.requests)
	hook := f.hook
	f.mu.Unlock()
	if hook != nil && hook(w, r, n) {
		return
	}
	if r.URL.Path == "/api/v1/access_token" {
		f.token(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.oauth && r.Header.Get("Authorization") != "bearer "+f.currentToken {
		w.Header().Set("www-authenticate", `Bearer realm="reddit", error="invalid_token"`)
		http.Error(w, `{"message": "Unauthorized", "error": 401}`, http.StatusUnauthorized)
		return
	}
	path := strings.TrimSuffix(r.URL.Path, ".json")
	children, ok := f.listings[path]
	if !ok {
		http.Error(w, `{"reason": "private", "message": "Forbidden", "error": 403}`, http.StatusForbidden)
		return
	}
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 25
	}
	lo, hi := 0, min(limit, len(children))
	switch {
	case q.Get("before") != "":
		i := indexOf(children, q.Get("before"))
		if i < 0 {
			lo, hi = 0, 0
		} else {
			lo, hi = max(0, i-limit), i
		}
	case q.Get("after") != "":
		i := indexOf(children, q.Get("after"))
		if i < 0 {
			lo, hi = 0, 0
		} else {
			lo, hi = i+1, min(len(children), i+1+limit)
		}
	}
	page := children[lo:hi]
	var data struct {
		After    *string           `json:"after"`
		Dist     int               `json:"dist"`
		Modhash  string            `json:"modhash"`
		Children []json.RawMessage `json:"children"`
		Before   *string           `json:"before"`
	}
	data.Children = append([]json.RawMessage{}, page...)
	data.Dist = len(page)
	if hi < len(children) && len(page) > 0 {
		s := nameOf(page[len(page)-1])
		data.After = &s
	}
	if lo > 0 && len(page) > 0 {
		s := nameOf(page[0])
		data.Before = &s
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("x-ratelimit-remaining", "95.0")
	w.Header().Set("x-ratelimit-used", "5")
	w.Header().Set("x-ratelimit-reset", "300")
	_ = json.NewEncoder(w).Encode(map[string]any{"kind": "Listing", "data": data})
}

func (f *fakeReddit) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, secret, ok := r.BasicAuth()
	_ = r.ParseForm()
	if r.Method != http.MethodPost || !ok || id != f.clientID || secret != f.secret || r.PostForm.Get("grant_type") != "client_credentials" {
		http.Error(w, `{"message": "Unauthorized", "error": 401}`, http.StatusUnauthorized)
		return
	}
	f.tokens++
	f.currentToken = fmt.Sprintf("token-%d", f.tokens)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(TokenResponse{AccessToken: f.currentToken, TokenType: "bearer", ExpiresIn: 86400, Scope: "*"})
}

func (f *fakeReddit) revokeToken() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.currentToken = "revoked-" + f.currentToken
}

// set replaces a listing's children (newest first).
func (f *fakeReddit) set(path string, children []json.RawMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listings[path] = slices.Clone(children)
}

// prepend adds newer posts on top of a listing.
func (f *fakeReddit) prepend(path string, children ...json.RawMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listings[path] = append(slices.Clone(children), f.listings[path]...)
}

// edit replaces the child named name in every listing.
func (f *fakeReddit) edit(name string, change func(map[string]any)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for path, children := range f.listings {
		for i, c := range children {
			if nameOf(c) != name {
				continue
			}
			var thing struct {
				Kind string         `json:"kind"`
				Data map[string]any `json:"data"`
			}
			if err := json.Unmarshal(c, &thing); err != nil {
				f.t.Fatal(err)
			}
			change(thing.Data)
			b, _ := json.Marshal(thing)
			f.listings[path][i] = b
		}
	}
}

// remove deletes the child named name from every listing.
func (f *fakeReddit) remove(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for path, children := range f.listings {
		f.listings[path] = slices.DeleteFunc(slices.Clone(children), func(c json.RawMessage) bool { return nameOf(c) == name })
	}
}

func (f *fakeReddit) got() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func indexOf(children []json.RawMessage, name string) int {
	for i, c := range children {
		if nameOf(c) == name {
			return i
		}
	}
	return -1
}

func nameOf(c json.RawMessage) string {
	var thing struct {
		Data struct {
			Name string `json:"name"`
		} `json:"data"`
	}
	_ = json.Unmarshal(c, &thing)
	return thing.Data.Name
}

// fixtureChildren returns the children of a listing fixture.
func fixtureChildren(t testing.TB, name string) []json.RawMessage {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var l struct {
		Data struct {
			Children []json.RawMessage `json:"children"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	return l.Data.Children
}

// generated makes a self post shaped like the fixture's second post, with
// its own id, title and creation time.
func generated(t testing.TB, id, title string, created float64) json.RawMessage {
	t.Helper()
	var thing struct {
		Kind string         `json:"kind"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(fixtureChildren(t, "new.json")[1], &thing); err != nil {
		t.Fatal(err)
	}
	thing.Data["id"], thing.Data["name"], thing.Data["title"] = id, "t3_"+id, title
	thing.Data["selftext"] = "Body of " + title
	thing.Data["created"], thing.Data["created_utc"] = created, created
	thing.Data["permalink"] = "/r/HarbourFest/comments/" + id + "/generated/"
	b, _ := json.Marshal(thing)
	return b
}
