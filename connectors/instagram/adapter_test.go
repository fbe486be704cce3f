package instagram

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

func adaptFixture(t *testing.T, name string) (map[string]post.Post, []error) {
	t.Helper()
	var list graph.List
	if err := json.Unmarshal(sourcetest.Testdata(t, name), &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]post.Post{}
	var errs []error
	for _, raw := range list.Data {
		w, created, err := ParseMedia(raw)
		if err == nil {
			var p post.Post
			if p, err = AdaptMedia(w, created, "ig", fixedNow); err == nil {
				out[strings.TrimPrefix(p.ID, "instagram:")] = p
				continue
			}
		}
		errs = append(errs, err)
	}
	return out, errs
}

func TestAdaptMedia(t *testing.T) {
	posts, errs := adaptFixture(t, "recent_media_page1.json")
	more, errs2 := adaptFixture(t, "recent_media_page2.json")
	for k, v := range more {
		posts[k] = v
	}
	errs = append(errs, errs2...)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "18333300011122233") || !strings.Contains(errs[0].Error(), "timestamp") {
		t.Fatalf("want only the media without a timestamp refused, got %v", errs)
	}
	tests := []struct {
		name  string
		id    string
		check func(t *testing.T, p post.Post)
	}{
		{
			name: "carousel: image, video with thumbnail, copyrighted video skipped; emoji, hashtags, mentions",
			id:   "18047713480916622",
			check: func(t *testing.T, p post.Post) {
				if len(p.Media) != 2 || p.Media[0].Kind != post.MediaImage || p.Media[1].Kind != post.MediaVideo ||
					!strings.HasSuffix(strings.Split(p.Media[1].URL, "?")[0], ".mp4") || !strings.Contains(p.Media[1].PreviewURL, "cdninstagram.com") {
					t.Errorf("media %+v", p.Media)
				}
				if !slices.Equal(p.Hashtags, []string{"ChorusLive", "Summit26", "livemusic"}) || !slices.Equal(p.Mentions, []string{"aurora.vale", "nadia_b"}) {
					t.Errorf("hashtags %v mentions %v", p.Hashtags, p.Mentions)
				}
				if p.Author != (post.Author{Name: "Instagram"}) {
					t.Errorf("author %+v: hashtag search gives none, none is made up", p.Author)
				}
				if p.AuthorKey() != "" {
					t.Errorf("author key %q", p.AuthorKey())
				}
				if p.Counts != (post.Counts{Likes: 214, Replies: 18}) || p.URL != "https://www.instagram.com/p/DCpXc4oNq1Z/" {
					t.Errorf("counts %+v url %q", p.Counts, p.URL)
				}
				if !p.CreatedAt.Equal(time.Date(2026, 11, 23, 10, 20, 11, 0, time.UTC)) || p.Kind != post.KindOriginal || p.Source != "ig" {
					t.Errorf("created %s kind %s source %s", p.CreatedAt, p.Kind, p.Source)
				}
			},
		},
		{
			name: "right-to-left caption, hidden like count",
			id:   "17952234117862304",
			check: func(t *testing.T, p post.Post) {
				if !strings.HasPrefix(p.Text, "ليلة لا تُنسى في #كورس_لايف 💜") || !slices.Equal(p.Hashtags, []string{"كورس_لايف"}) ||
					!slices.Equal(p.Mentions, []string{"chorus.live"}) {
					t.Errorf("text %q hashtags %v mentions %v", p.Text, p.Hashtags, p.Mentions)
				}
				if p.Counts != (post.Counts{Replies: 4}) || len(p.Media) != 1 {
					t.Errorf("counts %+v media %+v", p.Counts, p.Media)
				}
			},
		},
		{
			name: "video without thumbnail field: the video itself",
			id:   "18260001234077219",
			check: func(t *testing.T, p post.Post) {
				if len(p.Media) != 1 || p.Media[0].Kind != post.MediaVideo || p.Media[0].PreviewURL != "" || !slices.Equal(p.Hashtags, []string{"ChorusLive", "合唱団"}) {
					t.Errorf("media %+v hashtags %v", p.Media, p.Hashtags)
				}
			},
		},
		{
			name: "image without caption",
			id:   "17890455512345678",
			check: func(t *testing.T, p post.Post) {
				if p.Text != "" || len(p.Media) != 1 || p.Hashtags != nil {
					t.Errorf("text %q media %+v", p.Text, p.Media)
				}
			},
		},
		{
			name: "copyrighted video without media_url keeps its caption",
			id:   "18111122233344455",
			check: func(t *testing.T, p post.Post) {
				if len(p.Media) != 0 || !strings.HasPrefix(p.Text, "🎶🎶🎶 #ChorusLive") {
					t.Errorf("text %q media %+v", p.Text, p.Media)
				}
			},
		},
		{
			name: "long Hebrew caption kept whole",
			id:   "17999988877766655",
			check: func(t *testing.T, p post.Post) {
				if n := utf8.RuneCountInString(p.Text); n < 2000 || !strings.HasSuffix(p.Text, "#ChorusLive") || !strings.HasPrefix(p.Text, "שבוע מדהים ב־Chorus Live! 🙌") {
					t.Errorf("text of %d runes: %q...", n, string([]rune(p.Text)[:30]))
				}
			},
		},
		{
			name: "carousel of images, link with span",
			id:   "18055566677788899",
			check: func(t *testing.T, p post.Post) {
				if len(p.Media) != 2 || len(p.Links) != 1 || p.Links[0].URL != "https://chorus.example/t" ||
					string([]rune(p.Text)[p.Links[0].Start:p.Links[0].End]) != "https://chorus.example/t" {
					t.Errorf("media %+v links %+v", p.Media, p.Links)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := posts[tt.id]
			if !ok {
				t.Fatalf("media %s missing", tt.id)
			}
			tt.check(t, p)
		})
	}
}

func TestCaptionSpans(t *testing.T) {
	txt := ParseText("🎉🎉 #Fest with @ana_b 👋 then\u202E #two")
	rs := []rune(txt.Text)
	var got []string
	for _, s := range slices.Concat(txt.Hashtags, txt.Mentions) {
		got = append(got, string(rs[s.Start:s.End]))
	}
	if !slices.Equal(got, []string{"#Fest", "#two", "@ana_b"}) {
		t.Errorf("spans cover %q", got)
	}
	if txt.Hashtags[0].Start != 3 {
		t.Errorf("code points, not bytes or UTF-16: start %d", txt.Hashtags[0].Start)
	}
}

func TestAdaptRefuses(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{name: "no id", raw: `{"caption":"x","timestamp":"2026-11-23T10:00:00+0000"}`, want: "without id"},
		{name: "bad time", raw: `{"id":"1","caption":"x","timestamp":"tomorrow"}`, want: "timestamp"},
		{name: "not an object", raw: `"x"`, want: "decode"},
		{name: "nothing to show", raw: `{"id":"1","media_type":"VIDEO","timestamp":"2026-11-23T10:00:00+0000"}`, want: "text is required"},
		{name: "unsafe url only", raw: `{"id":"1","media_type":"IMAGE","media_url":"javascript:alert(1)","timestamp":"2026-11-23T10:00:00+0000"}`, want: "text is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, created, err := ParseMedia([]byte(tt.raw))
			if err == nil {
				_, err = AdaptMedia(w, created, "ig", fixedNow)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want %q", err, tt.want)
			}
		})
	}
}

func FuzzAdapter(f *testing.F) {
	for _, name := range []string{"recent_media_page1.json", "recent_media_page2.json"} {
		var list graph.List
		if err := json.Unmarshal(sourcetest.Testdata(f, name), &list); err != nil {
			f.Fatal(err)
		}
		for _, raw := range list.Data {
			f.Add([]byte(raw))
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		w, created, err := ParseMedia(raw)
		if err != nil {
			return
		}
		p, err := AdaptMedia(w, created, "ig", fixedNow)
		if err != nil {
			return
		}
		n := utf8.RuneCountInString(p.Text)
		for _, l := range p.Links {
			if l.Start < 0 || l.End < l.Start || l.End > n {
				t.Fatalf("link span [%d,%d) outside %d runes", l.Start, l.End, n)
			}
		}
		if !strings.HasPrefix(p.ID, "instagram:") || p.Author.Handle != "" {
			t.Fatalf("id %q author %+v", p.ID, p.Author)
		}
	})
}

func BenchmarkAdaptPage(b *testing.B) {
	raw := sourcetest.Testdata(b, "recent_media_page1.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		var list graph.List
		if err := json.Unmarshal(raw, &list); err != nil {
			b.Fatal(err)
		}
		for _, item := range list.Data {
			w, created, err := ParseMedia(item)
			if err != nil {
				continue
			}
			if _, err := AdaptMedia(w, created, "ig", fixedNow); err != nil {
				b.Fatal(err)
			}
		}
	}
}
