package index

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/blevesearch/bleve/v2"

	"github.com/chorus-wall/chorus/bus/bustest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestMappingMatchesSchemaVersion holds the mapping to the version Open
// compares: changing the mapping without bumping schemaVersion would leave
// indexes built under the old one in place, answering wrongly.
func TestMappingMatchesSchemaVersion(t *testing.T) {
	m, err := newMapping()
	if err != nil {
		t.Fatal(err)
	}
	type golden struct {
		Schema  string          `json:"schema"`
		Mapping json.RawMessage `json:"mapping"`
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "mapping.golden.json")
	if *update {
		out, err := json.MarshalIndent(golden{Schema: schemaVersion, Mapping: raw}, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want golden
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, want.Mapping); err != nil {
		t.Fatal(err)
	}
	switch {
	case want.Schema == schemaVersion && !bytes.Equal(compact.Bytes(), raw):
		t.Fatalf("the mapping changed but schemaVersion is still %s: bump it, then run go test -update", schemaVersion)
	case want.Schema != schemaVersion:
		t.Fatalf("schemaVersion is %s, %s records %s: run go test -update", schemaVersion, path, want.Schema)
	}
}

// TestOpenRebuildsAnOlderIndex: an index built before schema versions (no
// phrase positions, hashtags matched only in lower case) is replaced on open
// and rebuilt from the events stream, after which phrases and any-case
// hashtags match.
func TestOpenRebuildsAnOlderIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index")
	old, err := bleve.New(path, bleve.NewIndexMapping())
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Index("wall/x:stale", map[string]any{"doc_type": "post", "stream": "wall", "text": "stale"}); err != nil {
		t.Fatal(err)
	}
	if err := old.SetInternal(seqKey, []byte("7")); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	conn := bustest.Open(t)
	b := fixtureEvents(t)
	for _, e := range b.Events {
		msg, err := e.Msg("")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.JS.PublishMsg(t.Context(), msg); err != nil {
			t.Fatal(err)
		}
	}

	x := open(t, path)
	defer x.Close()
	if x.Applied() != 0 {
		t.Fatalf("applied = %d after opening an older index, want 0 (rebuilt)", x.Applied())
	}
	if n, _ := x.Count(); n != 0 {
		t.Fatalf("the older index's %d documents were kept", n)
	}
	if v, _ := x.idx.GetInternal(schemaKey); string(v) != schemaVersion {
		t.Fatalf("schema recorded %q", v)
	}
	done := make(chan error, 1)
	go func() { done <- x.Run(t.Context(), conn) }()
	select {
	case <-x.Ready():
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	for q, want := range map[string]string{`"main stage"`: mainStage, `hashtags:ChorusLive`: mainStage, `text:"rooftop stage"`: rooftop} {
		res, err := x.Search(t.Context(), Query{Stream: "wall", Text: q})
		if err != nil || len(res.Hits) != 1 || res.Hits[0].Post.ID != want {
			t.Errorf("%s after the rebuild: %+v %v", q, res.Hits, err)
		}
	}
	if x.Applied() != b.LastSeq {
		t.Errorf("applied = %d, want %d", x.Applied(), b.LastSeq)
	}
}
