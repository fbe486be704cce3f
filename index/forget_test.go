package index

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/post"
)

// fakeHash stands for privacy.Hasher in the index's tests.
func fakeHash(key string) string { return "h(" + strings.ToLower(key) + ")" }

// storeHolds reports whether a file of the index holds s.
func storeHolds(t *testing.T, dir, s string) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		found = found || bytes.Contains(data, []byte(s))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestEraseAndPurgeLeaveNothingInTheFiles: an erase event removes every
// document of the author (their posts and the audit entries about them)
// and a purge event the listed posts; after Compact, their text is in no
// file of the index, even when the rest of the index sits in one large
// segment that no ordinary merge would touch.
func TestEraseAndPurgeLeaveNothingInTheFiles(t *testing.T) {
	const marker, purged = "zqxindexmarker", "zqxpurgedmarker"
	dir := filepath.Join(t.TempDir(), "index")
	x := open(t, dir)
	defer x.Close()
	x.AuthorHash = fakeHash
	var events []bus.Event
	seq := uint64(0)
	add := func(e bus.Event) {
		seq++
		e.Seq = seq
		events = append(events, e)
	}
	for i := range 1000 {
		p := &post.Post{ID: fmt.Sprintf("x:%d", i), Network: "x", Text: fmt.Sprintf("ordinary post number %d", i), Author: post.Author{Handle: "crowd"}}
		add(ev(0, bus.EventApprove, "wall", p))
	}
	eve := &post.Post{ID: "x:eve1", Network: "x", Text: "hello " + marker, Author: post.Author{ID: "42", Handle: "eve", Name: "Eve " + marker}}
	old := &post.Post{ID: "x:old", Network: "x", Text: "long ago " + purged, Author: post.Author{Handle: "ana"}}
	add(ev(0, bus.EventApprove, "wall", eve))
	add(ev(0, bus.EventReject, "wall", old))
	add(bus.Event{Kind: bus.EventHideAuthor, Stream: "wall", Author: "x:eve", Actor: "mod"})
	if err := x.Apply(bus.Batch{Events: events, LastSeq: seq}); err != nil {
		t.Fatal(err)
	}
	if err := x.Compact(t.Context()); err != nil { // one large segment
		t.Fatal(err)
	}
	if !storeHolds(t, dir, marker) || !storeHolds(t, dir, purged) {
		t.Fatal("the markers are not in the index files to begin with")
	}
	var forgot []post.Post
	x.OnForget = func(p []post.Post) { forgot = append(forgot, p...) }
	events = nil
	add(bus.Event{Kind: bus.EventErase, Stream: "wall", Author: fakeHash("x:eve"), Erased: []string{fakeHash("x:eve"), fakeHash("x:#42")}, Actor: "owner"})
	add(bus.Event{Kind: bus.EventPurge, Stream: "wall", Posts: []string{"x:old"}, Actor: "retention"})
	if err := x.Apply(bus.Batch{Events: events, LastSeq: seq}); err != nil {
		t.Fatal(err)
	}
	if len(forgot) != 2 {
		t.Errorf("OnForget got %d posts, want 2", len(forgot))
	}
	for _, id := range []string{"x:eve1", "x:old"} {
		if _, _, err := x.Find(t.Context(), "wall", id); err != ErrNotFound {
			t.Errorf("%s: %v, want not found", id, err)
		}
	}
	audit, _, err := x.Audit(t.Context(), AuditQuery{Stream: "wall", Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range audit {
		if a.PostID == "x:eve1" || a.PostID == "x:old" || a.Author == "x:eve" {
			t.Errorf("audit entry left: %+v", a)
		}
	}
	if audit[0].Event != "purge" || audit[1].Event != "erase" || audit[1].Author != fakeHash("x:eve") {
		t.Errorf("audit: %+v", audit[:2])
	}
	if err := x.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{marker, purged} {
		if storeHolds(t, dir, s) {
			t.Errorf("%q is still in the index files", s)
		}
	}
	if n, _ := x.Count(); n < 1000 {
		t.Errorf("the others' posts went too: %d documents left", n)
	}
	// A post of the erased author arriving later is not indexed.
	x.Banned = func(p *post.Post, stream string) bool { return p.AuthorKey() == "x:eve" }
	seq++
	if err := x.Apply(bus.Batch{Events: []bus.Event{ev(seq, bus.EventApprove, "wall", eve)}, LastSeq: seq}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := x.Find(t.Context(), "wall", "x:eve1"); err != ErrNotFound {
		t.Errorf("an erased author's late post was indexed: %v", err)
	}
}
