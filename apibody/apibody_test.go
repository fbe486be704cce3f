package apibody

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chorus-wall/chorus/config"
)

type reason struct {
	Reason string `json:"reason"`
}

// action is a flat body, like the bulk action's.
type action struct {
	reason
	Action string   `json:"action"`
	Posts  []string `json:"posts"`
	Limit  int      `json:"limit"`
	Media  *int     `json:"media"`
	Force  bool     `json:"force"`
}

func status(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

func TestDecode(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	for _, tt := range []struct {
		name, contentType, body string
		want                    action
		status                  int
		msg                     string
	}{
		{name: "json", contentType: "application/json", body: `{"action":"pin","posts":["a","b"],"reason":"sponsor","limit":3}`,
			want: action{reason: reason{"sponsor"}, Action: "pin", Posts: []string{"a", "b"}, Limit: 3}},
		{name: "json with charset", contentType: "application/json; charset=utf-8", body: `{"reason":"x"}`, want: action{reason: reason{"x"}}},
		{name: "no content type", body: `{"reason":"x"}`, want: action{reason: reason{"x"}}},
		{name: "empty body", contentType: form, body: "  ", want: action{}},
		{name: "form", contentType: form, body: "action=pin&posts=a&posts=b&reason=spam+bot&limit=2&media=0&force=true",
			want: action{reason: reason{"spam bot"}, Action: "pin", Posts: []string{"a", "b"}, Limit: 2, Media: new(int), Force: true}},
		{name: "json sent as a form", contentType: form, body: ` {"reason":"off topic"}`, want: action{reason: reason{"off topic"}}},
		{name: "multipart", contentType: "multipart/form-data; boundary=XX",
			body: "--XX\r\nContent-Disposition: form-data; name=\"reason\"\r\n\r\nall clear\r\n--XX--\r\n", want: action{reason: reason{"all clear"}}},

		{name: "unknown key", body: `{"reasn":"x","actoin":"pin"}`, status: 400,
			msg: "actoin: unknown key; known keys here: action, force, limit, media, posts, reason; reasn: unknown key"},
		{name: "unknown form key", contentType: form, body: "reasn=x", status: 400, msg: "reasn: unknown key"},
		{name: "wrong kinds", body: `{"reason":["x"],"limit":"ten","posts":"a","force":1}`, status: 400,
			msg: `force: expected true or false, got 1; limit: expected a whole number, got "ten"; posts: expected a list, got "a"; reason: expected a string, got a list`},
		{name: "fraction", body: `{"limit":1.5}`, status: 400, msg: "limit: expected a whole number that fits int"},
		{name: "form number", contentType: form, body: "limit=many", status: 400, msg: `limit: expected a whole number, got "many"`},
		{name: "form value twice", contentType: form, body: "reason=a&reason=b", status: 400, msg: "reason: given 2 times"},
		{name: "bad json", body: `{"reason":`, status: 400, msg: "body is not valid JSON"},
		{name: "two objects", body: `{"reason":"a"}{"reason":"b"}`, status: 400, msg: "one JSON object"},
		{name: "not an object", body: `["a"]`, status: 400, msg: "must be a JSON object"},
		{name: "text", contentType: "text/plain", body: "because", status: 415, msg: "application/json, application/x-www-form-urlencoded"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got action
			err := Decode(tt.contentType, []byte(tt.body), &got)
			if tt.status != 0 {
				if status(err) != tt.status || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("err = %v (status %d), want %d with %q", err, status(err), tt.status, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Reason != tt.want.Reason || got.Action != tt.want.Action || !slices.Equal(got.Posts, tt.want.Posts) ||
				got.Limit != tt.want.Limit || got.Force != tt.want.Force || (got.Media == nil) != (tt.want.Media == nil) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeNestedTakesOnlyJSON(t *testing.T) {
	var s config.Stream
	err := Decode("application/x-www-form-urlencoded", []byte("title=x"), &s)
	if status(err) != http.StatusUnsupportedMediaType {
		t.Fatalf("form for a nested body: %v", err)
	}
	err = Decode("application/json", []byte(`{"filters":{"spam":{"max_linkz":2}},"rules":[{"name":"a","when":{"hashtag":["x"]}}],"delay":"soon"}`), &s)
	for _, want := range []string{"filters.spam.max_linkz: unknown key", "rules[0].when.hashtag: unknown key", `delay: "soon" is not a duration`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}

func TestPatch(t *testing.T) {
	base := func() config.Stream {
		return config.Stream{ID: "wall", Title: "Wall", Sources: []string{"hook"}, BlockedWords: []string{"idiot"},
			Filters: config.Filters{BlockedHashtags: []string{"spoiler"}, Sensitive: "allow", MinFollowers: 5,
				Spam: config.SpamFilter{MaxLinks: 2, Action: "reject"}}}
	}
	for _, tt := range []struct {
		name, body string
		check      func(s config.Stream) bool
		msg        string
	}{
		{name: "one filter", body: `{"filters":{"blocked_hashtags":["leak"]}}`, check: func(s config.Stream) bool {
			return slices.Equal(s.Filters.BlockedHashtags, []string{"leak"}) && s.Filters.Sensitive == "allow" &&
				s.Filters.MinFollowers == 5 && s.Filters.Spam.MaxLinks == 2 && s.Title == "Wall" && slices.Equal(s.BlockedWords, []string{"idiot"})
		}},
		{name: "nested filter", body: `{"filters":{"spam":{"max_links":4}}}`, check: func(s config.Stream) bool {
			return s.Filters.Spam.MaxLinks == 4 && s.Filters.Spam.Action == "reject" && s.Filters.Sensitive == "allow"
		}},
		{name: "null clears", body: `{"filters":{"sensitive":null,"spam":null},"blocked_words":null}`, check: func(s config.Stream) bool {
			return s.Filters.Sensitive == "" && s.Filters.Spam == (config.SpamFilter{}) && s.BlockedWords == nil && s.Filters.MinFollowers == 5
		}},
		{name: "empty", body: ``, check: func(s config.Stream) bool { return s.Title == "Wall" && s.Filters.MinFollowers == 5 }},
		{name: "typo changes nothing", body: `{"title":"New","filters":{"blocked_hastags":["x"]}}`, msg: "filters.blocked_hastags: unknown key"},
		{name: "bad value changes nothing", body: `{"title":"New","display_limit":"many"}`, msg: "display_limit: expected a whole number"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := base()
			err := Patch("application/json", []byte(tt.body), &s)
			if tt.msg != "" {
				if status(err) != http.StatusBadRequest || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("err = %v, want 400 with %q", err, tt.msg)
				}
				if s.Title != "Wall" {
					t.Fatal("a refused patch changed the value")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(s) {
				t.Fatalf("got %+v", s)
			}
		})
	}
	s := base()
	if err := Patch("application/x-www-form-urlencoded", []byte("title=x"), &s); status(err) != http.StatusUnsupportedMediaType {
		t.Fatalf("form patch: %v", err)
	}
}
