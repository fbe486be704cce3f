package mastodon

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

var fetched = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// timeline returns the statuses of a timeline fixture, newest first.
func timeline(t testing.TB, name string) []json.RawMessage {
	t.Helper()
	var page []json.RawMessage
	if err := json.Unmarshal(sourcetest.Testdata(t, name), &page); err != nil {
		t.Fatal(err)
	}
	return page
}

// byID finds a status in a timeline fixture.
func byID(t testing.TB, page []json.RawMessage, id string) *Status {
	t.Helper()
	for _, raw := range page {
		var s struct{ ID string }
		_ = json.Unmarshal(raw, &s)
		if s.ID == id {
			var st Status
			if err := json.Unmarshal(raw, &st); err != nil {
				t.Fatal(err)
			}
			return &st
		}
	}
	t.Fatalf("no status %s", id)
	return nil
}

// span returns the text a link's span covers.
func span(text string, l post.Link) string {
	r := []rune(text)
	if l.Start < 0 || l.End > len(r) || l.Start > l.End {
		return "<bad span>"
	}
	return string(r[l.Start:l.End])
}

func TestAdapt(t *testing.T) {
	page := timeline(t, "tag_timeline.json")
	var reblog Status
	if err := json.Unmarshal(sourcetest.Testdata(t, "reblog.json"), &reblog); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		status *Status
		check  func(t *testing.T, p post.Post)
	}{
		{
			name:   "link with invisible and ellipsis parts, mention, hashtag, counts",
			status: byID(t, page, "113520000000000001"),
			check: func(t *testing.T, p post.Post) {
				want := "Doors open at 9! Schedule: chorus-live.example/schedule/d… see you there @karim #ChorusLive"
				if p.Text != want {
					t.Errorf("text %q, want %q", p.Text, want)
				}
				if p.ID != "mastodon:mastodon.social/113520000000000001" || p.URL != "https://mastodon.social/@ana/113520000000000001" {
					t.Errorf("id %s url %s", p.ID, p.URL)
				}
				if len(p.Links) != 1 || p.Links[0].URL != "https://chorus-live.example/schedule/day-one/main-stage" || span(p.Text, p.Links[0]) != "chorus-live.example/schedule/d…" {
					t.Errorf("links %+v", p.Links)
				}
				if !slices.Equal(p.Mentions, []string{"karim@mastodon.social"}) || !slices.Equal(p.Hashtags, []string{"ChorusLive"}) {
					t.Errorf("mentions %v hashtags %v", p.Mentions, p.Hashtags)
				}
				if p.Counts != (post.Counts{Likes: 14, Reposts: 3, Replies: 1}) || p.Kind != post.KindOriginal || p.Lang != "en" {
					t.Errorf("counts %+v kind %s lang %s", p.Counts, p.Kind, p.Lang)
				}
				wantAuthor := post.Author{ID: "ana@mastodon.social", Handle: "ana@mastodon.social", Name: "Ana Lima 🎤",
					AvatarURL:  "https://files.mastodon.social/accounts/avatars/109301/original/avatar.png",
					ProfileURL: "https://mastodon.social/@ana", Followers: 1520}
				if p.Author != wantAuthor {
					t.Errorf("author %+v", p.Author)
				}
				if !p.CreatedAt.Equal(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)) || !p.FetchedAt.Equal(fetched) || p.Source != "m" {
					t.Errorf("times %s %s source %s", p.CreatedAt, p.FetchedAt, p.Source)
				}
			},
		},
		{
			name:   "Arabic, right to left, two paragraphs",
			status: byID(t, page, "113520000000000002"),
			check: func(t *testing.T, p post.Post) {
				if p.Text != "مرحبا بالجميع في المهرجان! 🎶 #ChorusLive\n\nالحفل يبدأ الساعة التاسعة" || p.Lang != "ar" {
					t.Errorf("text %q lang %s", p.Text, p.Lang)
				}
				if p.Author.Name != "كريم" {
					t.Errorf("author %+v", p.Author)
				}
			},
		},
		{
			name:   "Hebrew from a remote server: entities decoded, emoji and custom emoji kept, br is a newline",
			status: byID(t, page, "113520000000000003"),
			check: func(t *testing.T, p post.Post) {
				want := "שלום & ברוכים הבאים :blobcat: 👋🏽👩\u200d👩\u200d👧\nTom & Jerry say <hi> \"quoted\" 'single' #ChorusLive"
				if p.Text != want {
					t.Errorf("text %q, want %q", p.Text, want)
				}
				if p.ID != "mastodon:tooot.example/109999000000000777" || p.URL != "https://tooot.example/@noa/109999000000000777" {
					t.Errorf("id %s url %s", p.ID, p.URL)
				}
				if p.Author.Handle != "noa@tooot.example" || p.Author.Name != "נועה :blobcat:" || p.Lang != "he" {
					t.Errorf("author %+v lang %s", p.Author, p.Lang)
				}
			},
		},
		{
			name:   "content warning, sensitive, image with alt and size",
			status: byID(t, page, "113520000000000004"),
			check: func(t *testing.T, p post.Post) {
				if !p.Sensitive || p.ContentWarning != "flashing lights" {
					t.Errorf("sensitive %v cw %q", p.Sensitive, p.ContentWarning)
				}
				want := []post.Media{{Kind: post.MediaImage,
					URL:        "https://files.mastodon.social/media_attachments/files/2201/original/stage.jpg",
					PreviewURL: "https://files.mastodon.social/media_attachments/files/2201/small/stage.jpg",
					Width:      1600, Height: 900, Alt: "The main stage under purple lights"}}
				if !slices.Equal(p.Media, want) {
					t.Errorf("media %+v", p.Media)
				}
			},
		},
		{
			name:   "reply",
			status: byID(t, page, "113520000000000005"),
			check: func(t *testing.T, p post.Post) {
				if p.Kind != post.KindReply || p.Text != "@ana شكرا! #ChorusLive" || !slices.Equal(p.Mentions, []string{"ana@mastodon.social"}) {
					t.Errorf("kind %s text %q mentions %v", p.Kind, p.Text, p.Mentions)
				}
			},
		},
		{
			name:   "quote (Mastodon 4.4): the RE: fallback hidden, the quoted post kept as a link",
			status: byID(t, page, "113520000000000007"),
			check: func(t *testing.T, p post.Post) {
				if p.Kind != post.KindQuote || p.Text != "Reminder: doors at 9 #ChorusLive" {
					t.Errorf("kind %s text %q", p.Kind, p.Text)
				}
				if len(p.Links) != 1 || p.Links[0].URL != "https://mastodon.social/@ana/113520000000000001" {
					t.Errorf("links %+v", p.Links)
				}
			},
		},
		{
			name:   "gifv and video kept, audio dropped",
			status: byID(t, page, "113520000000000008"),
			check: func(t *testing.T, p post.Post) {
				if len(p.Media) != 2 || p.Media[0].Kind != post.MediaGIF || p.Media[1].Kind != post.MediaVideo ||
					p.Media[0].Width != 480 || p.Media[1].Height != 720 || p.Media[1].Alt != "Drummer warming up" {
					t.Errorf("media %+v", p.Media)
				}
			},
		},
		{
			name:   "long post kept whole",
			status: byID(t, page, "113520000000000009"),
			check: func(t *testing.T, p post.Post) {
				if n := utf8.RuneCountInString(p.Text); n < 3000 || !strings.HasPrefix(p.Text, "1. The choir") || !strings.HasSuffix(p.Text, "\n\n#ChorusLive") {
					t.Errorf("text of %d runes: %q…", n, p.Text[:80])
				}
				if strings.Count(p.Text, "\n\n") != 8 {
					t.Errorf("paragraphs: %d breaks", strings.Count(p.Text, "\n\n"))
				}
			},
		},
		{
			name:   "lists, blockquote and code",
			status: byID(t, page, "113520000000000010"),
			check: func(t *testing.T, p post.Post) {
				want := "Today:\n\n1. Keynote\n2. Choir\n\n• food & drinks\n\nSing!\n\nUse #ChorusLive"
				if p.Text != want {
					t.Errorf("text %q, want %q", p.Text, want)
				}
			},
		},
		{
			name:   "reblog: the reblogged status shown, the booster noted, the reblog's own id",
			status: &reblog,
			check: func(t *testing.T, p post.Post) {
				if p.Kind != post.KindRepost || p.ID != "mastodon:mastodon.social/113520000000000011" {
					t.Errorf("kind %s id %s", p.Kind, p.ID)
				}
				if !strings.HasPrefix(p.Text, "🔁 @sam@mastodon.social\nمرحبا") || p.Author.Handle != "karim@mastodon.social" {
					t.Errorf("text %q author %+v", p.Text, p.Author)
				}
				if p.URL != "https://mastodon.social/@karim/113520000000000002" || p.Lang != "ar" {
					t.Errorf("url %s lang %s", p.URL, p.Lang)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Adapt(tt.status, "m", fetched)
			if err != nil {
				t.Fatal(err)
			}
			if p.Network != "mastodon" || strings.Contains(p.Text, "<") && !strings.Contains(p.Text, "<hi>") {
				t.Errorf("network %s text %q", p.Network, p.Text)
			}
			tt.check(t, p)
		})
	}
}

func TestAdaptRejects(t *testing.T) {
	tests := []struct {
		name string
		json string
		want string
	}{
		{name: "no uri", json: `{"id":"1","uri":"","content":"<p>x</p>","visibility":"public"}`, want: "uri"},
		{name: "uri not http", json: `{"id":"1","uri":"tag:example.com,2026:1","content":"<p>x</p>"}`, want: "uri"},
		{name: "no text and no media", json: `{"id":"1","uri":"https://h.example/users/a/statuses/1","content":"<p> </p>"}`, want: "text is required"},
		{name: "direct message", json: `{"id":"1","uri":"https://h.example/users/a/statuses/1","content":"<p>x</p>","visibility":"direct"}`, want: "not public"},
		{name: "followers only", json: `{"id":"1","uri":"https://h.example/users/a/statuses/1","content":"<p>x</p>","visibility":"private"}`, want: "not public"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Status
			if err := json.Unmarshal([]byte(tt.json), &s); err != nil {
				t.Fatal(err)
			}
			_, err := Adapt(&s, "m", fetched)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want %q", err, tt.want)
			}
		})
	}
}

func TestPostID(t *testing.T) {
	long := "https://misskey.example/notes/" + strings.Repeat("x", 300)
	tests := []struct {
		name, uri, want string
	}{
		{name: "mastodon status", uri: "https://mastodon.social/users/ana/statuses/113520000000000001", want: "mastodon.social/113520000000000001"},
		{name: "host case folded", uri: "https://Mastodon.Social/users/ana/statuses/1", want: "mastodon.social/1"},
		{name: "reblog activity", uri: "https://mastodon.social/users/sam/statuses/9/activity", want: "mastodon.social/9"},
		{name: "misskey note", uri: "https://misskey.example/notes/9xyzabc", want: "misskey.example/notes/9xyzabc"},
		{name: "pleroma object", uri: "https://pleroma.example/objects/0f2c6a1e-8f4b-4a61-9a52-3b1d6a8e2f11", want: "pleroma.example/objects/0f2c6a1e-8f4b-4a61-9a52-3b1d6a8e2f11"},
		{name: "very long uri hashed", uri: long, want: "misskey.example/h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PostID(tt.uri)
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "very long uri hashed" {
				if !strings.HasPrefix(got, tt.want) || len(got) != len(tt.want)+32 {
					t.Errorf("got %s", got)
				}
				return
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseContent(t *testing.T) {
	tests := []struct {
		name     string
		html     string
		text     string
		links    []string // the text each link's span covers
		tags     []string
		mentions []string
	}{
		{name: "paragraphs and br", html: "<p>one<br>two</p><p>three</p>", text: "one\ntwo\n\nthree"},
		{name: "entities", html: "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; &eacute;t&eacute; &#x1F600;</p>", text: "<script>alert(1)</script> &amp; été 😀"},
		{name: "raw markup never survives", html: `<p>hi<script>alert(1)</script><style>p{}</style><img src=x onerror=alert(1) alt=""></p>`, text: "hi"},
		{
			name:  "link after emoji and RTL text: spans in code points",
			html:  `<p>👩‍👩‍👧 שלום <a href="https://example.com/a"><span class="invisible">https://</span><span class="">example.com/a</span><span class="invisible"></span></a> مرحبا</p>`,
			text:  "👩\u200d👩\u200d👧 שלום example.com/a مرحبا",
			links: []string{"example.com/a"},
		},
		{
			name:  "ellipsis link",
			html:  `<p><a href="https://example.com/very/long/path/indeed"><span class="invisible">https://</span><span class="ellipsis">example.com/very/long/pa</span><span class="invisible">th/indeed</span></a></p>`,
			text:  "example.com/very/long/pa…",
			links: []string{"example.com/very/long/pa…"},
		},
		{
			name:     "mention and hashtag links",
			html:     `<p><span class="h-card"><a href="https://a.example/@bo" class="u-url mention">@<span>bo</span></a></span> <a href="https://b.example/tags/%D8%B3%D9%84%D8%A7%D9%85" class="mention hashtag" rel="tag">#<span>سلام</span></a></p>`,
			text:     "@bo #سلام",
			tags:     []string{"سلام"},
			mentions: []string{"bo"},
		},
		{name: "javascript link is text only", html: `<p><a href="javascript:alert(1)">click</a></p>`, text: "click"},
		{name: "bidi override dropped before spans", html: "<p>\u202Eevil <a href=\"https://x.example\">x</a></p>", text: "evil x", links: []string{"x"}},
		{name: "leading and trailing breaks trimmed", html: "<br><p></p><p>x</p><br><br>", text: "x"},
		{name: "not html at all", html: "plain & simple", text: "plain & simple"},
		{name: "empty", html: "", text: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := parseContent(tt.html)
			if rt.Text != tt.text {
				t.Errorf("text %q, want %q", rt.Text, tt.text)
			}
			var links []string
			for _, l := range rt.Links {
				links = append(links, span(rt.Text, l))
			}
			if !slices.Equal(links, tt.links) {
				t.Errorf("links %q, want %q", links, tt.links)
			}
			if !slices.Equal(rt.Hashtags, tt.tags) {
				t.Errorf("tags %q, want %q", rt.Hashtags, tt.tags)
			}
			var ms []string
			for _, m := range rt.Mentions {
				ms = append(ms, m.text)
			}
			if !slices.Equal(ms, tt.mentions) {
				t.Errorf("mentions %q, want %q", ms, tt.mentions)
			}
		})
	}
}

func TestReadEvents(t *testing.T) {
	var got []Event
	beats := 0
	err := readEvents(strings.NewReader(string(sourcetest.Testdata(t, "stream_1.txt"))), func() { beats++ }, func(e Event) error {
		got = append(got, e)
		return nil
	})
	if err == nil || err.Error() != "EOF" {
		t.Fatalf("err %v", err)
	}
	var names []string
	for _, e := range got {
		names = append(names, e.Name)
	}
	if !slices.Equal(names, []string{"update", "status.update", "delete", "update"}) || got[2].Data != "113520000000000003" || beats == 0 {
		t.Errorf("events %v, beats %d", names, beats)
	}
	// Multi-line data is joined with newlines; a final event without a
	// blank line is not dispatched.
	got = nil
	_ = readEvents(strings.NewReader("data: a\ndata: b\n\nevent: update\ndata: c"), func() {}, func(e Event) error { got = append(got, e); return nil })
	if len(got) != 1 || got[0].Data != "a\nb" || got[0].Name != "message" {
		t.Errorf("got %+v", got)
	}
}

func FuzzAdapter(f *testing.F) {
	for _, raw := range timeline(f, "tag_timeline.json") {
		f.Add(string(raw))
	}
	f.Add(string(sourcetest.Testdata(f, "reblog.json")))
	f.Add(`{"id":"1","uri":"https://h.example/users/a/statuses/1","content":"<p><a href=\"https://x\"><span class=\"ellipsis\">x</span></a>","quote":{"state":"accepted","quoted_status":{"uri":"https://h.example/users/b/statuses/2"}}}`)
	f.Fuzz(func(t *testing.T, data string) {
		var s Status
		if err := json.Unmarshal([]byte(data), &s); err != nil {
			return
		}
		p, err := Adapt(&s, "m", fetched)
		if err != nil {
			return
		}
		n := utf8.RuneCountInString(p.Text)
		for _, l := range p.Links {
			if l.Start < 0 || l.End > n || l.Start > l.End {
				t.Fatalf("link span %d-%d outside text of %d runes", l.Start, l.End, n)
			}
		}
	})
}

func FuzzContent(f *testing.F) {
	for _, raw := range timeline(f, "tag_timeline.json") {
		var s Status
		if json.Unmarshal(raw, &s) == nil {
			f.Add(s.Content)
		}
	}
	f.Fuzz(func(t *testing.T, html string) {
		rt := parseContent(html)
		n := utf8.RuneCountInString(rt.Text)
		for _, l := range rt.Links {
			if l.Start < 0 || l.End > n || l.Start > l.End {
				t.Fatalf("link span %d-%d outside text of %d runes", l.Start, l.End, n)
			}
		}
	})
}

// BenchmarkAdaptPage decodes and adapts one page of the tag timeline (10
// statuses with links, media, quotes and a long post), as one poll does.
func BenchmarkAdaptPage(b *testing.B) {
	data := sourcetest.Testdata(b, "tag_timeline.json")
	b.ReportAllocs()
	for b.Loop() {
		var page []json.RawMessage
		if err := json.Unmarshal(data, &page); err != nil {
			b.Fatal(err)
		}
		for _, raw := range page {
			var s Status
			if json.Unmarshal(raw, &s) != nil {
				continue
			}
			_, _ = Adapt(&s, "m", fetched)
		}
	}
}
