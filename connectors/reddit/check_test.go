package reddit

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/post"
)

// TestCheckReadsWhatRedditSays: one /api/info request checks a batch; a
// post missing from the answer, deleted by its author ("[deleted]"),
// removed by moderators (removed_by_category, "[removed]") is gone, one in
// a subreddit gone private is private, one newly NSFW or spoiler is
// sensitive, a self post edited since (edited: a time) is an edit; the
// rest stand. A refused request is an error and takes nothing down.
func TestCheckReadsWhatRedditSays(t *testing.T) {
	f := newFakeReddit(t)
	change := map[string]func(map[string]any){
		"a1": func(map[string]any) {},
		"a2": func(d map[string]any) { d["author"], d["selftext"] = "[deleted]", "[deleted]" },
		"a3": func(d map[string]any) { d["removed_by_category"], d["selftext"] = "moderator", "[removed]" },
		"a5": func(d map[string]any) { d["subreddit_type"] = "private" },
		"a6": func(d map[string]any) { d["over_18"] = true },
		"a7": func(d map[string]any) { d["selftext"], d["edited"] = "Edited body", 1764000000.0 },
		"a8": func(d map[string]any) { d["edited"] = false },
	}
	refuse := false
	f.hook = func(w http.ResponseWriter, r *http.Request, _ int) bool {
		if r.URL.Path != "/api/info.json" {
			return false
		}
		if refuse {
			w.Header().Set("Retry-After", "30")
			http.Error(w, `{"message": "Too Many Requests", "error": 429}`, http.StatusTooManyRequests)
			return true
		}
		var children []json.RawMessage
		for _, name := range strings.Split(r.URL.Query().Get("id"), ",") {
			id := strings.TrimPrefix(name, "t3_")
			ch, ok := change[id]
			if !ok {
				continue // Reddit leaves out what it does not have
			}
			var thing map[string]any
			_ = json.Unmarshal(generated(t, id, "Title "+id, 1763000000), &thing)
			ch(thing["data"].(map[string]any))
			raw, _ := json.Marshal(thing)
			children = append(children, raw)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"kind": "Listing", "data": map[string]any{"children": children}})
		return true
	}
	src, _ := newSource(t, yamlFor(f, ""), nil)
	// The posts as shown: adapted from the same generated posts.
	var shown []post.Post
	for _, id := range []string{"a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"} {
		l, err := parseLink(Thing{Kind: "t3", Data: json.RawMessage(mustData(t, generated(t, id, "Title "+id, 1763000000)))})
		if err != nil {
			t.Fatal(err)
		}
		p, err := Adapt(l, "fest", src.now())
		if err != nil {
			t.Fatal(err)
		}
		shown = append(shown, p)
	}
	got, err := src.Check(t.Context(), shown)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"reddit:a1": "", "reddit:a2": post.GoneDeleted, "reddit:a3": post.GoneDeleted, "reddit:a4": post.GoneDeleted,
		"reddit:a5": post.GonePrivate, "reddit:a6": post.GoneSensitive, "reddit:a7": "", "reddit:a8": ""}
	if len(got) != len(shown) {
		t.Fatalf("%d standings for %d posts", len(got), len(shown))
	}
	for _, g := range got {
		if g.Gone != want[g.ID] || g.Unknown {
			t.Errorf("%s: %+v, want gone %q", g.ID, g, want[g.ID])
		}
		if (g.Edit != nil) != (g.ID == "reddit:a7") {
			t.Errorf("%s: edit %+v", g.ID, g.Edit)
		}
	}
	for _, g := range got {
		if g.Edit != nil && !strings.Contains(g.Edit.Text, "Edited body") {
			t.Errorf("the edit's text: %q", g.Edit.Text)
		}
	}
	var infos []string
	for _, r := range f.got() {
		if r.URL.Path == "/api/info.json" {
			infos = append(infos, r.URL.Query().Get("id"))
		}
	}
	if len(infos) != 1 || infos[0] != "t3_a1,t3_a2,t3_a3,t3_a4,t3_a5,t3_a6,t3_a7,t3_a8" {
		t.Errorf("info requests: %q", infos)
	}
	refuse = true
	if _, err := src.Check(t.Context(), shown[:1]); err == nil {
		t.Error("a 429 is not an error")
	}
	if c := src.Compliance(); c.Batch != 100 || c.CompliancePerMinute != complianceRate {
		t.Errorf("compliance settings: %+v", c)
	}
	var _ connectors.Checker = src
}

func mustData(t *testing.T, thing json.RawMessage) []byte {
	t.Helper()
	var v struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(thing, &v); err != nil {
		t.Fatal(err)
	}
	return v.Data
}
