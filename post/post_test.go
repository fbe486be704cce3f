package post

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNormalize(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		in      Post
		wantErr string
		check   func(t *testing.T, p Post)
	}{
		{
			name: "defaults",
			in:   Post{ID: "42", Text: "hello"},
			check: func(t *testing.T, p Post) {
				if p.ID != "webhook:42" || p.Network != "webhook" || p.Kind != KindOriginal {
					t.Errorf("got id %q network %q kind %q", p.ID, p.Network, p.Kind)
				}
				if !p.FetchedAt.Equal(now) || !p.CreatedAt.Equal(now) {
					t.Errorf("times not defaulted: %v %v", p.FetchedAt, p.CreatedAt)
				}
			},
		},
		{
			name: "network prefix kept",
			in:   Post{ID: "mastodon:1", Network: "Mastodon", Text: "x"},
			check: func(t *testing.T, p Post) {
				if p.ID != "mastodon:1" || p.Network != "mastodon" {
					t.Errorf("got %q %q", p.ID, p.Network)
				}
			},
		},
		{name: "missing id", in: Post{Text: "x"}, wantErr: "id is required"},
		{name: "missing text", in: Post{ID: "1", Text: "  "}, wantErr: "text is required"},
		{name: "only unsafe media", in: Post{ID: "1", Media: []Media{{URL: "javascript:alert(1)"}}}, wantErr: "text is required"},
		{
			name: "takedown needs no text",
			in:   Takedown("mastodon", "109", "m", now),
			check: func(t *testing.T, p Post) {
				if p.ID != "mastodon:109" || !p.Deleted {
					t.Errorf("takedown %+v", p)
				}
			},
		},
		{name: "bad network", in: Post{ID: "1", Text: "x", Network: "a.b"}, wantErr: "network"},
		{name: "bad kind", in: Post{ID: "1", Text: "x", Kind: "story"}, wantErr: "kind"},
		{
			name: "unsafe urls dropped",
			in: Post{ID: "1", Text: "x", URL: "javascript:alert(1)",
				Author: Author{AvatarURL: "data:text/html,<script>", ProfileURL: "//evil.example/"},
				Links:  []Link{{URL: "JavaScript:alert(1)"}, {URL: "https://ok.example/a"}},
				Media:  []Media{{URL: "vbscript:x"}, {URL: "/demo/media/1.svg", Kind: "weird"}},
			},
			check: func(t *testing.T, p Post) {
				if p.URL != "" || p.Author.AvatarURL != "" || p.Author.ProfileURL != "" {
					t.Errorf("unsafe urls kept: %+v", p)
				}
				if len(p.Links) != 1 || p.Links[0].URL != "https://ok.example/a" {
					t.Errorf("links: %+v", p.Links)
				}
				if len(p.Media) != 1 || p.Media[0].Kind != MediaImage {
					t.Errorf("media: %+v", p.Media)
				}
			},
		},
		{
			name: "control and bidi characters removed, emoji kept",
			in:   Post{ID: "1", Text: "a\x00b\u202Ec\r\nd 👩‍👩‍👧", Author: Author{Name: "Eve\nAdmin"}},
			check: func(t *testing.T, p Post) {
				if p.Text != "abc\nd 👩‍👩‍👧" {
					t.Errorf("text %q", p.Text)
				}
				if p.Author.Name != "Eve Admin" {
					t.Errorf("name %q", p.Author.Name)
				}
			},
		},
		{
			name: "overlong text cut",
			in:   Post{ID: "1", Text: strings.Repeat("é", MaxTextRunes+10)},
			check: func(t *testing.T, p Post) {
				if got := len([]rune(p.Text)); got != MaxTextRunes {
					t.Errorf("text has %d runes", got)
				}
			},
		},
		{
			name: "link span past cut text dropped",
			in: Post{ID: "1", Text: strings.Repeat("a", MaxTextRunes+10),
				Links: []Link{{URL: "https://a.example", Start: 2, End: 5}, {URL: "https://b.example", Start: MaxTextRunes, End: MaxTextRunes + 5}}},
			check: func(t *testing.T, p Post) {
				if p.Links[0].End != 5 || p.Links[1].Start != 0 || p.Links[1].End != 0 || p.Links[1].URL == "" {
					t.Errorf("links %+v", p.Links)
				}
			},
		},
		{
			name: "sigils stripped from entities",
			in:   Post{ID: "1", Text: "x", Hashtags: []string{"#Go", "", "Chorus"}, Mentions: []string{"@ann"}},
			check: func(t *testing.T, p Post) {
				if strings.Join(p.Hashtags, ",") != "Go,Chorus" || p.Mentions[0] != "ann" {
					t.Errorf("entities %v %v", p.Hashtags, p.Mentions)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.in
			err := p.Normalize("webhook", now)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, p)
		})
	}
}

func TestSafeURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://a.example/x":    "https://a.example/x",
		"HTTP://a.example":       "HTTP://a.example",
		"/demo/media/1.svg":      "/demo/media/1.svg",
		"//evil.example":         "",
		"/\\evil.example":        "",
		"javascript:alert(1)":    "",
		" javascript:alert(1)":   "",
		"java\tscript:alert(1)":  "",
		"https://u:p@a.example/": "",
		"ftp://a.example/":       "",
		"mailto:a@b.example":     "",
		"":                       "",
	} {
		if got := SafeURL(in); got != want {
			t.Errorf("SafeURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDropped holds Dropped to what Normalize does to a post's text, since
// adapters compute link spans by it.
func TestDropped(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		r       rune
		dropped bool
	}{
		{name: "letter", r: 'x'},
		{name: "newline", r: '\n'},
		{name: "tab", r: '\t'},
		{name: "zero-width joiner", r: '\u200D'},
		{name: "nul", r: 0, dropped: true},
		{name: "escape", r: 0x1B, dropped: true},
		{name: "delete", r: 0x7F, dropped: true},
		{name: "C1 control", r: 0x85, dropped: true},
		{name: "right-to-left override", r: '\u202E', dropped: true},
		{name: "first isolate", r: '\u2068', dropped: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Dropped(tt.r); got != tt.dropped {
				t.Fatalf("Dropped(%U) = %v, want %v", tt.r, got, tt.dropped)
			}
			p := Post{ID: "1", Text: "a" + string(tt.r) + "b"}
			if err := p.Normalize("webhook", now); err != nil {
				t.Fatal(err)
			}
			if removed := p.Text == "ab"; removed != tt.dropped {
				t.Errorf("Normalize left %q; Dropped(%U) = %v", p.Text, tt.r, tt.dropped)
			}
		})
	}
}

func TestCleanText(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "plain", in: "a b\tc\nd", want: "a b\tc\nd"},
		{name: "line ends", in: "a\r\nb\rc", want: "a\nb\nc"},
		{name: "controls and bidi", in: "a\x00b\u202Ec\u2066d", want: "abcd"},
		{name: "invalid UTF-8", in: "a\xffb", want: "a\uFFFDb"},
		{name: "emoji joiner kept", in: "👩\u200D💻", want: "👩\u200D💻"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CleanText(tt.in); got != tt.want {
				t.Fatalf("CleanText(%q) = %q, want %q", tt.in, got, tt.want)
			}
			p := Post{ID: "1", Text: tt.in}
			if err := p.Normalize("webhook", now); err != nil {
				t.Fatal(err)
			}
			if p.Text != tt.want {
				t.Errorf("Normalize left %q, CleanText %q", p.Text, tt.want)
			}
		})
	}
}
