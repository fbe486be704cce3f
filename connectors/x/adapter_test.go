package x

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/connectors/sourcetest"
	"github.com/chorus-wall/chorus/post"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// now is the fetch time of every test: shortly after the fixtures' posts.
var now = time.Date(2026, 11, 23, 10, 10, 0, 0, time.UTC)

// golden compares got, as indented JSON, with testdata/<name>; -update
// rewrites the file.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("%s differs from what the adapter makes now (run with -update after checking):\n%s", path, b)
	}
}

func adaptFixture(t testing.TB, name string) Result {
	t.Helper()
	r, err := ParseResponse(sourcetest.Testdata(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return Adapt(r, "x-test", now)
}

func byID(t *testing.T, posts []post.Post, id string) post.Post {
	t.Helper()
	for _, p := range posts {
		if p.ID == id && !p.Deleted {
			return p
		}
	}
	t.Fatalf("no post %s", id)
	return post.Post{}
}

// spanText is the text a link's span covers.
func spanText(p post.Post, l post.Link) string {
	r := []rune(p.Text)
	if l.Start < 0 || l.End > len(r) || l.Start > l.End {
		return "<out of range>"
	}
	return string(r[l.Start:l.End])
}

func TestAdaptSearchPage(t *testing.T) {
	res := adaptFixture(t, "search_recent.json")
	golden(t, "search_recent.golden.json", res.Posts)

	var ids []string
	for _, p := range res.Posts {
		id := p.ID
		if p.Deleted {
			id = "deleted:" + id
		}
		ids = append(ids, id)
	}
	want := []string{
		"deleted:x:2124807165834317835", // withheld
		"deleted:x:2124807040005197835", // repost of a deleted tweet
		"deleted:x:2124571110405197835", // the deleted tweet
		"x:2124806914176077835",         // its id a JSON number: kept, digits exact
		"x:2124806746403917835",         // quote
		"x:2124806578631757835",         // repost of a long post
		"x:2124806410859597835",         // long post
		"x:2124806180172877835",         // Hebrew reply
		"x:2124806096286797835",         // Arabic
		"x:2124805697827917835",         // HTML entities and a photo
	}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("ids\n%v\nwant\n%v", ids, want)
	}
	if len(res.Skipped) != 0 {
		t.Fatalf("skipped %v", res.Skipped)
	}
	if res.Newest != "2124807165834317835" || res.Oldest != "2124805697827917835" {
		t.Fatalf("newest %s oldest %s", res.Newest, res.Oldest)
	}

	tests := []struct {
		name  string
		id    string
		check func(t *testing.T, p post.Post)
	}{
		{name: "html entities decoded, t.co replaced, media link removed", id: "x:2124805697827917835", check: func(t *testing.T, p post.Post) {
			wantText := "Doors open at 6 & the line is already wild 😅 #Summit26 with @choruslive <3 chorus.example/live?utm_sourc…"
			if p.Text != wantText {
				t.Fatalf("text %q", p.Text)
			}
			if len(p.Links) != 1 || p.Links[0].URL != "https://chorus.example/live?utm_source=x" || spanText(p, p.Links[0]) != "chorus.example/live?utm_sourc…" {
				t.Fatalf("links %+v", p.Links)
			}
			if !reflect.DeepEqual(p.Hashtags, []string{"Summit26"}) || !reflect.DeepEqual(p.Mentions, []string{"choruslive"}) {
				t.Fatalf("hashtags %v mentions %v", p.Hashtags, p.Mentions)
			}
			wantMedia := []post.Media{{Kind: post.MediaImage, URL: "https://pbs.twimg.com/media/Pic987Qwe.jpg", Width: 2048, Height: 1536, Alt: "A long queue of people outside Harbour Hall at dusk"}}
			if !reflect.DeepEqual(p.Media, wantMedia) {
				t.Fatalf("media %+v", p.Media)
			}
			if p.Counts != (post.Counts{Likes: 210, Reposts: 12, Replies: 4}) || p.Kind != post.KindOriginal || p.Lang != "en" {
				t.Fatalf("counts %+v kind %s lang %s", p.Counts, p.Kind, p.Lang)
			}
			wantAuthor := post.Author{ID: "1502345678901234567", Handle: "ana_silva", Name: "Ana Silva", AvatarURL: "https://pbs.twimg.com/profile_images/1502345678/ana_silva_400x400.jpg", ProfileURL: "https://x.com/ana_silva", Followers: 15300}
			if p.Author != wantAuthor || p.URL != "https://x.com/ana_silva/status/2124805697827917835" {
				t.Fatalf("author %+v url %s", p.Author, p.URL)
			}
			if !p.CreatedAt.Equal(time.Date(2026, 11, 23, 10, 2, 10, 0, time.UTC)) || !p.FetchedAt.Equal(now) || p.Source != "x-test" {
				t.Fatalf("times %s %s source %s", p.CreatedAt, p.FetchedAt, p.Source)
			}
		}},
		{name: "arabic, right to left, link span in code points", id: "x:2124806096286797835", check: func(t *testing.T, p post.Post) {
			if p.Text != "الصوت على المسرح الرئيسي الليلة رائع جداً 🎶 #كورس_لايف chorus.example/ar/programme" || p.Lang != "ar" {
				t.Fatalf("text %q lang %s", p.Text, p.Lang)
			}
			if spanText(p, p.Links[0]) != "chorus.example/ar/programme" || p.Hashtags[0] != "كورس_لايف" {
				t.Fatalf("links %+v hashtags %v", p.Links, p.Hashtags)
			}
		}},
		{name: "hebrew reply with a zero-width-joined emoji before the link", id: "x:2124806180172877835", check: func(t *testing.T, p post.Post) {
			if p.Kind != post.KindReply || !strings.Contains(p.Text, "👩🏽‍💻 chorus.example/map/entrance-b") {
				t.Fatalf("kind %s text %q", p.Kind, p.Text)
			}
			l := p.Links[0]
			if spanText(p, l) != "chorus.example/map/entrance-b" || l.Title != "Entrance B – Harbour Hall" || l.URL != "https://chorus.example/map/entrance-b" {
				t.Fatalf("link %+v covers %q", l, spanText(p, l))
			}
		}},
		{name: "long post: the full note text", id: "x:2124806410859597835", check: func(t *testing.T, p post.Post) {
			if !strings.HasSuffix(p.Text, "अगले साल फिर मिलेंगे! #कोरस_लाइव @choruslive") || strings.Contains(p.Text, "t.co") || strings.Contains(p.Text, "…") {
				t.Fatalf("text %q", p.Text)
			}
			if !reflect.DeepEqual(p.Hashtags, []string{"कोरस_लाइव"}) || p.Lang != "hi" || len(p.Links) != 0 {
				t.Fatalf("hashtags %v lang %s links %+v", p.Hashtags, p.Lang, p.Links)
			}
		}},
		{name: "repost shows the original's full text, author, video and counts", id: "x:2124806578631757835", check: func(t *testing.T, p post.Post) {
			if p.Kind != post.KindRepost || !strings.HasPrefix(p.Text, "🔁 @grace_mensah\nBig news for tonight") || !strings.HasSuffix(p.Text, "every ten minutes. #Summit26") {
				t.Fatalf("kind %s text %q", p.Kind, p.Text)
			}
			if p.Author.Handle != "choruslive" || !p.Author.Verified || p.URL != "https://x.com/choruslive/status/2124778728453197835" {
				t.Fatalf("author %+v url %s", p.Author, p.URL)
			}
			wantMedia := []post.Media{{Kind: post.MediaVideo, URL: "https://video.twimg.com/amplify_video/2124778728444809216/vid/avc1/1280x720/RoOf.mp4", PreviewURL: "https://pbs.twimg.com/amplify_video_thumb/2124778728444809216/img/RoOf.jpg", Width: 1920, Height: 1080, Alt: "Drone shot of the rooftop stage"}}
			if !reflect.DeepEqual(p.Media, wantMedia) || p.Counts.Likes != 4100 {
				t.Fatalf("media %+v counts %+v", p.Media, p.Counts)
			}
			if !p.CreatedAt.Equal(time.Date(2026, 11, 23, 10, 5, 40, 0, time.UTC)) {
				t.Fatalf("created %s, want the repost's time", p.CreatedAt)
			}
		}},
		{name: "quote: sensitive, gif, link to the quoted post", id: "x:2124806746403917835", check: func(t *testing.T, p post.Post) {
			if p.Kind != post.KindQuote || !p.Sensitive || p.Text != "This is the energy we needed 🔥🔥 x.com/kenji_tanaka/s…" {
				t.Fatalf("kind %s sensitive %v text %q", p.Kind, p.Sensitive, p.Text)
			}
			if len(p.Media) != 1 || p.Media[0].Kind != post.MediaGIF || p.Media[0].URL != "https://video.twimg.com/tweet_video/GiF0aNim8.mp4" {
				t.Fatalf("media %+v", p.Media)
			}
			if len(p.Links) != 1 || p.Links[0].URL != "https://twitter.com/kenji_tanaka/status/2124804649251917835" || spanText(p, p.Links[0]) != "x.com/kenji_tanaka/s…" {
				t.Fatalf("links %+v", p.Links)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, byID(t, res.Posts, tt.id)) })
	}
}

func TestAdaptCases(t *testing.T) {
	user := `{"id":"11","name":"","username":"ana","profile_image_url":"https://pbs.twimg.com/profile_images/1/a_normal.png"}`
	tests := []struct {
		name    string
		body    string
		want    []string // ids, "deleted:" for takedowns
		skipped int
		check   func(t *testing.T, posts []post.Post)
	}{
		{name: "empty page", body: `{"meta":{"result_count":0}}`},
		{name: "null data", body: `{"data":null,"meta":{"result_count":0}}`},
		{name: "data not a list", body: `{"data":"nope"}`, skipped: 1},
		{name: "stream line with one tweet", body: `{"data":{"id":"5","text":"hi","author_id":"11"},"includes":{"users":[` + user + `]},"matching_rules":[{"id":"1","tag":"chorus:x"}]}`,
			want: []string{"x:5"}, check: func(t *testing.T, posts []post.Post) {
				if posts[0].Author.Name != "ana" || posts[0].Author.AvatarURL != "https://pbs.twimg.com/profile_images/1/a_400x400.png" {
					t.Fatalf("author %+v", posts[0].Author)
				}
			}},
		{name: "id that is no X id", body: `{"data":[{"id":"../5","text":"hi"},{"id":"6","text":"ok"}]}`, want: []string{"x:6"}, skipped: 1},
		{name: "no text and no media", body: `{"data":[{"id":"7","text":"  "}]}`, skipped: 1},
		{name: "malformed include", body: `{"data":[{"id":"8","text":"ok","author_id":"11"}],"includes":{"users":["not a user",{"id":11,"username":"ana","public_metrics":{"followers_count":"many"}}]}}`,
			want: []string{"x:8"}, skipped: 1, check: func(t *testing.T, posts []post.Post) {
				if posts[0].Author.ID != "11" || posts[0].Author.Handle != "ana" || posts[0].Author.Followers != 0 {
					t.Fatalf("author %+v", posts[0].Author)
				}
			}},
		{name: "odd side fields keep the tweet", body: `{"data":[{"id":"14","text":"ok","public_metrics":{"like_count":"7","retweet_count":2},"attachments":{"media_keys":"3_1"},"withheld":{"scope":"tweet"}}],"meta":{"result_count":"1"},"errors":[{"value":14}]}`,
			want: []string{"x:14"}, check: func(t *testing.T, posts []post.Post) {
				if posts[0].Counts.Reposts != 2 || posts[0].Counts.Likes != 0 {
					t.Fatalf("counts %+v", posts[0].Counts)
				}
			}},
		{name: "quote of a deleted tweet keeps the quote and takes the quoted down",
			body: `{"data":[{"id":"9","text":"look at this","referenced_tweets":[{"type":"quoted","id":"4"}]}],"errors":[{"resource_id":"4","resource_type":"tweet","title":"Not Found Error","type":"https://api.twitter.com/2/problems/resource-not-found"}]}`,
			want: []string{"x:9", "deleted:x:4"}},
		{name: "quote from a protected account is kept",
			body: `{"data":[{"id":"9","text":"look","referenced_tweets":[{"type":"quoted","id":"4"}]}],"errors":[{"resource_id":"4","resource_type":"tweet","title":"Authorization Error","type":"https://api.twitter.com/2/problems/not-authorized-for-resource"}]}`,
			want: []string{"x:9"}, check: func(t *testing.T, posts []post.Post) {
				if len(posts[0].Links) != 1 || posts[0].Links[0].URL != "https://x.com/i/web/status/4" {
					t.Fatalf("links %+v", posts[0].Links)
				}
			}},
		{name: "repost without its original expanded keeps X's text",
			body: `{"data":[{"id":"10","text":"RT @kim: hello","author_id":"11","referenced_tweets":[{"type":"retweeted","id":"3"}]}],"includes":{"users":[` + user + `]}}`,
			want: []string{"x:10"}, check: func(t *testing.T, posts []post.Post) {
				if posts[0].Text != "RT @kim: hello" || posts[0].Kind != post.KindRepost {
					t.Fatalf("%+v", posts[0])
				}
			}},
		{name: "repost of a withheld original",
			body: `{"data":[{"id":"10","text":"RT @kim: hello","referenced_tweets":[{"type":"retweeted","id":"3"}]}],"includes":{"tweets":[{"id":"3","text":"hello","withheld":{"copyright":true}}]}}`,
			want: []string{"deleted:x:10", "deleted:x:3"}},
		{name: "video without variants shows its still; undetermined language",
			body: `{"data":[{"id":"12","text":"","lang":"und","attachments":{"media_keys":["7_1","3_2","9_9"]}}],"includes":{"media":[{"media_key":"7_1","type":"video","preview_image_url":"https://pbs.twimg.com/v.jpg"},{"media_key":"3_2","type":"photo","url":"javascript:alert(1)"}]}}`,
			want: []string{"x:12"}, check: func(t *testing.T, posts []post.Post) {
				p := posts[0]
				if len(p.Media) != 1 || p.Media[0] != (post.Media{Kind: post.MediaImage, URL: "https://pbs.twimg.com/v.jpg"}) || p.Lang != "" {
					t.Fatalf("media %+v lang %q", p.Media, p.Lang)
				}
			}},
		{name: "reply that also quotes is a quote", body: `{"data":[{"id":"13","text":"yes","referenced_tweets":[{"type":"replied_to","id":"2"},{"type":"quoted","id":"1"}]}]}`,
			want: []string{"x:13"}, check: func(t *testing.T, posts []post.Post) {
				if posts[0].Kind != post.KindQuote {
					t.Fatalf("kind %s", posts[0].Kind)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseResponse([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			res := Adapt(r, "x-test", now)
			var ids []string
			for _, p := range res.Posts {
				if p.Deleted {
					ids = append(ids, "deleted:"+p.ID)
				} else {
					ids = append(ids, p.ID)
				}
			}
			if !reflect.DeepEqual(ids, tt.want) || len(res.Skipped) != tt.skipped {
				t.Fatalf("ids %v skipped %v, want %v and %d skipped", ids, res.Skipped, tt.want, tt.skipped)
			}
			if tt.check != nil {
				tt.check(t, res.Posts)
			}
		})
	}
	if _, err := ParseResponse([]byte(`[1,2]`)); err == nil {
		t.Fatal("a list is not a response")
	}
}

func FuzzAdapter(f *testing.F) {
	f.Add(sourcetest.Testdata(f, "search_recent.json"))
	f.Add(sourcetest.Testdata(f, "search_empty.json"))
	for _, line := range bytes.Split(sourcetest.Testdata(f, "stream_lines.jsonl"), []byte("\n")) {
		f.Add(line)
	}
	f.Add([]byte(`{"data":{"id":"1","text":"&amp;#x","entities":{"urls":[{"start":-1,"end":99,"url":"&amp;"}]}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseResponse(body)
		if err != nil {
			return
		}
		res := Adapt(r, "x-fuzz", now)
		for _, p := range res.Posts {
			if !strings.HasPrefix(p.ID, "x:") || p.Network != Network {
				t.Fatalf("post %+v", p)
			}
			n := len([]rune(p.Text))
			for _, l := range p.Links {
				if l.Start < 0 || l.End < l.Start || l.End > n {
					t.Fatalf("link %+v outside text of %d code points", l, n)
				}
			}
		}
	})
}

// BenchmarkAdaptSearchPage parses and normalizes a full page of 100 tweets
// made from the fixture's.
func BenchmarkAdaptSearchPage(b *testing.B) {
	var page map[string]json.RawMessage
	if err := json.Unmarshal(sourcetest.Testdata(b, "search_recent.json"), &page); err != nil {
		b.Fatal(err)
	}
	var data []map[string]any
	if err := json.Unmarshal(page["data"], &data); err != nil {
		b.Fatal(err)
	}
	var full []map[string]any
	for i := 0; len(full) < 100; i++ {
		t := map[string]any{}
		for k, v := range data[i%len(data)] {
			t[k] = v
		}
		if _, ok := t["id"].(string); ok {
			t["id"] = strconv.FormatInt(2124805697827917835-int64(i)*4096, 10)
		}
		full = append(full, t)
	}
	page["data"], _ = json.Marshal(full)
	body, _ := json.Marshal(page)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := ParseResponse(body)
		if err != nil {
			b.Fatal(err)
		}
		if res := Adapt(r, "x-bench", now); len(res.Posts) < 90 {
			b.Fatalf("%d posts", len(res.Posts))
		}
	}
}
