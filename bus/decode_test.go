package bus_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/post"
)

// TestDecodeAgreesWithEncodingJSON holds DecodePost and DecodeEvent to
// encoding/json's rules, which the rest of Chorus (and every older version
// that wrote the streams) follows: odd input decodes to the same value, or
// fails in both.
func TestDecodeAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range []struct{ name, post string }{
		{"ordinary", `{"id":"x:1","network":"x","text":"hello 🎉","author":{"handle":"ana","followers":12},"created_at":"2026-12-05T10:00:00.123Z","counts":{"likes":3}}`},
		{"unknown side fields", `{"id":"x:2","text":"a","future":{"nested":[1,2,{"x":null}]},"flag":true}`},
		{"names in another case", `{"ID":"x:3","Text":"a","Author":{"Handle":"ana"},"LANG":"en"}`},
		{"invalid UTF-8 in text", "{\"id\":\"x:4\",\"text\":\"caf\xe9 \xff\"}"},
		{"escaped surrogates", `{"id":"x:5","text":"\ud83c\udf89 \ud800 lone"}`},
		{"nulls everywhere", `{"id":"x:6","text":null,"hashtags":null,"author":null,"links":null,"created_at":null}`},
		{"duplicate names (last wins)", `{"id":"x:7","text":"first","text":"second"}`},
		{"empty arrays", `{"id":"x:8","hashtags":[],"media":[],"links":[]}`},
		{"text as a number", `{"id":"x:9","text":42}`},
		{"followers as a string", `{"id":"x:10","author":{"followers":"12"}}`},
		{"bad time", `{"id":"x:11","created_at":"yesterday"}`},
		{"truncated", `{"id":"x:12","text":"a`},
		{"not an object", `[1,2,3]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var want post.Post
			wantErr := json.Unmarshal([]byte(c.post), &want)
			got, err := bus.DecodePost([]byte(c.post))
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("DecodePost error %v, encoding/json's %v", err, wantErr)
			}
			if err == nil && !reflect.DeepEqual(got, want) {
				t.Errorf("DecodePost\n got %#v\nwant %#v", got, want)
			}
			event := `{"kind":"approve","stream":"wall","post":` + c.post + `,"at":"2026-12-05T10:00:01Z","tags":["a"]}`
			var wantEv bus.Event
			wantErr = json.Unmarshal([]byte(event), &wantEv)
			gotEv, err := bus.DecodeEvent([]byte(event), 7)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("DecodeEvent error %v, encoding/json's %v", err, wantErr)
			}
			if err != nil {
				return
			}
			if wantEv.PostID == "" && wantEv.Post != nil {
				wantEv.PostID = wantEv.Post.ID
			}
			wantEv.Seq = 7
			if !reflect.DeepEqual(gotEv, wantEv) {
				t.Errorf("DecodeEvent\n got %#v\nwant %#v", gotEv, wantEv)
			}
		})
	}
}

// TestDecodePostsAgreesWithEncodingJSON holds DecodePosts (a webhook's
// body: one post or an array) to encoding/json's results, and refuses
// what follows the value.
func TestDecodePostsAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range []struct {
		name, body string
		array      bool
	}{
		{"one post", ` {"id":"x:1","text":"a","Future":1}`, false},
		{"array", `[{"id":"x:1","text":"a"},{"ID":"x:2","TEXT":"caf` + "\xe9" + `","text":"b"}]`, true},
		{"empty array", `[]`, true},
		{"null", `null`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var want []post.Post
			if c.array {
				if err := json.Unmarshal([]byte(c.body), &want); err != nil {
					t.Fatal(err)
				}
			} else {
				var p post.Post
				if err := json.Unmarshal([]byte(c.body), &p); err != nil {
					t.Fatal(err)
				}
				want = []post.Post{p}
			}
			got, err := bus.DecodePosts([]byte(c.body))
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("DecodePosts = %#v, %v; want %#v", got, err, want)
			}
		})
	}
	for _, bad := range []string{`{"id":"x:1"} {"id":"x:2"}`, `[{"id":"x:1"}] junk`, `[{"id":"x:1"},]`, ``} {
		if got, err := bus.DecodePosts([]byte(bad)); err == nil {
			t.Errorf("DecodePosts(%q) = %v, want an error", bad, got)
		}
	}
}
