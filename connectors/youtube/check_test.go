package youtube

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/sourcetest"
	"github.com/chorus-wall/chorus/post"
)

// TestCheck: the compliance sweep asks videos.list about the videos shown
// in one call: a video missing from the answer is deleted, a rejected
// upload deleted, a private one private, a newly age-restricted one
// sensitive (one shown as sensitive already stands); chat messages cannot
// be asked about; a quota error takes nothing down.
func TestCheck(t *testing.T) {
	f := newFakeAPI(t)
	src, _ := newSource(t, f, "hashtags: [HarbourFest26]\ncompliance_interval: 30m\n", nil, nil)
	if c := src.Compliance(); c.ComplianceInterval.Minutes() != 30 || c.CompliancePerMinute != complianceRate || c.Batch != 50 {
		t.Errorf("compliance settings: %+v", c)
	}
	f.script("videos", ok(t, "videos_check.json"), answer(http.StatusForbidden, sourcetest.Testdata(t, "error_quota.json")))
	posts := []post.Post{
		{ID: "youtube:hArb0urL1v3"}, {ID: "youtube:pR1vat3Vid0"}, {ID: "youtube:ag3Restr1ct"},
		{ID: "youtube:ag3Restr1ct", Sensitive: true}, {ID: "youtube:r3ject3dVid"}, {ID: "youtube:g0neF0rever"},
		{ID: "youtube:LCC.EhwKGkNNdUx5Yk92dU1zQ0ZRN1k0QVFkN2xJQkRn"},
	}
	got, err := src.Check(t.Context(), posts)
	if err != nil {
		t.Fatal(err)
	}
	want := []connectors.Standing{
		{ID: "youtube:hArb0urL1v3"}, {ID: "youtube:pR1vat3Vid0", Gone: post.GonePrivate}, {ID: "youtube:ag3Restr1ct", Gone: post.GoneSensitive},
		{ID: "youtube:ag3Restr1ct"}, {ID: "youtube:r3ject3dVid", Gone: post.GoneDeleted}, {ID: "youtube:g0neF0rever", Gone: post.GoneDeleted},
		{ID: "youtube:LCC.EhwKGkNNdUx5Yk92dU1zQ0ZRN1k0QVFkN2xJQkRn", Unknown: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d standings, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Gone != want[i].Gone || got[i].Unknown != want[i].Unknown {
			t.Errorf("%s: got %+v, want %+v", want[i].ID, got[i], want[i])
		}
	}
	reqs := f.got("videos")
	if len(reqs) != 1 || !strings.Contains(reqs[0].URL.Query().Get("part"), "status") ||
		strings.Count(reqs[0].URL.Query().Get("id"), ",") != 5 {
		t.Errorf("videos.list calls: %v", reqs)
	}
	if _, err := src.Check(t.Context(), posts[:1]); err == nil {
		t.Error("a quota error answered standings")
	}
}
