package instagram

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/post"
)

// graphError answers a Graph API error body.
func graphError(status, code, subcode int, msg string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":%q,"type":"GraphMethodException","code":%d,"error_subcode":%d,"fbtrace_id":"AbC"}}`, msg, code, subcode)
	}
}

// TestCheck: the compliance sweep asks the Graph API about each post
// shown: one that stands, one deleted (error 100, subcode 33), one the
// token may not read (error 10: unverifiable), one another error 100 (a
// field: not a deletion, the sweep stops) and a rate limit (the sweep
// stops, nothing is taken down).
func TestCheck(t *testing.T) {
	g := newFakeGraph(t)
	src := newSource(t, g, "[summit]\ncompliance_interval: 20m", nil, nil)
	if c := src.Compliance(); c.ComplianceInterval.Minutes() != 20 || c.CompliancePerMinute != complianceRate {
		t.Errorf("compliance settings: %+v", c)
	}
	g.route("/111", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("fields") == "" {
			t.Error("no fields asked")
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"111"}`)
	})
	g.route("/222", graphError(400, 100, 33, "Unsupported get request. Object with ID '222' does not exist, cannot be loaded due to missing permissions, or does not support this operation."))
	g.route("/333", graphError(400, 10, 0, "Application does not have permission for this action"))
	got, err := src.Check(t.Context(), []post.Post{{ID: Network + ":111"}, {ID: Network + ":222"}, {ID: Network + ":333"}, {ID: "other:1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []connectors.Standing{{ID: Network + ":111"}, {ID: Network + ":222", Gone: post.GoneDeleted}, {ID: Network + ":333", Unknown: true}, {ID: "other:1", Unknown: true}}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	}
	g.route("/444", graphError(400, 100, 0, "(#100) Tried accessing nonexisting field (is_hidden)"))
	if _, err := src.Check(t.Context(), []post.Post{{ID: Network + ":444"}}); err == nil {
		t.Error("another error 100 was taken for a deletion")
	}
	g.route("/555", graphError(400, 4, 0, "Application request limit reached"))
	if _, err := src.Check(t.Context(), []post.Post{{ID: Network + ":555"}}); err == nil {
		t.Error("a rate limit answered standings")
	}
}
