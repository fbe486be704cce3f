package index

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chorus-wall/chorus/bus"
)

// fixtureEvents reads testdata/events.jsonl: events as curation and
// moderators write them to the events stream, numbered from 1.
func fixtureEvents(t *testing.T) bus.Batch {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b bus.Batch
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		e, err := bus.DecodeEvent(sc.Bytes(), b.LastSeq+1)
		if err != nil {
			t.Fatal(err)
		}
		b.Events = append(b.Events, e)
		b.LastSeq = e.Seq
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	b.CaughtUp = true
	return b
}

// The posts of testdata/events.jsonl.
const (
	mainStage = "x:1861000000000000101"                                    // approved, pinned, tagged; "Main Stage", #ChorusLive
	rooftop   = "mastodon:113520000000000202"                              // held by the rule "No Links"; "rooftop stage"
	zoe       = "bluesky:at://did:plc:zoe303/app.bsky.feed.post/3lbzoe303" // rejected; "main or rooftop: which stage"
	gate      = "x:1861000000000000404"                                    // featured, then removed; "Stage main entrance"
)

// TestSearchEveryField runs a query on each field the README lists, in the
// case a moderator might type it, and the quoted phrases they rely on.
func TestSearchEveryField(t *testing.T) {
	x := open(t, filepath.Join(t.TempDir(), "index"))
	defer x.Close()
	if err := x.Apply(fixtureEvents(t)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, q string
		want    []string
	}{
		{"phrase in any field", `"main stage"`, []string{mainStage}},
		{"phrase, other case", `"MAIN stage"`, []string{mainStage}},
		{"phrase, words reversed", `"stage main"`, []string{gate}},
		{"phrase with a stop word", `"the rooftop stage"`, []string{rooftop}},
		{"text phrase", `text:"rooftop stage"`, []string{rooftop}},
		{"text word", `text:entrance`, []string{gate}},
		{"text word, capitals", `text:ENTRANCE`, []string{gate}},
		{"text wildcard, capitals", `text:Entr*`, []string{gate}},
		{"text regexp, capitals", `text:/Entr.*/`, []string{gate}},
		{"any field word", `sunset`, []string{rooftop}},
		{"any field wildcard", `SUNS*`, []string{rooftop}},
		{"any field regexp", `/Sunse./`, []string{rooftop}},
		{"any field wildcard with a sign", `#Rooftop*`, []string{rooftop}},
		{"any field, a handle", `@ChorusFan`, []string{mainStage}},
		{"any field, a tag", `Keynote`, []string{mainStage}},
		{"phrase and field", `+"main stage" +network:x`, []string{mainStage}},
		{"phrase excluded", `+network:x -"main stage"`, []string{gate}},

		{"hashtag as written", `hashtags:ChorusLive`, []string{mainStage}},
		{"hashtag lowercase", `hashtags:choruslive`, []string{mainStage}},
		{"hashtag uppercase", `hashtags:CHORUSLIVE`, []string{mainStage}},
		{"hashtag wildcard, capitals", `hashtags:Chorus*`, []string{mainStage, gate}},
		{"hashtag regexp, capitals", `hashtags:/ChorusLive[0-9]+/`, []string{gate}},
		{"hashtag phrase", `hashtags:"RooftopStage"`, []string{rooftop}},
		{"hashtag in any field", `CHORUSLIVE`, []string{mainStage}},
		{"hashtag with its sign", `hashtags:#ChorusLive`, []string{mainStage}},
		{"hashtag wildcard with its sign", `hashtags:#Rooftop*`, []string{rooftop}},

		{"mention", `mentions:SummitHQ`, []string{mainStage}},
		{"mention lowercase", `mentions:summithq`, []string{mainStage}},
		{"mention with its sign", `mentions:@SummitHQ`, []string{mainStage}},

		{"handle as written", `author_handle:ChorusFan`, []string{mainStage}},
		{"handle lowercase", `author_handle:chorusfan`, []string{mainStage}},
		{"handle with its sign", `author_handle:@ChorusFan`, []string{mainStage}},
		{"handle with server", `author_handle:"Rooftop@social.example"`, []string{rooftop}},
		{"handle wildcard, capitals", `author_handle:Roof*`, []string{rooftop}},

		{"author key", `author_key:"x:chorusfan"`, []string{mainStage}},
		{"author key, escaped colon", `author_key:x\:ChorusFan`, []string{mainStage}},
		{"author key, capitals", `author_key:"Mastodon:Rooftop@Social.Example"`, []string{rooftop}},

		{"author name word", `author_name:ana`, []string{mainStage}},
		{"author name phrase", `author_name:"Ana Pérez"`, []string{mainStage}},

		{"tag", `tags:keynote`, []string{mainStage}},
		{"tag, capitals", `tags:KEYNOTE`, []string{mainStage}},

		{"network", `network:x`, []string{mainStage, gate}},
		{"network, capitals", `network:X`, []string{mainStage, gate}},
		{"network Mastodon", `network:Mastodon`, []string{rooftop}},
		{"network wildcard, capitals", `network:Blue*`, []string{zoe}},

		{"status", `status:held`, []string{rooftop}},
		{"status, capitals", `status:Removed`, []string{gate}},

		{"reason word", `reason:duplicate`, []string{gate}},
		{"reason phrase", `reason:"blocked word"`, []string{zoe}},

		{"rule", `rule:"No Links"`, []string{rooftop}},
		{"rule, lowercase", `rule:"no links"`, []string{rooftop}},
		{"why, a rule (exact case)", `why:"rule:No Links"`, []string{rooftop}},
		{"why, a person", `+why:moderator +status:removed`, []string{gate}},

		{"lang", `lang:fr`, []string{zoe}},
		{"lang, capitals", `lang:FR`, []string{zoe}},

		{"kind", `kind:reply`, []string{rooftop}},
		{"kind, capitals", `kind:Quote`, []string{zoe}},

		{"has media", `has_media:true`, []string{mainStage}},
		{"pinned", `pinned:true`, []string{mainStage}},
		{"featured", `featured:true`, []string{gate}},
		{"featured false", `+network:x +featured:false`, []string{mainStage}},

		{"followers above", `followers:>1000`, []string{mainStage}},
		{"followers range", `+followers:>=40 +followers:<=300`, []string{rooftop, gate}},
		{"sentiment negative", `sentiment:<0`, []string{zoe}},
		{"created after", `created_at:>"2026-11-23T09:00:00Z"`, []string{mainStage, rooftop}},
		{"decided before", `decided_at:<"2026-11-23T00:00:00Z"`, []string{zoe}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := x.Search(context.Background(), Query{Stream: "wall", Text: tt.q, Sort: "oldest"})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range res.Hits {
				got = append(got, h.Post.ID)
			}
			if join(sorted(got)) != join(sorted(tt.want)) || res.Total != uint64(len(tt.want)) {
				t.Fatalf("%s: got %v (total %d), want %v", tt.q, got, res.Total, tt.want)
			}
		})
	}
}
