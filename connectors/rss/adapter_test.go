package rss

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chorus-wall/chorus/connectors/sourcetest"
	"github.com/chorus-wall/chorus/post"
)

var fetchTime = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// adaptFixture parses and adapts a fixture as if fetched from feedURL.
func adaptFixture(t *testing.T, name, feedURL string, limit int) []entry {
	t.Helper()
	f, err := parseFeed(sourcetest.Testdata(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return adaptFeed(feedURL, f, adaptOptions{source: "news", textLimit: limit}, fetchTime)
}

// spanText is the text a link's span covers.
func spanText(p post.Post, l post.Link) string {
	r := []rune(p.Text)
	if l.Start < 0 || l.End > len(r) || l.Start > l.End {
		return "<bad span>"
	}
	return string(r[l.Start:l.End])
}

func TestAdaptFixtures(t *testing.T) {
	const feedURL = "https://news.harbour.example/feed.xml"
	rss2 := adaptFixture(t, "rss2.xml", feedURL, DefaultTextLimit)
	atom := adaptFixture(t, "atom.xml", "https://kai.example/atom.xml", DefaultTextLimit)
	jf := adaptFixture(t, "feed.json", "https://mika.example/feed.json", DefaultTextLimit)
	short := adaptFixture(t, "rss2.xml", feedURL, 200)
	if len(rss2) != 6 || len(atom) != 2 || len(jf) != 2 || len(short) != 6 {
		t.Fatalf("entries: rss %d, atom %d, json %d", len(rss2), len(atom), len(jf))
	}
	tests := []struct {
		name  string
		e     entry
		check func(t *testing.T, p post.Post)
	}{
		{name: "rss content:encoded to text, entities, emoji, links with spans", e: rss2[0], check: func(t *testing.T, p post.Post) {
			want := "Main stage opens at noon 🎉\n\nDoors open at 11:30. Bring water & sunscreen!\n\nThe line-up is on our site and tickets at the box office.\n\nThe stage at dawn"
			if p.Text != want {
				t.Errorf("text %q\nwant %q", p.Text, want)
			}
			if len(p.Links) != 2 || p.Links[0].URL != "https://news.harbour.example/lineup" || spanText(p, p.Links[0]) != "our site" ||
				p.Links[1].URL != "https://tickets.example/harbour?utm=rss&x=1" || spanText(p, p.Links[1]) != "the box office" {
				t.Errorf("links %+v", p.Links)
			}
			if p.Author.Name != "Ana Souza" || p.Author.AvatarURL != "https://news.harbour.example/logo-144.png" || p.Author.ProfileURL != "https://news.harbour.example/" {
				t.Errorf("author %+v", p.Author)
			}
			if !slices.Equal(p.Hashtags, []string{"Festival", "Harbour26"}) {
				t.Errorf("hashtags %v (multi-word categories are not hashtags)", p.Hashtags)
			}
			if len(p.Media) != 2 || p.Media[0] != (post.Media{Kind: post.MediaVideo, URL: "https://cdn.harbour.example/video/teaser.mp4", PreviewURL: "https://cdn.harbour.example/video/teaser.jpg", Width: 1920, Height: 1080, Alt: "Festival teaser"}) ||
				p.Media[1] != (post.Media{Kind: post.MediaImage, URL: "https://news.harbour.example/img/stage.jpg", Width: 1200, Height: 800, Alt: "The main stage at dawn"}) {
				t.Errorf("media %+v (no tracking pixel)", p.Media)
			}
			if p.URL != "https://news.harbour.example/2026/11/main-stage-opens" || p.Lang != "en-gb" || p.Kind != post.KindOriginal || p.Sensitive {
				t.Errorf("post %+v", p)
			}
			if !p.CreatedAt.Equal(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)) || !p.FetchedAt.Equal(fetchTime) || p.Source != "news" {
				t.Errorf("times %v %v source %q", p.CreatedAt, p.FetchedAt, p.Source)
			}
		}},
		{name: "right to left text, double-escaped entities, image enclosure, audio ignored", e: rss2[1], check: func(t *testing.T, p post.Post) {
			want := "مرحبا بكم في المهرجان — ברוכים הבאים\n\nنرحب بجميع الزوار. \"أهلاً\" & שלום!"
			if p.Text != want {
				t.Errorf("text %q\nwant %q", p.Text, want)
			}
			if len(p.Media) != 1 || p.Media[0].URL != "https://cdn.harbour.example/img/welcome.png" || p.Media[0].Kind != post.MediaImage {
				t.Errorf("media %+v", p.Media)
			}
			if p.Author.Name != "Harbour Festival News" || p.Author.ID != feedURL {
				t.Errorf("author %+v: the feed stands in for a missing item author", p.Author)
			}
		}},
		{name: "media group with per-content descriptions", e: rss2[2], check: func(t *testing.T, p post.Post) {
			want := []post.Media{
				{Kind: post.MediaImage, URL: "https://cdn.harbour.example/gallery/n1-1.jpg", Width: 2048, Height: 1365, Alt: "Crowd under the lights"},
				{Kind: post.MediaImage, URL: "https://cdn.harbour.example/gallery/n1-2.jpg", Width: 1365, Height: 2048, Alt: "The drummer, mid-solo"},
			}
			if !slices.Equal(p.Media, want) {
				t.Errorf("media %+v", p.Media)
			}
		}},
		{name: "media rating adult is sensitive; lone thumbnail is an image", e: rss2[3], check: func(t *testing.T, p post.Post) {
			if !p.Sensitive || len(p.Media) != 1 || p.Media[0].URL != "https://cdn.harbour.example/img/after.jpg" || p.Media[0].Width != 800 {
				t.Errorf("sensitive %v media %+v", p.Sensitive, p.Media)
			}
		}},
		{name: "an item with nothing to show fails, with its key", e: rss2[4], check: func(t *testing.T, _ post.Post) {}},
		{name: "long text is cut at a word with an ellipsis", e: short[5], check: func(t *testing.T, p post.Post) {
			if n := utf8.RuneCountInString(p.Text); n > 200 || n < 150 || !strings.HasSuffix(p.Text, "…") {
				t.Errorf("%d runes: %q", n, p.Text)
			}
			if !strings.HasPrefix(p.Text, "The full programme, day by day\n\nFriday\n\n• Opening parade\n• Harbour choir\n\nSaturday") {
				t.Errorf("text %q", p.Text)
			}
			if strings.HasSuffix(p.Text, " …") || strings.HasSuffix(p.Text, "wat…") {
				t.Errorf("cut inside a word or before a space: %q", p.Text)
			}
		}},
		{name: "long text is cut to the default limit", e: rss2[5], check: func(t *testing.T, p post.Post) {
			if n := utf8.RuneCountInString(p.Text); n > DefaultTextLimit || n < DefaultTextLimit*4/5 || !strings.HasSuffix(p.Text, "from…") {
				t.Errorf("%d runes, ends %q", n, p.Text[len(p.Text)-20:])
			}
		}},
		{name: "atom xhtml content, html title, enclosure link, relative link resolved", e: atom[0], check: func(t *testing.T, p post.Post) {
			want := "Ein kurzer Bericht\n\nDer Hafen war voll – über 10\u00a0000 Menschen.\n\nMehr auf meiner Bilderseite.\nBis morgen!"
			if p.Text != want {
				t.Errorf("text %q\nwant %q", p.Text, want)
			}
			if len(p.Links) != 1 || p.Links[0].URL != "https://kai.example/2026/bilder" || spanText(p, p.Links[0]) != "meiner Bilderseite" {
				t.Errorf("links %+v", p.Links)
			}
			if len(p.Media) != 1 || p.Media[0].URL != "https://kai.example/media/hafen.jpg" {
				t.Errorf("media %+v", p.Media)
			}
			if p.Author.Name != "Kai's Notizen" || p.Author.AvatarURL != "https://kai.example/logo.png" || p.Lang != "de" {
				t.Errorf("author %+v lang %q", p.Author, p.Lang)
			}
			if !slices.Equal(p.Hashtags, []string{"Hafen"}) {
				t.Errorf("hashtags %v", p.Hashtags)
			}
			if !p.CreatedAt.Equal(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)) {
				t.Errorf("created %v, want published", p.CreatedAt)
			}
		}},
		{name: "atom summary that starts the content gives way to the content; updated as date", e: atom[1], check: func(t *testing.T, p post.Post) {
			if p.Text != "Nur ein Update\n\nZusammenfassung mit & Zeichen\n\nUnd der Rest des Textes." {
				t.Errorf("text %q", p.Text)
			}
			if !p.CreatedAt.Equal(time.Date(2026, 11, 22, 18, 0, 0, 0, time.UTC)) {
				t.Errorf("created %v", p.CreatedAt)
			}
		}},
		{name: "json feed content_text stays text; attachments; tags; language", e: jf[0], check: func(t *testing.T, p post.Post) {
			if p.Text != "港のフェスに来ました！🎶 <b>これはタグではありません</b> & 楽しい" {
				t.Errorf("text %q", p.Text)
			}
			if len(p.Media) != 2 || p.Media[0].Kind != post.MediaVideo || p.Media[1].Kind != post.MediaGIF {
				t.Errorf("media %+v", p.Media)
			}
			if !slices.Equal(p.Hashtags, []string{"港フェス"}) || p.Lang != "ja" || p.Author.AvatarURL != "https://mika.example/icon-512.png" {
				t.Errorf("hashtags %v lang %q author %+v", p.Hashtags, p.Lang, p.Author)
			}
		}},
		{name: "json feed 1.1 item author with avatar, image, item language", e: jf[1], check: func(t *testing.T, p post.Post) {
			if p.Text != "Notes from the soundcheck\n\nSoundcheck went long — worth it.\n\nPhotos" || spanText(p, p.Links[0]) != "Photos" {
				t.Errorf("text %q links %+v", p.Text, p.Links)
			}
			if p.Author.Name != "Guest: Jo" || p.Author.AvatarURL != "https://mika.example/jo.jpg" || p.Lang != "en" {
				t.Errorf("author %+v lang %q", p.Author, p.Lang)
			}
			if len(p.Media) != 1 || p.Media[0].URL != "https://mika.example/media/soundcheck.jpg" {
				t.Errorf("media %+v", p.Media)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.e.key == "" {
				t.Fatal("no key")
			}
			if tt.name == "an item with nothing to show fails, with its key" {
				if tt.e.err == nil {
					t.Fatalf("no error for an empty item: %+v", tt.e.post)
				}
				return
			}
			if tt.e.err != nil {
				t.Fatal(tt.e.err)
			}
			if tt.e.post.ID != "rss:"+tt.e.key || tt.e.post.Network != "rss" {
				t.Errorf("id %q network %q", tt.e.post.ID, tt.e.post.Network)
			}
			if strings.ContainsAny(tt.e.post.Text, "<>") && !strings.Contains(tt.e.post.Text, "<b>これ") {
				t.Errorf("markup left in %q", tt.e.post.Text)
			}
			tt.check(t, tt.e.post)
		})
	}
}

func TestItemKeyIsStable(t *testing.T) {
	a := adaptFixture(t, "nodates.xml", "https://pier.example/rss", DefaultTextLimit)
	b := adaptFixture(t, "nodates-reordered.xml", "https://pier.example/rss", DefaultTextLimit)
	other := adaptFixture(t, "nodates.xml", "https://mirror.example/rss", DefaultTextLimit)
	keys := func(es []entry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.post.ID)
		}
		return out
	}
	for _, id := range keys(a) {
		if !slices.Contains(keys(b), id) {
			t.Errorf("%s not in the reordered feed's ids %v", id, keys(b))
		}
		if slices.Contains(keys(other), id) {
			t.Errorf("%s also the id of another feed's item", id)
		}
	}
	for _, e := range a {
		if e.dated || !e.post.CreatedAt.Equal(fetchTime) {
			t.Errorf("undated item created %v", e.post.CreatedAt)
		}
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct {
		name, html, want string
		links            []string // span texts
	}{
		{name: "entities", html: "Fish &amp; chips &lt;3 &quot;yes&quot; &#x1F600; &nbsp;x", want: "Fish & chips <3 \"yes\" 😀 \u00a0x"},
		{name: "whitespace collapses", html: "  a \n\t b   <b> c </b>  d  ", want: "a b c d"},
		{name: "paragraphs and breaks", html: "<p>one</p><p>two<br>three</p><div>four</div>", want: "one\n\ntwo\nthree\n\nfour"},
		{name: "lists", html: "<ol><li>a</li><li>b <i>c</i></li></ol>after", want: "• a\n• b c\n\nafter"},
		{name: "script, style and comments dropped", html: "a<script>evil()</script><style>p{}</style><!-- hi -->b<iframe src=x>f</iframe>", want: "ab"},
		{name: "pre keeps lines", html: "<pre>x  = 1\ny = 2</pre>", want: "x  = 1\ny = 2"},
		{name: "links spans", html: "see <a href=\"https://a.example/\">A <b>site</b></a> and <a href=\"javascript:alert(1)\">bad</a> <a href=\"#top\">top</a>", want: "see A site and bad top", links: []string{"A site"}},
		{name: "unclosed tags", html: "<p>open <b>bold <i>both", want: "open bold both"},
		{name: "table cells spaced", html: "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", want: "a b\nc"},
		{name: "plain text", html: "just text", want: "just text"},
		{name: "empty", html: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := htmlToText(tt.html, nil)
			if r.text != tt.want {
				t.Errorf("got %q, want %q", r.text, tt.want)
			}
			var spans []string
			p := post.Post{Text: r.text}
			for _, l := range r.links {
				spans = append(spans, spanText(p, l))
			}
			if !slices.Equal(spans, tt.links) {
				t.Errorf("link spans %q, want %q", spans, tt.links)
			}
		})
	}
}

func TestCut(t *testing.T) {
	tests := []struct {
		name, text string
		limit      int
		want       string
	}{
		{name: "short stays", text: "hello world", limit: 20, want: "hello world"},
		{name: "at a word", text: "alpha beta gamma delta epsilon", limit: 25, want: "alpha beta gamma delta…"},
		{name: "emoji counted as one", text: "🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉", limit: 5, want: "🎉🎉🎉🎉…"},
		{name: "no space near: hard cut", text: "abcdefghijklmnopqrstuvwxyz", limit: 10, want: "abcdefghi…"},
		{name: "trailing punctuation dropped", text: "one, two, three, four", limit: 10, want: "one, two…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := cut(tt.text, nil, tt.limit)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if utf8.RuneCountInString(got) > tt.limit {
				t.Errorf("%d runes > %d", utf8.RuneCountInString(got), tt.limit)
			}
		})
	}
	text, links := cut("see the long link text here", []post.Link{{URL: "https://a.example", Start: 4, End: 27}}, 12)
	if links[0].Start != 0 || links[0].End != 0 || links[0].URL == "" {
		t.Errorf("cut link %+v of %q: span beyond the cut must go, the link stay", links, text)
	}
}

func TestMatches(t *testing.T) {
	p := post.Post{Text: "Main stage opens #Harbour26"}
	tests := []struct {
		name               string
		keywords, hashtags []string
		cats               []string
		want               bool
	}{
		{name: "no filter", want: true},
		{name: "keyword in text, any case", keywords: []string{"MAIN STAGE"}, want: true},
		{name: "keyword in category", keywords: []string{"music"}, cats: []string{"Live Music"}, want: true},
		{name: "keyword absent", keywords: []string{"ferry"}, want: false},
		{name: "hashtag as category", hashtags: []string{"festival"}, cats: []string{"Festival"}, want: true},
		{name: "hashtag in text", hashtags: []string{"harbour26"}, want: true},
		{name: "hashtag absent", hashtags: []string{"other"}, cats: []string{"Festival"}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := matches(&p, tt.cats, tt.keywords, tt.hashtags); got != tt.want {
				t.Errorf("got %v", got)
			}
		})
	}
}

func FuzzAdapter(f *testing.F) {
	for _, name := range []string{"rss2.xml", "atom.xml", "feed.json", "nodates.xml", "nodates-reordered.xml"} {
		f.Add(sourcetest.Testdata(f, name))
	}
	f.Add([]byte(`<rss><channel><item><description>&lt;a href="x"&gt;</description></item></channel></rss>`))
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1","content_html":"<p>x"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		feed, err := parseFeed(body)
		if err != nil {
			return
		}
		for _, e := range adaptFeed("https://fuzz.example/feed", feed, adaptOptions{source: "f", textLimit: 200}, fetchTime) {
			if e.err != nil {
				continue
			}
			if e.post.ID == "" || utf8.RuneCountInString(e.post.Text) > 200 {
				t.Fatalf("bad post %+v", e.post)
			}
			for _, l := range e.post.Links {
				if l.End > utf8.RuneCountInString(e.post.Text) {
					t.Fatalf("span %+v beyond text %q", l, e.post.Text)
				}
			}
		}
	})
}

func BenchmarkAdaptRSS(b *testing.B) {
	body := sourcetest.Testdata(b, "rss2.xml")
	b.ReportAllocs()
	for b.Loop() {
		f, err := parseFeed(body)
		if err != nil {
			b.Fatal(err)
		}
		if es := adaptFeed("https://news.harbour.example/feed.xml", f, adaptOptions{source: "b", textLimit: DefaultTextLimit}, fetchTime); len(es) != 6 {
			b.Fatal(len(es))
		}
	}
}
