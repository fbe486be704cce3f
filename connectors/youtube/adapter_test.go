package youtube

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chorus-wall/chorus/connectors/sourcetest"
	"github.com/chorus-wall/chorus/post"
)

var fetchTime = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func decode[T any](t testing.TB, name string) *T {
	t.Helper()
	var v T
	if err := json.Unmarshal(sourcetest.Testdata(t, name), &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

func spanText(p post.Post, l post.Link) string {
	r := []rune(p.Text)
	if l.Start < 0 || l.End > len(r) || l.Start > l.End {
		return "<bad span>"
	}
	return string(r[l.Start:l.End])
}

// searchParts parses every search hit of the fixture; nil for those that
// are not videos or do not parse.
func searchParts(t *testing.T) []*videoParts {
	t.Helper()
	var out []*videoParts
	for _, raw := range decode[SearchListResponse](t, "search.json").Items {
		r, err := parseSearchResult(raw)
		if err != nil {
			out = append(out, nil)
			continue
		}
		v, err := fromSearch(r)
		if err != nil {
			out = append(out, nil)
			continue
		}
		out = append(out, &v)
	}
	return out
}

func TestAdaptSearchOnly(t *testing.T) {
	hits := searchParts(t)
	if len(hits) != 7 || hits[3] != nil || hits[4] != nil {
		t.Fatalf("hits %v: the channel and the broken item must not parse", hits)
	}
	tests := []struct {
		name  string
		v     *videoParts
		check func(t *testing.T, p post.Post)
	}{
		{name: "entities of the snippet decoded", v: hits[1], check: func(t *testing.T, p post.Post) {
			want := "Drone over the harbour '26 & the \"big\" crane\n\nFilmed at sunrise with a tiny drone. Full trip: https://blog.example/harbour?day=1&cam=2 …"
			if p.Text != want {
				t.Errorf("text %q\nwant %q", p.Text, want)
			}
			if p.Author.Name != "Sky & Sea" || p.Author.ID != "UCzz9yy8xx7ww6vv5uu4tt3Q" || p.Author.ProfileURL != "https://www.youtube.com/channel/UCzz9yy8xx7ww6vv5uu4tt3Q" {
				t.Errorf("author %+v", p.Author)
			}
			if len(p.Links) != 1 || spanText(p, p.Links[0]) != "https://blog.example/harbour?day=1&cam=2" {
				t.Errorf("links %+v", p.Links)
			}
		}},
		{name: "video basics: id, url, thumbnail, date, kind", v: hits[0], check: func(t *testing.T, p post.Post) {
			if p.ID != "youtube:hArb0urL1v3" || p.URL != "https://www.youtube.com/watch?v=hArb0urL1v3" || p.Kind != post.KindOriginal {
				t.Errorf("id %q url %q kind %q", p.ID, p.URL, p.Kind)
			}
			if len(p.Media) != 1 || p.Media[0] != (post.Media{Kind: post.MediaImage, URL: "https://i.ytimg.com/vi/hArb0urL1v3/hqdefault.jpg", Width: 480, Height: 360, Alt: "🔴 LIVE: Harbour Festival main stage"}) {
				t.Errorf("media %+v", p.Media)
			}
			if !p.CreatedAt.Equal(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)) || !slices.Equal(p.Hashtags, []string{"HarbourFest26"}) {
				t.Errorf("created %v hashtags %v", p.CreatedAt, p.Hashtags)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := adaptVideo(*tt.v, "yt", fetchTime)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, p)
		})
	}
}

func TestAdaptWithVideos(t *testing.T) {
	hits := searchParts(t)
	videos := decode[VideoListResponse](t, "videos.json")
	byID := map[string]*Video{}
	for i := range videos.Items {
		byID[videos.Items[i].ID] = &videos.Items[i]
	}
	adapt := func(t *testing.T, i int) post.Post {
		t.Helper()
		p, err := adaptVideo(hits[i].withVideo(byID[hits[i].id]), "yt", fetchTime)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name  string
		i     int
		check func(t *testing.T, p post.Post)
	}{
		{name: "full description, statistics, language, links with trailing dot trimmed", i: 0, check: func(t *testing.T, p post.Post) {
			if p.Text != "🔴 LIVE: Harbour Festival main stage\n\nWatch the main stage live from the pier! #HarbourFest26\n\nSchedule: https://harbour.example/schedule." {
				t.Errorf("text %q", p.Text)
			}
			if p.Counts != (post.Counts{Likes: 512, Replies: 64}) || p.Lang != "en" {
				t.Errorf("counts %+v lang %q", p.Counts, p.Lang)
			}
			if len(p.Links) != 1 || spanText(p, p.Links[0]) != "https://harbour.example/schedule" {
				t.Errorf("links %+v", p.Links)
			}
		}},
		{name: "videos.list text is not unescaped twice", i: 1, check: func(t *testing.T, p post.Post) {
			if !strings.Contains(p.Text, "Music: &amp; is literal here.") || !strings.HasPrefix(p.Text, "Drone over the harbour '26 & the \"big\" crane") {
				t.Errorf("text %q", p.Text)
			}
		}},
		{name: "right to left, Arabic hashtag", i: 2, check: func(t *testing.T, p post.Post) {
			if p.Text != "مهرجان الميناء ٢٠٢٦ — اليوم الأول\n\nجولة في المهرجان 🎶 #مهرجان_الميناء" || !slices.Equal(p.Hashtags, []string{"مهرجان_الميناء"}) || p.Lang != "ar" {
				t.Errorf("text %q hashtags %v lang %q", p.Text, p.Hashtags, p.Lang)
			}
		}},
		{name: "long description cut at the post limit", i: 5, check: func(t *testing.T, p post.Post) {
			if n := utf8.RuneCountInString(p.Text); n > post.MaxTextRunes || n < post.MaxTextRunes*4/5 || !strings.HasSuffix(p.Text, "…") {
				t.Errorf("%d runes", n)
			}
		}},
		{name: "age restricted is sensitive", i: 6, check: func(t *testing.T, p post.Post) {
			if !p.Sensitive || p.ContentWarning != "Age-restricted" || p.Author.Name != "Sky & Sea" {
				t.Errorf("sensitive %v warning %q author %+v", p.Sensitive, p.ContentWarning, p.Author)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, adapt(t, tt.i)) })
	}
}

func chatItems(t *testing.T, name string) []*LiveChatMessage {
	t.Helper()
	var out []*LiveChatMessage
	for _, raw := range decode[LiveChatMessageListResponse](t, name).Items {
		m, err := parseChatMessage(raw)
		if err != nil {
			out = append(out, nil)
			continue
		}
		out = append(out, m)
	}
	return out
}

func TestAdaptChat(t *testing.T) {
	items := append(chatItems(t, "chat.json"), chatItems(t, "chat_page2.json")...)
	if len(items) != 8 || items[3] != nil {
		t.Fatalf("items %v: the malformed one must not parse", items)
	}
	const video = "https://www.youtube.com/watch?v=hArb0urL1v3"
	tests := []struct {
		name    string
		m       *LiveChatMessage
		outcome chatOutcome
		check   func(t *testing.T, p post.Post)
	}{
		{name: "text message with emoji and hashtag; @handle", m: items[0], check: func(t *testing.T, p post.Post) {
			if p.ID != "youtube:LCC.msg-001" || p.Text != "Hello from the pier! 👋🎉 #HarbourFest26" || p.URL != video {
				t.Errorf("post %+v", p)
			}
			if p.Author.Handle != "ana_souza" || p.Author.Name != "@ana_souza" || p.Author.AvatarURL == "" || p.Author.ID != "UCfan1aaaaaaaaaaaaaaaaaa" {
				t.Errorf("author %+v", p.Author)
			}
			if !p.CreatedAt.Equal(time.Date(2026, 11, 23, 10, 1, 2, 123e6, time.UTC)) || !slices.Equal(p.Hashtags, []string{"HarbourFest26"}) {
				t.Errorf("created %v hashtags %v", p.CreatedAt, p.Hashtags)
			}
		}},
		{name: "right to left", m: items[1], check: func(t *testing.T, p post.Post) {
			if p.Text != "שלום לכולם! مرحبا" || p.Author.Handle != "" {
				t.Errorf("post %+v", p)
			}
		}},
		{name: "super chat with amount", m: items[2], check: func(t *testing.T, p post.Post) {
			if p.Text != "€5.00 Super Chat: Play the encore!" {
				t.Errorf("text %q", p.Text)
			}
		}},
		{name: "ban ignored", m: items[4], outcome: chatIgnored},
		{name: "link span without the comma", m: items[5], check: func(t *testing.T, p post.Post) {
			if len(p.Links) != 1 || spanText(p, p.Links[0]) != "https://harbour.example/map" {
				t.Errorf("links %+v", p.Links)
			}
		}},
		{name: "deletion is a takedown of the deleted message", m: items[6], outcome: chatTakedown, check: func(t *testing.T, p post.Post) {
			if !p.Deleted || p.ID != "youtube:LCC.msg-002" || p.Network != "youtube" || p.Source != "yt" {
				t.Errorf("takedown %+v", p)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, outcome, err := adaptChat(tt.m, video, "yt", fetchTime)
			if err != nil {
				t.Fatal(err)
			}
			if outcome != tt.outcome {
				t.Fatalf("outcome %v, want %v", outcome, tt.outcome)
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

func TestEntities(t *testing.T) {
	tests := []struct {
		name, text string
		tags       []string
		spans      []string
	}{
		{name: "tags and links", text: "#Fest (https://a.example/x?y=1) and #fest again http://b.example.", tags: []string{"Fest"}, spans: []string{"https://a.example/x?y=1", "http://b.example"}},
		{name: "no tag in a word or of digits", text: "a#b #123 ftp://x.example httpx://y", tags: nil, spans: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tags, links := entities(tt.text)
			var spans []string
			for _, l := range links {
				spans = append(spans, spanText(post.Post{Text: tt.text}, l))
			}
			if !slices.Equal(tags, tt.tags) || !slices.Equal(spans, tt.spans) {
				t.Errorf("got %v %q", tags, spans)
			}
		})
	}
}

func TestUntilPacificMidnight(t *testing.T) {
	tests := []struct {
		name string
		now  time.Time
		want time.Duration
	}{
		{name: "winter, PST", now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), want: 20 * time.Hour}, // 04:00 PST
		{name: "summer, PDT", now: time.Date(2026, 7, 1, 6, 59, 0, 0, time.UTC), want: time.Minute},      // 23:59 PDT
		{name: "just after midnight", now: time.Date(2026, 11, 23, 8, 0, 1, 0, time.UTC), want: 24*time.Hour - time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := untilPacificMidnight(tt.now); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func FuzzAdapter(f *testing.F) {
	for _, name := range []string{"search.json", "videos.json", "chat.json", "chat_page2.json", "chat_offline.json"} {
		f.Add(sourcetest.Testdata(f, name))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(p post.Post) {
			n := utf8.RuneCountInString(p.Text)
			for _, l := range p.Links {
				if l.End > n || l.Start > l.End {
					t.Fatalf("span %+v beyond %q", l, p.Text)
				}
			}
		}
		var search SearchListResponse
		if json.Unmarshal(body, &search) == nil {
			for _, raw := range search.Items {
				if r, err := parseSearchResult(raw); err == nil {
					if v, err := fromSearch(r); err == nil {
						if p, err := adaptVideo(v, "f", fetchTime); err == nil {
							check(p)
						}
					}
				}
			}
		}
		var videos VideoListResponse
		if json.Unmarshal(body, &videos) == nil {
			for i := range videos.Items {
				if p, err := adaptVideo(videoParts{id: videos.Items[i].ID}.withVideo(&videos.Items[i]), "f", fetchTime); err == nil {
					check(p)
				}
			}
		}
		var chat LiveChatMessageListResponse
		if json.Unmarshal(body, &chat) == nil {
			for _, raw := range chat.Items {
				if m, err := parseChatMessage(raw); err == nil {
					if p, _, err := adaptChat(m, "", "f", fetchTime); err == nil {
						check(p)
					}
				}
			}
		}
	})
}

func BenchmarkAdaptSearchPage(b *testing.B) {
	search, videos := sourcetest.Testdata(b, "search.json"), sourcetest.Testdata(b, "videos.json")
	b.ReportAllocs()
	for b.Loop() {
		var s SearchListResponse
		var v VideoListResponse
		if json.Unmarshal(search, &s) != nil || json.Unmarshal(videos, &v) != nil {
			b.Fatal("decode")
		}
		byID := map[string]*Video{}
		for i := range v.Items {
			byID[v.Items[i].ID] = &v.Items[i]
		}
		n := 0
		for _, raw := range s.Items {
			r, err := parseSearchResult(raw)
			if err != nil {
				continue
			}
			parts, err := fromSearch(r)
			if err != nil {
				continue
			}
			if _, err := adaptVideo(parts.withVideo(byID[parts.id]), "b", fetchTime); err == nil {
				n++
			}
		}
		if n != 5 {
			b.Fatal(n)
		}
	}
}

func BenchmarkAdaptChatPage(b *testing.B) {
	body := sourcetest.Testdata(b, "chat.json")
	b.ReportAllocs()
	for b.Loop() {
		var c LiveChatMessageListResponse
		if json.Unmarshal(body, &c) != nil {
			b.Fatal("decode")
		}
		for _, raw := range c.Items {
			if m, err := parseChatMessage(raw); err == nil {
				_, _, _ = adaptChat(m, "", "b", fetchTime)
			}
		}
	}
}
