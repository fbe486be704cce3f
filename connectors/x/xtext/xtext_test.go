package xtext

import (
	"reflect"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/post"
)

func TestRender(t *testing.T) {
	tco := "https://t.co/AbC123xYz"
	link := Entity{Kind: URL, Text: tco, Display: "chorus.example/live…", Target: "https://chorus.example/live?day=2"}
	at := func(e Entity, start int) Entity {
		e.Start, e.End = start, start+len([]rune(e.Text))
		return e
	}
	tag := func(text string, start int) Entity {
		return Entity{Kind: Hashtag, Text: text, Start: start, End: start + 1 + len([]rune(text))}
	}
	mention := func(text string, start int) Entity {
		return Entity{Kind: Mention, Text: text, Start: start, End: start + 1 + len([]rune(text))}
	}
	media := Entity{Kind: Media, Text: "https://t.co/Pic987", Display: "pic.x.com/Pic987", Target: "https://x.com/ana/status/1/photo/1"}
	tests := []struct {
		name     string
		text     string
		ents     []Entity
		display  *Range
		want     string
		wantLink []post.Link
	}{
		{
			name:     "link replaced by its display text",
			text:     "Doors open " + tco + " #Summit26",
			ents:     []Entity{at(link, 11), tag("Summit26", 34)},
			want:     "Doors open chorus.example/live… #Summit26",
			wantLink: []post.Link{{URL: "https://chorus.example/live?day=2", Start: 11, End: 31}},
		},
		{
			name:     "escaped text with offsets on the escaped text",
			text:     "Q&amp;A &lt;3 " + tco + " @ana",
			ents:     []Entity{at(link, 14), mention("ana", 37)},
			want:     "Q&A <3 chorus.example/live… @ana",
			wantLink: []post.Link{{URL: "https://chorus.example/live?day=2", Start: 7, End: 27}},
		},
		{
			name:     "escaped text with offsets on the unescaped text",
			text:     "Q&amp;A &lt;3 " + tco + " @ana",
			ents:     []Entity{at(link, 7), mention("ana", 30)},
			want:     "Q&A <3 chorus.example/live… @ana",
			wantLink: []post.Link{{URL: "https://chorus.example/live?day=2", Start: 7, End: 27}},
		},
		{
			name: "emoji count as one code point each",
			text: "🎉👩🏽‍💻 " + tco,
			// 🎉 is 1 code point, 👩🏽‍💻 is 4 (woman, skin tone, ZWJ, laptop).
			ents:     []Entity{at(link, 6)},
			want:     "🎉👩🏽‍💻 chorus.example/live…",
			wantLink: []post.Link{{URL: "https://chorus.example/live?day=2", Start: 6, End: 26}},
		},
		{
			name:     "arabic with a hashtag and a link",
			text:     "مرحبا بالجميع #كورس_لايف " + tco,
			ents:     []Entity{tag("كورس_لايف", 14), at(link, 25)},
			want:     "مرحبا بالجميع #كورس_لايف chorus.example/live…",
			wantLink: []post.Link{{URL: "https://chorus.example/live?day=2", Start: 25, End: 45}},
		},
		{
			name:    "reply mentions and trailing media outside the display range",
			text:    "@ana @noa שלום לכולם " + media.Text,
			ents:    []Entity{mention("ana", 0), mention("noa", 5), at(media, 21)},
			display: &Range{Start: 10, End: 20},
			want:    "שלום לכולם",
		},
		{
			name: "media link removed inside the text",
			text: "Look " + media.Text + " at this",
			ents: []Entity{at(media, 5)},
			want: "Look at this",
		},
		{
			name:     "offsets out of range fall back to searching",
			text:     "see " + tco,
			ents:     []Entity{{Kind: URL, Text: tco, Display: "chorus.example/live…", Target: link.Target, Start: -4, End: 900}},
			want:     "see chorus.example/live…",
			wantLink: []post.Link{{URL: link.Target, Start: 4, End: 24}},
		},
		{
			name:     "a link not in the text keeps no span",
			text:     "no link here",
			ents:     []Entity{at(link, 3)},
			want:     "no link here",
			wantLink: []post.Link{{URL: link.Target}},
		},
		{
			name: "duplicate media entities at the same offsets",
			text: "two photos " + media.Text,
			ents: []Entity{at(media, 11), at(media, 11)},
			want: "two photos",
		},
		{
			name: "searched tag must end at a word boundary",
			text: "#tagline and #tag",
			ents: []Entity{{Kind: Hashtag, Text: "tag", Start: 40, End: 44}},
			want: "#tagline and #tag",
		},
		{
			name: "full-width sigil and other case",
			text: "＃Summit26 rocks",
			ents: []Entity{tag("summit26", 0)},
			want: "＃Summit26 rocks",
		},
		{
			name:     "leading white space trimmed with the spans",
			text:     "  " + tco + "  ",
			ents:     []Entity{at(link, 2)},
			want:     "chorus.example/live…",
			wantLink: []post.Link{{URL: link.Target, Start: 0, End: 20}},
		},
		{
			name: "nothing",
			text: "",
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, links := Render(tt.text, tt.ents, tt.display)
			if got != tt.want {
				t.Fatalf("text %q, want %q", got, tt.want)
			}
			if !reflect.DeepEqual(links, tt.wantLink) {
				t.Fatalf("links %+v, want %+v", links, tt.wantLink)
			}
			checkSpans(t, got, links)
		})
	}
}

// checkSpans asserts that every link span lies inside text.
func checkSpans(t *testing.T, text string, links []post.Link) {
	t.Helper()
	n := len([]rune(text))
	for _, l := range links {
		if l.Start < 0 || l.End < l.Start || l.End > n {
			t.Fatalf("link %+v out of text of %d code points", l, n)
		}
	}
}

func TestPrefix(t *testing.T) {
	text, links := Prefix("🔁 @ana", "hi chorus.example", []post.Link{{URL: "https://chorus.example", Start: 3, End: 17}, {URL: "https://x.example"}})
	if text != "🔁 @ana\nhi chorus.example" {
		t.Fatalf("text %q", text)
	}
	if r := []rune(text); string(r[links[0].Start:links[0].End]) != "chorus.example" || links[1].End != 0 {
		t.Fatalf("links %+v", links)
	}
	if text, _ := Prefix("🔁 @ana", "", nil); text != "🔁 @ana" {
		t.Fatalf("empty text: %q", text)
	}
}

func TestHelpers(t *testing.T) {
	for _, tt := range []struct{ name, got, want string }{
		{"lang und", Lang("und"), ""},
		{"lang qme", Lang("qme"), ""},
		{"lang ar", Lang("ar"), "ar"},
		{"lang zh-cn", Lang("zh-cn"), "zh-cn"},
		{"avatar", Avatar("https://pbs.twimg.com/profile_images/1/ana_normal.jpg"), "https://pbs.twimg.com/profile_images/1/ana_400x400.jpg"},
		{"avatar other", Avatar("https://pbs.twimg.com/profile_images/1/ana.jpg"), "https://pbs.twimg.com/profile_images/1/ana.jpg"},
		{"post url", PostURL("ana", "12"), "https://x.com/ana/status/12"},
		{"post url without handle", PostURL("", "12"), "https://x.com/i/web/status/12"},
		{"profile", ProfileURL("ana"), "https://x.com/ana"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	for id, want := range map[string]bool{"1": true, "18593456789012345678": true, "": false, "12a": false, "123456789012345678901": false, "-1": false, "012": false, "0": true} {
		if IsID(id) != want {
			t.Errorf("IsID(%q) = %v", id, !want)
		}
	}
	words := Words([]Entity{{Kind: Hashtag, Text: "Summit26"}, {Kind: Hashtag, Text: "summit26"}, {Kind: Mention, Text: "ana"}, {Kind: Hashtag, Text: "Live"}}, Hashtag)
	if !reflect.DeepEqual(words, []string{"Summit26", "Live"}) {
		t.Fatalf("words %v", words)
	}
}

func FuzzRender(f *testing.F) {
	f.Add("Q&amp;A &lt;3 https://t.co/x #tag @ana", 7, 21, 0, 3, 1, 30)
	f.Add("🎉👩🏽‍💻 https://t.co/x", 6, 19, 0, 1, 0, 100)
	f.Add("@a שלום https://t.co/p", 0, 2, 8, 22, 3, 7)
	f.Fuzz(func(t *testing.T, text string, s1, e1, s2, e2, ds, de int) {
		ents := []Entity{
			{Kind: URL, Text: "https://t.co/x", Display: "x.example/…", Target: "https://x.example/", Start: s1, End: e1},
			{Kind: Hashtag, Text: "tag", Start: s2, End: e2},
			{Kind: Media, Text: "https://t.co/p", Start: s2, End: e1},
			{Kind: Mention, Text: "a", Start: s1, End: e2},
		}
		got, links := Render(text, ents, &Range{Start: ds, End: de})
		checkSpans(t, got, links)
		got, links = Render(text, ents, nil)
		checkSpans(t, got, links)
	})
}

func TestRenderDropsWhatNormalizeDrops(t *testing.T) {
	text := "a\u202Eb\r\nc\x00 https://t.co/x"
	got, links := Render(text, []Entity{{Kind: URL, Text: "https://t.co/x", Display: "x.example", Target: "https://x.example/", Start: 9, End: 23}}, nil)
	p := post.Post{ID: "1", Text: got, Links: links}
	if err := p.Normalize("x", time.Now()); err != nil {
		t.Fatal(err)
	}
	if p.Text != got || string([]rune(p.Text)[p.Links[0].Start:p.Links[0].End]) != "x.example" {
		t.Fatalf("%q %q %+v", got, p.Text, p.Links)
	}
}

func TestFitLinks(t *testing.T) {
	p := post.Post{Text: "short", Links: []post.Link{{URL: "https://a.example/", Start: 1, End: 3}, {URL: "https://b.example/", Start: 4, End: 9}, {URL: "https://c.example/"}}}
	FitLinks(&p)
	if p.Links[0].End != 3 || p.Links[1].End != 0 || p.Links[1].Start != 0 {
		t.Fatalf("%+v", p.Links)
	}
}

func TestLinksTo(t *testing.T) {
	links := []post.Link{{URL: "https://example.com/a"}, {URL: "https://x.com/ann/status/42"}}
	tests := []struct {
		name string
		id   string
		want bool
	}{
		{name: "linked", id: "42", want: true},
		{name: "not linked", id: "43"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LinksTo(links, tt.id); got != tt.want {
				t.Errorf("LinksTo(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}
