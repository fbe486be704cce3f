package facebook

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chorus-wall/chorus/connectors/facebook/graph"
	"github.com/chorus-wall/chorus/connectors/sourcetest"
	"github.com/chorus-wall/chorus/post"
)

var fixedNow = time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)

// fixturePosts adapts every item of a posts fixture, by native id.
func fixturePosts(t *testing.T, name string) (map[string]post.Post, []error) {
	t.Helper()
	var list graph.List
	if err := json.Unmarshal(sourcetest.Testdata(t, name), &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]post.Post{}
	var errs []error
	for _, raw := range list.Data {
		w, created, err := ParsePost(raw)
		if err == nil {
			var p post.Post
			if p, err = AdaptPost(w, created, "fb", fixedNow); err == nil {
				out[strings.TrimPrefix(p.ID, "facebook:")] = p
				continue
			}
		}
		errs = append(errs, err)
	}
	return out, errs
}

// span returns the text a link's span covers.
func span(p post.Post, l post.Link) string {
	rs := []rune(p.Text)
	if l.End > len(rs) {
		return "<out of range>"
	}
	return string(rs[l.Start:l.End])
}

func TestAdaptPosts(t *testing.T) {
	posts, errs := fixturePosts(t, "posts_page1.json")
	more, errs2 := fixturePosts(t, "posts_page2.json")
	for k, v := range more {
		posts[k] = v
	}
	errs = append(errs, errs2...)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "122104336001142351") || !strings.Contains(errs[0].Error(), "created_time") {
		t.Fatalf("want exactly the post with the broken time refused, got %v", errs)
	}
	const page = "104689318914162_"
	tests := []struct {
		name  string
		id    string
		check func(t *testing.T, p post.Post)
	}{
		{
			name: "emoji text, tagged page, hashtags, link and photo",
			id:   page + "122104327328142351",
			check: func(t *testing.T, p post.Post) {
				if !strings.HasPrefix(p.Text, "Doors open in 1 hour 🎉🎶") || p.Kind != post.KindOriginal {
					t.Errorf("text %q kind %s", p.Text, p.Kind)
				}
				if !slices.Equal(p.Hashtags, []string{"ChorusLive", "Summit26"}) || !slices.Equal(p.Mentions, []string{"Aurora Vale"}) {
					t.Errorf("hashtags %v mentions %v", p.Hashtags, p.Mentions)
				}
				if len(p.Links) != 1 || p.Links[0].URL != "https://chorus.example/tickets?utm_source=fb" || span(p, p.Links[0]) != p.Links[0].URL {
					t.Errorf("links %+v", p.Links)
				}
				if len(p.Media) != 1 || p.Media[0].Kind != post.MediaImage || p.Media[0].Width != 960 || p.Media[0].Height != 720 ||
					!strings.HasPrefix(p.Media[0].URL, "https://scontent.xx.fbcdn.net/") {
					t.Errorf("media %+v", p.Media)
				}
				want := post.Counts{Likes: 87, Reposts: 12, Replies: 9}
				if p.Counts != want {
					t.Errorf("counts %+v, want %+v", p.Counts, want)
				}
				if p.Author.ID != "104689318914162" || p.Author.Name != "Chorus Live" || p.Author.Handle != "" ||
					p.Author.ProfileURL != "https://www.facebook.com/104689318914162" || !strings.HasPrefix(p.Author.AvatarURL, "https://scontent.xx.fbcdn.net/") {
					t.Errorf("author %+v", p.Author)
				}
				if p.URL != "https://www.facebook.com/104689318914162/posts/122104327328142351" || p.Source != "fb" || p.Network != "facebook" {
					t.Errorf("url %q source %q network %q", p.URL, p.Source, p.Network)
				}
				if !p.CreatedAt.Equal(time.Date(2026, 11, 23, 9, 0, 5, 0, time.UTC)) || !p.FetchedAt.Equal(fixedNow) {
					t.Errorf("created %s fetched %s", p.CreatedAt, p.FetchedAt)
				}
			},
		},
		{
			name: "right-to-left Arabic, album of three photos",
			id:   page + "122104331006142351",
			check: func(t *testing.T, p post.Post) {
				if !strings.HasPrefix(p.Text, "أهلاً بكم في #كورس_لايف ✨") {
					t.Errorf("text %q", p.Text)
				}
				if !slices.Equal(p.Hashtags, []string{"كورس_لايف"}) || !slices.Equal(p.Mentions, []string{"Aurora Vale"}) {
					t.Errorf("hashtags %v mentions %v", p.Hashtags, p.Mentions)
				}
				if len(p.Media) != 3 || p.Media[0].Height != 960 || p.Media[1].Width != 960 {
					t.Errorf("album media %+v", p.Media)
				}
			},
		},
		{
			name: "video: thumbnail as preview, the video page as url",
			id:   page + "122104333452142351",
			check: func(t *testing.T, p post.Post) {
				if len(p.Media) != 1 {
					t.Fatalf("media %+v", p.Media)
				}
				m := p.Media[0]
				if m.Kind != post.MediaVideo || m.URL != "https://www.facebook.com/104689318914162/videos/1284519402861120/" ||
					!strings.HasPrefix(m.PreviewURL, "https://scontent.xx.fbcdn.net/") || m.Width != 720 || m.Height != 405 {
					t.Errorf("video %+v", m)
				}
			},
		},
		{
			name: "shared link: unshimmed, titled; text kept literally (Graph sends plain text)",
			id:   page + "122104335881142351",
			check: func(t *testing.T, p post.Post) {
				if p.Text != "Fish &amp; chips at the food court <3 & <b>free</b> refills — menu here" {
					t.Errorf("text %q", p.Text)
				}
				if len(p.Links) != 1 || p.Links[0].URL != "https://chorus.example/food?day=1&fbclid=IwZXh0bgNhZW0CMTAAAR2" ||
					p.Links[0].Title != "Food court menu | Chorus Live" || p.Links[0].Start != 0 || p.Links[0].End != 0 {
					t.Errorf("links %+v", p.Links)
				}
				if len(p.Media) != 0 || p.Counts.Reposts != 31 {
					t.Errorf("media %+v counts %+v", p.Media, p.Counts)
				}
			},
		},
		{
			name: "story without message, cover photo",
			id:   page + "122104336912142351",
			check: func(t *testing.T, p post.Post) {
				if p.Text != "Chorus Live updated their cover photo." || len(p.Media) != 1 || p.Media[0].Width != 820 {
					t.Errorf("text %q media %+v", p.Text, p.Media)
				}
			},
		},
		{
			name: "share of another post without words: repost",
			id:   page + "122104337511142351",
			check: func(t *testing.T, p post.Post) {
				if p.Kind != post.KindRepost || p.Text != "" || len(p.Media) != 1 {
					t.Errorf("kind %s text %q media %+v", p.Kind, p.Text, p.Media)
				}
			},
		},
		{
			name: "share of another post with words: quote",
			id:   page + "122104338020142351",
			check: func(t *testing.T, p post.Post) {
				if p.Kind != post.KindQuote || !slices.Equal(p.Hashtags, []string{"ChorusLive"}) {
					t.Errorf("kind %s hashtags %v", p.Kind, p.Hashtags)
				}
			},
		},
		{
			name: "long text cut at the limit; a link past the cut keeps no span",
			id:   page + "122104320113142351",
			check: func(t *testing.T, p post.Post) {
				if n := utf8.RuneCountInString(p.Text); n != post.MaxTextRunes {
					t.Errorf("text has %d runes, want %d", n, post.MaxTextRunes)
				}
				if len(p.Links) != 1 || p.Links[0].URL != "https://chorus.example/replay" || p.Links[0].Start != 0 || p.Links[0].End != 0 {
					t.Errorf("links %+v", p.Links)
				}
				if !slices.Equal(p.Mentions, []string{"Aurora Vale"}) || !slices.Equal(p.Hashtags, []string{"ChorusLive"}) {
					t.Errorf("mentions %v hashtags %v (entities past the cut are still named)", p.Mentions, p.Hashtags)
				}
				if p.Counts.Likes != 402 || p.Counts.Replies != 57 {
					t.Errorf("counts %+v", p.Counts)
				}
			},
		},
		{
			name: "Hebrew with a maqaf-joined name and emoji",
			id:   page + "122104318222142351",
			check: func(t *testing.T, p post.Post) {
				if !strings.HasPrefix(p.Text, "ברוכים הבאים ל־Chorus Live 👋") || !slices.Equal(p.Mentions, []string{"Aurora Vale"}) {
					t.Errorf("text %q mentions %v", p.Text, p.Mentions)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := posts[tt.id]
			if !ok {
				t.Fatalf("post %s missing", tt.id)
			}
			tt.check(t, p)
		})
	}
	if len(posts) != 9 {
		t.Errorf("adapted %d posts, want 9", len(posts))
	}
}

// TestMessageTagSpans checks that UTF-16 offsets become code points, before
// and after astral characters (emoji: two UTF-16 units, one code point) and
// characters post.Normalize removes.
func TestMessageTagSpans(t *testing.T) {
	tests := []struct {
		name     string
		message  string
		offset   int // UTF-16
		length   int
		want     string
		wantSpan [2]int
	}{
		{name: "ascii", message: "Hello Chorus Live!", offset: 6, length: 11, want: "Chorus Live", wantSpan: [2]int{6, 17}},
		{name: "after two emoji", message: "🎉🎶 Chorus Live", offset: 5, length: 11, want: "Chorus Live", wantSpan: [2]int{3, 14}},
		{name: "flag and zwj family before", message: "🇲🇦👨‍👩‍👧 Nadia", offset: 13, length: 5, want: "Nadia", wantSpan: [2]int{8, 13}},
		{name: "arabic", message: "شكراً لـ Aurora Vale", offset: 9, length: 11, want: "Aurora Vale", wantSpan: [2]int{9, 20}},
		{name: "after removed bidi override and CRLF", message: "\u202Eab\r\nChorus", offset: 5, length: 6, want: "Chorus", wantSpan: [2]int{3, 9}},
		{name: "cuts a surrogate pair", message: "🎉 x", offset: 1, length: 2, want: "", wantSpan: [2]int{0, 0}},
		{name: "past the end", message: "short", offset: 3, length: 10, want: "", wantSpan: [2]int{0, 0}},
		{name: "negative", message: "short", offset: -1, length: 2, want: "", wantSpan: [2]int{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txt := ParseText(tt.message, MessageTags{{ID: "1", Name: "", Type: "page", Offset: tt.offset, Length: tt.length}})
			if tt.want == "" {
				if len(txt.Mentions) != 0 {
					t.Errorf("mentions %+v, want none (an unnamed tag outside the text)", txt.Mentions)
				}
				return
			}
			if len(txt.Mentions) != 1 {
				t.Fatalf("mentions %+v", txt.Mentions)
			}
			m := txt.Mentions[0]
			if got := string([]rune(txt.Text)[m.Start:m.End]); got != tt.want || [2]int{m.Start, m.End} != tt.wantSpan {
				t.Errorf("span [%d,%d) = %q, want %v %q", m.Start, m.End, got, tt.wantSpan, tt.want)
			}
			// The text is what Normalize keeps, so the span stays right.
			p := post.Post{ID: "x", Text: txt.Text}
			if err := p.Normalize("facebook", fixedNow); err != nil || p.Text != txt.Text {
				t.Errorf("normalize changed the text: %q -> %q (%v)", txt.Text, p.Text, err)
			}
		})
	}
}

func TestLegacyMessageTags(t *testing.T) {
	raw := []byte(`{"id":"1_2","created_time":"2026-11-23T10:00:00+0000","message":"Hi Ana and Chorus Live",
		"message_tags":{"11":[{"id":"9","name":"Chorus Live","type":"page","offset":11,"length":11}],"3":[{"id":"8","name":"Ana","type":"user","offset":3,"length":3}]}}`)
	w, created, err := ParsePost(raw)
	if err != nil {
		t.Fatal(err)
	}
	p, err := AdaptPost(w, created, "fb", fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Mentions, []string{"Ana", "Chorus Live"}) {
		t.Errorf("mentions %v", p.Mentions)
	}
}

func TestAdaptComments(t *testing.T) {
	var list graph.List
	if err := json.Unmarshal(sourcetest.Testdata(t, "comments.json"), &list); err != nil {
		t.Fatal(err)
	}
	var got []post.Post
	for _, raw := range list.Data {
		w, created, err := ParseComment(raw)
		if err != nil {
			t.Fatal(err)
		}
		p, err := AdaptComment(w, created, "fb", fixedNow)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p)
	}
	if len(got) != 3 {
		t.Fatalf("got %d comments", len(got))
	}
	for _, p := range got {
		if p.Kind != post.KindReply || !strings.Contains(p.URL, "comment_id=") {
			t.Errorf("%s: kind %s url %q", p.ID, p.Kind, p.URL)
		}
	}
	if got[1].Author.Name != "Nadia Benali" || !slices.Equal(got[1].Mentions, []string{"Chorus Live"}) || got[1].Counts.Likes != 6 || got[1].Counts.Replies != 1 {
		t.Errorf("comment %+v", got[1])
	}
	if got[2].Text != "" || len(got[2].Media) != 1 || got[2].Media[0].Width != 240 {
		t.Errorf("sticker comment %+v", got[2])
	}
}

func TestAdaptRefuses(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{name: "no id", raw: `{"message":"x","created_time":"2026-11-23T10:00:00+0000"}`, want: "without id"},
		{name: "bad time", raw: `{"id":"1_2","message":"x","created_time":"soon"}`, want: "created_time"},
		{name: "not an object", raw: `["x"]`, want: "decode"},
		{name: "nothing to show", raw: `{"id":"1_2","created_time":"2026-11-23T10:00:00+0000"}`, want: "text is required"},
		{name: "only a javascript link", raw: `{"id":"1_2","created_time":"2026-11-23T10:00:00+0000","attachments":{"data":[{"type":"photo","media":{"image":{"src":"javascript:alert(1)"}}}]}}`, want: "text is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, created, err := ParsePost([]byte(tt.raw))
			if err == nil {
				_, err = AdaptPost(w, created, "fb", fixedNow)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want %q", err, tt.want)
			}
		})
	}
}

func FuzzAdapter(f *testing.F) {
	for _, name := range []string{"posts_page1.json", "posts_page2.json", "tagged.json", "comments.json"} {
		var list graph.List
		if err := json.Unmarshal(sourcetest.Testdata(f, name), &list); err != nil {
			f.Fatal(err)
		}
		for _, raw := range list.Data {
			f.Add([]byte(raw))
		}
	}
	f.Add([]byte(`{"id":"1","created_time":"2026-11-23T10:00:00+0000","message":"🎉","message_tags":[{"offset":1,"length":1}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if w, created, err := ParsePost(raw); err == nil {
			if p, err := AdaptPost(w, created, "fb", fixedNow); err == nil {
				checkInvariants(t, p)
			}
		}
		if w, created, err := ParseComment(raw); err == nil {
			if p, err := AdaptComment(w, created, "fb", fixedNow); err == nil {
				checkInvariants(t, p)
			}
		}
	})
}

func checkInvariants(t *testing.T, p post.Post) {
	t.Helper()
	n := utf8.RuneCountInString(p.Text)
	for _, l := range p.Links {
		if l.Start < 0 || l.End < l.Start || l.End > n {
			t.Fatalf("link span [%d,%d) outside text of %d runes", l.Start, l.End, n)
		}
	}
	if !strings.HasPrefix(p.ID, "facebook:") || p.Network != "facebook" {
		t.Fatalf("id %q network %q", p.ID, p.Network)
	}
}

func BenchmarkAdaptPage(b *testing.B) {
	raw := sourcetest.Testdata(b, "posts_page1.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		var list graph.List
		if err := json.Unmarshal(raw, &list); err != nil {
			b.Fatal(err)
		}
		for _, item := range list.Data {
			w, created, err := ParsePost(item)
			if err != nil {
				continue
			}
			if _, err := AdaptPost(w, created, "fb", fixedNow); err != nil {
				b.Fatal(err)
			}
		}
	}
}
