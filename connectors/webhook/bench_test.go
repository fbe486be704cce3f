package webhook

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/connectors/demo"
	"github.com/chorus-wall/chorus/post"
)

// BenchmarkParseBody decodes and normalizes a call of 10 of the demo's
// realistic posts, as the load harness sends them; one op is one call.
func BenchmarkParseBody(b *testing.B) {
	g := demo.Generator{SourceID: "hook", Seed: 1, SpamShare: 0.04, OffensiveShare: 0.04, Audience: 1_000_000, UnlabelledShare: 0.4}
	now := time.Now()
	var bodies [][]byte
	for c := range 100 {
		posts := make([]post.Post, 10)
		for i := range posts {
			posts[i] = g.Post(int64(c*10+i), now)
		}
		body, err := json.Marshal(posts)
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, body)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := ParseBody(bodies[i%len(bodies)], "webhook", "hook", 1000, now); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
