package reddit

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chorus-wall/chorus/connectors/wirejson"
	"github.com/chorus-wall/chorus/post"
)

var fetchTime = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// fixtureLinks parses every child of a listing fixture; a child that does
// not parse is nil.
func fixtureLinks(t testing.TB, name string) []*Link {
	t.Helper()
	var out []*Link
	for _, c := range fixtureChildren(t, name) {
		l, err := parseListing([]byte(`{"kind":"Listing","data":{"children":[` + string(c) + `]}}`))
		if err != nil {
			t.Fatal(err)
		}
		link, err := parseLink(l.Data.Children[0])
		if err != nil {
			out = append(out, nil)
			continue
		}
		out = append(out, link)
	}
	return out
}

func spanText(p post.Post, l post.Link) string {
	r := []rune(p.Text)
	if l.Start < 0 || l.End > len(r) || l.Start > l.End {
		return "<bad span>"
	}
	return string(r[l.Start:l.End])
}

func TestAdaptFixtures(t *testing.T) {
	links := fixtureLinks(t, "new.json")
	if len(links) != 9 {
		t.Fatalf("%d children", len(links))
	}
	repost := *links[4]
	repost.Title = repost.CrosspostParentList[0].Title
	tests := []struct {
		name    string
		link    *Link
		wantErr string
		check   func(t *testing.T, p post.Post)
	}{
		{name: "self post: markdown to text, entities, emoji, mention, hashtag, link span, counts", link: links[0], check: func(t *testing.T, p post.Post) {
			want := "Lost & found: who owns this 🎸 guitar?\n\nFound near gate B after the Harbour choir set & nobody claimed it yet.\n\nBlack case, \"HF26\" sticker\n\nDetails:\n\n• ask u/pier_steward at the info tent\n• or see the lost & found page\n\nThanks all! #HarbourFest26 🙏"
			if p.Text != want {
				t.Errorf("text %q\nwant %q", p.Text, want)
			}
			if len(p.Links) != 1 || p.Links[0].URL != "https://harbour.example/lost?tag=a&b=c" || spanText(p, p.Links[0]) != "the lost & found page" {
				t.Errorf("links %+v", p.Links)
			}
			if !slices.Equal(p.Hashtags, []string{"HarbourFest26"}) || !slices.Equal(p.Mentions, []string{"pier_steward"}) {
				t.Errorf("hashtags %v mentions %v", p.Hashtags, p.Mentions)
			}
			if p.ID != "reddit:1h8selfa" || p.URL != "https://www.reddit.com/r/HarbourFest/comments/1h8selfa/lost_and_found:_who_owns/" {
				t.Errorf("id %q url %q", p.ID, p.URL)
			}
			if p.Author != (post.Author{ID: "t2_ana_so", Handle: "ana_souza", Name: "ana_souza", ProfileURL: "https://www.reddit.com/user/ana_souza"}) {
				t.Errorf("author %+v", p.Author)
			}
			if p.Counts != (post.Counts{Likes: 57, Replies: 12}) || p.Kind != post.KindOriginal || p.Sensitive {
				t.Errorf("counts %+v kind %q", p.Counts, p.Kind)
			}
			if !p.CreatedAt.Equal(time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)) || !p.FetchedAt.Equal(fetchTime) || p.Source != "fest" {
				t.Errorf("created %v fetched %v source %q", p.CreatedAt, p.FetchedAt, p.Source)
			}
		}},
		{name: "right to left title and body", link: links[1], check: func(t *testing.T, p post.Post) {
			if p.Text != "שלום מהנמל — مرحبا من الميناء\n\nאנחנו כאן ליד הבמה הראשית!\n\nنحن هنا بجانب المسرح الرئيسي 🎶" {
				t.Errorf("text %q", p.Text)
			}
		}},
		{name: "image post, over_18 is sensitive, original upload", link: links[2], check: func(t *testing.T, p post.Post) {
			if !p.Sensitive || p.ContentWarning != "NSFW" {
				t.Errorf("sensitive %v warning %q", p.Sensitive, p.ContentWarning)
			}
			if len(p.Media) != 1 || p.Media[0] != (post.Media{Kind: post.MediaImage, URL: "https://i.redd.it/k2v9xq1h8img.jpeg", Width: 3024, Height: 4032}) {
				t.Errorf("media %+v", p.Media)
			}
			if len(p.Links) != 0 {
				t.Errorf("links %+v: Reddit-hosted media is not a link", p.Links)
			}
		}},
		{name: "gallery in order, escaped URLs, captions, animation, failed item left out", link: links[3], check: func(t *testing.T, p post.Post) {
			want := []post.Media{
				{Kind: post.MediaImage, URL: "https://preview.redd.it/m7qz0a1.jpg?width=2048&format=pjpg&auto=webp&s=bb", Width: 2048, Height: 1365, Alt: "Brass band & crowd"},
				{Kind: post.MediaImage, URL: "https://preview.redd.it/m7qz0b2.png?width=1080&format=png&auto=webp&s=cc", Width: 1080, Height: 1080},
				{Kind: post.MediaGIF, URL: "https://preview.redd.it/m7qz0c3.gif?format=mp4&s=dd", PreviewURL: "https://i.redd.it/m7qz0c3.gif", Width: 640, Height: 480, Alt: "Confetti!"},
			}
			if !slices.Equal(p.Media, want) {
				t.Errorf("media %+v", p.Media)
			}
			if len(p.Links) != 0 {
				t.Errorf("links %+v", p.Links)
			}
		}},
		{name: "crosspost with its own title is a quote of the parent video", link: links[4], check: func(t *testing.T, p post.Post) {
			if p.Kind != post.KindQuote || p.Text != "Look what r/drones made of our harbour!" {
				t.Errorf("kind %q text %q", p.Kind, p.Text)
			}
			if len(p.Media) != 1 || p.Media[0].Kind != post.MediaVideo || p.Media[0].URL != "https://v.redd.it/q8w7e6r5t4/DASH_1080.mp4?source=fallback" ||
				p.Media[0].PreviewURL != "https://external-preview.redd.it/q8w7e6r5t4.png?format=pjpg&auto=webp&s=ee" || p.Media[0].Width != 1920 {
				t.Errorf("media %+v", p.Media)
			}
			if len(p.Links) != 1 || p.Links[0].URL != "https://www.reddit.com/r/drones/comments/1h7vidp/drone_shot_of_the_harbour/" {
				t.Errorf("links %+v", p.Links)
			}
		}},
		{name: "crosspost under the parent's title is a repost", link: &repost, check: func(t *testing.T, p post.Post) {
			if p.Kind != post.KindRepost {
				t.Errorf("kind %q", p.Kind)
			}
		}},
		{name: "malformed child does not parse", link: links[5]},
		{name: "removed post is not adapted", link: links[6], wantErr: "removed"},
		{name: "link post: spoiler, outbound link unescaped, card image, negative score", link: links[7], check: func(t *testing.T, p post.Post) {
			if !p.Sensitive || p.ContentWarning != "Spoiler" {
				t.Errorf("sensitive %v warning %q", p.Sensitive, p.ContentWarning)
			}
			if len(p.Links) != 1 || p.Links[0].URL != "https://setlists.example/harbour-2026?night=3&ref=reddit" || p.Links[0].Title != "setlists.example" {
				t.Errorf("links %+v", p.Links)
			}
			if len(p.Media) != 1 || p.Media[0].URL != "https://external-preview.redd.it/setlist.jpg?auto=webp&s=ff" || p.Media[0].Width != 1200 {
				t.Errorf("media %+v", p.Media)
			}
			if p.Counts.Likes != 0 || p.Counts.Replies != 9 {
				t.Errorf("counts %+v", p.Counts)
			}
		}},
		{name: "long self text kept to the post limit, cut at a word", link: links[8], check: func(t *testing.T, p post.Post) {
			n := utf8.RuneCountInString(p.Text)
			if n > post.MaxTextRunes || n < post.MaxTextRunes*4/5 || !strings.HasSuffix(p.Text, "…") || strings.HasSuffix(p.Text, " …") {
				t.Errorf("%d runes, ends %q", n, p.Text[len(p.Text)-30:])
			}
			if !strings.HasPrefix(p.Text, "Everything you need to know (long read)\n\nParagraph 0: the harbour") {
				t.Errorf("text starts %q", p.Text[:80])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.link == nil {
				if tt.check != nil {
					t.Fatal("fixture did not parse")
				}
				return
			}
			p, err := Adapt(tt.link, "fest", fetchTime)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(p.Text, "&amp;") || strings.Contains(p.Text, "&gt;") || strings.Contains(p.Text, "**") {
				t.Errorf("escapes or markup left: %q", p.Text)
			}
			tt.check(t, p)
		})
	}
}

func TestRemoved(t *testing.T) {
	tests := []struct {
		name string
		link Link
		want bool
	}{
		{name: "live", link: Link{Author: "a", Selftext: "hi"}},
		{name: "removed by moderator", link: Link{Author: "a", RemovedByCategory: wirejson.Strings{"moderator"}}, want: true},
		{name: "deleted by author", link: Link{Author: "[deleted]", Selftext: "[deleted]", RemovedByCategory: wirejson.Strings{"deleted"}}, want: true},
		{name: "removed body only", link: Link{Author: "a", Selftext: "[removed]"}, want: true},
		{name: "link post of a deleted account", link: Link{Author: "[deleted]", URL: "https://x.example"}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Removed(&tt.link); got != tt.want {
				t.Errorf("got %v", got)
			}
		})
	}
}

func TestMarkdownToText(t *testing.T) {
	tests := []struct {
		name, md, want string
		spans          []string
		urls           []string
	}{
		{name: "emphasis and escapes", md: "**bold** _it_ ~~gone~~ \\*stars\\*", want: "bold it gone *stars*"},
		{name: "reddit escaping undone once, typed entities resolved", md: "Q&amp;A &amp;amp; &amp;copy; 1 &lt; 2", want: "Q&A & © 1 < 2"},
		{name: "quote from escaped >", md: "&gt; quoted\n\nreply", want: "quoted\n\nreply"},
		{name: "headings and rules", md: "# Title\nText\n\n---\n\nMore", want: "Title\n\nText\n\nMore"},
		{name: "soft breaks are spaces, hard breaks newlines", md: "one\ntwo  \nthree", want: "one two\nthree"},
		{name: "lists, nested", md: "* a\n* b\n  * c\n\n1. x\n2. y", want: "• a\n• b\n• c\n\n• x\n• y"},
		{name: "code", md: "use `go test`\n\n    indented code\n\n```\nfenced\n  block\n```", want: "use go test\n\nindented code\n\nfenced\n  block"},
		{name: "links with spans and bare URLs", md: "see [the *site*](https://a.example/x?a=1&amp;b=2) or https://b.example/y", want: "see the site or https://b.example/y",
			spans: []string{"the site", "https://b.example/y"}, urls: []string{"https://a.example/x?a=1&b=2", "https://b.example/y"}},
		{name: "raw html stays text", md: "&lt;b&gt;not bold&lt;/b&gt; &lt;script&gt;x()&lt;/script&gt;", want: "<b>not bold</b> <script>x()</script>"},
		{name: "zero width space paragraph dropped", md: "a\n\n&amp;#x200B;\n\nb", want: "a\n\nb"},
		{name: "table", md: "| a | b |\n|---|---|\n| 1 | 2 |", want: "a b\n1 2"},
		{name: "emoji and RTL", md: "שלום 👋🏽 مرحبا", want: "שלום 👋🏽 مرحبا"},
		{name: "empty", md: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, links := markdownToText(tt.md)
			if text != tt.want {
				t.Errorf("got %q, want %q", text, tt.want)
			}
			var spans, urls []string
			for _, l := range links {
				spans = append(spans, spanText(post.Post{Text: text}, l))
				urls = append(urls, l.URL)
			}
			if !slices.Equal(spans, tt.spans) || !slices.Equal(urls, tt.urls) {
				t.Errorf("links %q %q, want %q %q", spans, urls, tt.spans, tt.urls)
			}
		})
	}
}

func TestEntities(t *testing.T) {
	tests := []struct {
		name, text         string
		hashtags, mentions []string
	}{
		{name: "hashtags and mentions", text: "#Fest26 with u/ana_souza and /u/Pier-Steward (#live)", hashtags: []string{"Fest26", "live"}, mentions: []string{"ana_souza", "Pier-Steward"}},
		{name: "not inside words or numbers", text: "issue#4 #1 menu/item user/x u/ab", hashtags: nil, mentions: nil},
		{name: "unicode hashtag, once", text: "#港フェス #港フェス", hashtags: []string{"港フェス"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, m := entities(tt.text)
			if !slices.Equal(h, tt.hashtags) || !slices.Equal(m, tt.mentions) {
				t.Errorf("got %v %v", h, m)
			}
		})
	}
}

func FuzzAdapter(f *testing.F) {
	b, err := os.ReadFile("testdata/new.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	for _, c := range fixtureChildren(f, "new.json") {
		f.Add([]byte(`{"kind":"Listing","data":{"children":[` + string(c) + `]}}`))
	}
	f.Add([]byte(`{"kind":"Listing","data":{"children":[{"kind":"t3","data":{"id":"x","selftext":"[a](b) *[c](https://d.example)*\n\n> &gt; q"}}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		l, err := parseListing(body)
		if err != nil {
			return
		}
		for _, c := range l.Data.Children {
			link, err := parseLink(c)
			if err != nil {
				continue
			}
			p, err := Adapt(link, "f", fetchTime)
			if err != nil {
				continue
			}
			n := utf8.RuneCountInString(p.Text)
			for _, lk := range p.Links {
				if lk.End > n || lk.Start > lk.End {
					t.Fatalf("span %+v beyond text %q", lk, p.Text)
				}
			}
		}
	})
}

func BenchmarkAdaptListing(b *testing.B) {
	body, err := os.ReadFile("testdata/new.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		l, err := parseListing(body)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, c := range l.Data.Children {
			link, err := parseLink(c)
			if err != nil {
				continue
			}
			if _, err := Adapt(link, "b", fetchTime); err == nil {
				n++
			}
		}
		if n != 7 {
			b.Fatal(n)
		}
	}
}

// TestParseLinkOddFields: a post whose side fields come in another JSON
// type is kept; the fields that hide or warn are read on the safe side.
func TestParseLinkOddFields(t *testing.T) {
	var thing struct {
		Kind string         `json:"kind"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(fixtureChildren(t, "new.json")[0], &thing); err != nil {
		t.Fatal(err)
	}
	thing.Data["score"], thing.Data["num_comments"], thing.Data["is_self"] = "12", "many", "yes"
	thing.Data["over_18"] = "true"
	raw, _ := json.Marshal(thing)
	var child Thing
	if err := json.Unmarshal(raw, &child); err != nil {
		t.Fatal(err)
	}
	l, err := parseLink(child)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Adapt(l, "fest", time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	if err != nil || p.ID != "reddit:1h8selfa" || !p.Sensitive || p.Counts.Likes != 0 {
		t.Fatalf("%+v %v", p, err)
	}
	thing.Data["removed_by_category"] = map[string]any{"reason": "rule 3"}
	raw, _ = json.Marshal(thing)
	_ = json.Unmarshal(raw, &child)
	if l, err := parseLink(child); err != nil || !Removed(l) {
		t.Fatalf("an unreadable removed_by_category must count as removed: %v", err)
	}
}
