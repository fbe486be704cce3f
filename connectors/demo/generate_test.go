package demo

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/chorus-wall/chorus/post"
)

var testNow = time.Date(2026, 6, 12, 19, 30, 0, 0, time.UTC)

func TestGeneratorIsDeterministic(t *testing.T) {
	tests := []struct {
		name string
		gen  Generator
		seq  int64
	}{
		{name: "first post", gen: Generator{SourceID: "demo", Seed: 1, SpamShare: 0.08, OffensiveShare: 0.08}, seq: 0},
		{name: "later post", gen: Generator{SourceID: "demo", Seed: 1, SpamShare: 0.08, OffensiveShare: 0.08}, seq: 123456},
		{name: "other seed", gen: Generator{SourceID: "wall", Seed: -99, SpamShare: 0.5, OffensiveShare: 0.5}, seq: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := tt.gen.Post(tt.seq, testNow), tt.gen.Post(tt.seq, testNow)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("same seed and seq gave different posts:\n%+v\n%+v", a, b)
			}
		})
	}
	// Different seeds give different streams.
	g1, g2 := Generator{SourceID: "demo", Seed: 1}, Generator{SourceID: "demo", Seed: 2}
	same := 0
	for seq := range int64(50) {
		if g1.Post(seq, testNow).Text == g2.Post(seq, testNow).Text {
			same++
		}
	}
	if same > 10 {
		t.Errorf("seeds 1 and 2 agree on %d of 50 texts", same)
	}
}

// TestPostsSurviveNormalize checks that every post is already normal: ids,
// URLs, entities and times come through Normalize unchanged.
func TestPostsSurviveNormalize(t *testing.T) {
	g := Generator{SourceID: "demo", Seed: 1, SpamShare: 0.08, OffensiveShare: 0.08}
	for seq := range int64(2000) {
		p := g.Post(seq, testNow)
		q := p
		if err := q.Normalize("demo", testNow); err != nil {
			t.Fatalf("post %d: %v", seq, err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("post %d changed by Normalize:\nbefore %+v\nafter  %+v", seq, p, q)
		}
		checkPost(t, seq, p)
	}
}

// checkPost checks the promises a generated post keeps.
func checkPost(t *testing.T, seq int64, p post.Post) {
	t.Helper()
	if want := p.Network + ":demo-demo-" + strconv.FormatInt(seq, 10); p.ID != want {
		t.Errorf("post %d: id %q, want %q", seq, p.ID, want)
	}
	if p.Source != "demo" || p.Lang == "" || p.Author.Name == "" || p.Author.Handle == "" {
		t.Errorf("post %d: missing source, lang or author: %+v", seq, p)
	}
	if !p.FetchedAt.Equal(testNow) || p.CreatedAt.After(testNow) || testNow.Sub(p.CreatedAt) > time.Minute {
		t.Errorf("post %d: created %v fetched %v, want shortly before %v", seq, p.CreatedAt, p.FetchedAt, testNow)
	}
	for _, u := range []string{p.URL, p.Author.ProfileURL} {
		if !isExampleURL(u) {
			t.Errorf("post %d: URL %q is not https on .example", seq, u)
		}
	}
	if !strings.HasPrefix(p.Author.AvatarURL, "/demo/media/avatar/") {
		t.Errorf("post %d: avatar %q", seq, p.Author.AvatarURL)
	}
	runes := []rune(p.Text)
	for _, l := range p.Links {
		if !isExampleURL(l.URL) {
			t.Errorf("post %d: link %q is not https on .example", seq, l.URL)
		}
		if l.Start < 0 || l.End > len(runes) || string(runes[l.Start:l.End]) != l.URL {
			t.Errorf("post %d: link %q has span [%d,%d) that does not cover it in %q", seq, l.URL, l.Start, l.End, p.Text)
		}
	}
	for _, h := range p.Hashtags {
		if !containsWord(p.Text, "#"+h) {
			t.Errorf("post %d: hashtag %q not in text %q", seq, h, p.Text)
		}
	}
	for _, m := range p.Mentions {
		if !containsWord(p.Text, "@"+m) {
			t.Errorf("post %d: mention %q not in text %q", seq, m, p.Text)
		}
	}
	for _, m := range p.Media {
		if !strings.HasPrefix(m.URL, "/demo/media/photo/") || m.Alt == "" || m.Width == 0 || m.Height == 0 || m.Kind != post.MediaImage {
			t.Errorf("post %d: media %+v", seq, m)
		}
	}
	if p.Sensitive != (p.ContentWarning != "") {
		t.Errorf("post %d: sensitive %v with warning %q", seq, p.Sensitive, p.ContentWarning)
	}
	if strings.TrimSpace(p.Text) != p.Text {
		t.Errorf("post %d: text has white space at an end: %q", seq, p.Text)
	}
}

// containsWord reports whether s holds w followed by a space, the end or
// punctuation (so "#Live" is not found in "#LiveMusic").
func containsWord(s, w string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		end := i + j + len(w)
		r, _ := utf8.DecodeRuneInString(s[end:])
		if end == len(s) || !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '@' || r == '.' && end+1 < len(s) && s[end+1] != ' ') {
			return true
		}
		i = end
	}
}

func isExampleURL(u string) bool {
	rest, ok := strings.CutPrefix(u, "https://")
	host, _, _ := strings.Cut(rest, "/")
	return ok && strings.HasSuffix(host, ".example")
}

// words splits s the way the curation word filter does: lowercase runs of
// letters, digits and marks; everything else separates.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r))
	})
}

// blockedIn returns the first BlockedWords entry found as whole words in s.
func blockedIn(s string) (string, bool) {
	toks := words(s)
	for _, b := range BlockedWords {
		phrase := words(b)
		for i := 0; i+len(phrase) <= len(toks); i++ {
			if reflect.DeepEqual(toks[i:i+len(phrase)], phrase) {
				return b, true
			}
		}
	}
	return "", false
}

// blockedPost looks where the demo stream's filter looks.
func blockedPost(p post.Post) (string, bool) {
	for _, s := range append([]string{p.Text, p.Author.Name, p.Author.Handle, p.ContentWarning}, p.Hashtags...) {
		if w, ok := blockedIn(s); ok {
			return w, true
		}
	}
	return "", false
}

func TestStreamMix(t *testing.T) {
	tests := []struct {
		name            string
		spam, offensive float64
	}{
		{name: "defaults", spam: 0.08, offensive: 0.08},
		{name: "clean", spam: 0, offensive: 0},
		{name: "rough", spam: 0.3, offensive: 0.5},
	}
	const n = 2000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := Generator{SourceID: "demo", Seed: 1, SpamShare: tt.spam, OffensiveShare: tt.offensive}
			count := map[string]int{}
			nets, langs := map[string]int{}, map[string]int{}
			for seq := range int64(n) {
				p, c := g.generate(seq, testNow)
				nets[p.Network]++
				langs[p.Lang]++
				count["kind "+string(p.Kind)]++
				if len(p.Media) > 0 {
					count["media"]++
				}
				if p.Sensitive {
					count["sensitive"]++
				}
				if len(p.Links) > 0 {
					count["links"]++
				}
				if len(p.Mentions) > 0 {
					count["mentions"]++
				}
				if utf8.RuneCountInString(p.Text) > 250 {
					count["long"]++
				}
				if strings.ContainsRune(p.Text, '\u200d') {
					count["zwj"]++
				}
				w, blocked := blockedPost(p)
				if filtered := p.Author.Followers < MinFollowers; filtered != (c != classNormal) {
					t.Errorf("post %d (class %d) by %q has %d followers: MinFollowers (%d) should pass normal posts only",
						seq, c, p.Author.Handle, p.Author.Followers, MinFollowers)
				}
				switch c {
				case classNormal:
					count["normal"]++
					if blocked {
						t.Errorf("normal post %d holds blocked %q: %q by %q (%s)", seq, w, p.Text, p.Author.Name, p.Author.Handle)
					}
				case classSpam:
					count["spam"]++
					if blocked {
						count["spam blocked"]++
					}
				case classOffensive:
					count["offensive"]++
					if !blocked {
						t.Errorf("offensive post %d holds no blocked word: %q by %q (%s)", seq, p.Text, p.Author.Name, p.Author.Handle)
					}
					if _, inText := blockedIn(p.Text); !inText {
						count["offensive by name only"]++
					}
				}
			}
			share := func(k string) float64 { return float64(count[k]) / n }
			if d := share("spam") - tt.spam; d < -0.03 || d > 0.03 {
				t.Errorf("spam share %.3f, want about %.2f", share("spam"), tt.spam)
			}
			if d := share("offensive") - tt.offensive; d < -0.03 || d > 0.03 {
				t.Errorf("offensive share %.3f, want about %.2f", share("offensive"), tt.offensive)
			}
			if tt.spam > 0 && (count["spam blocked"] == 0 || count["spam blocked"] == count["spam"]) {
				t.Errorf("%d of %d spam posts hold a blocked word; want some but not all", count["spam blocked"], count["spam"])
			}
			if tt.offensive > 0 && count["offensive by name only"] == 0 {
				t.Error("no offensive post carries its blocked word only in the author's name or handle")
			}
			if tt.spam+tt.offensive > 0.5 {
				return
			}
			if len(nets) != len(networks) {
				t.Errorf("networks %v, want all of %v", nets, networks)
			}
			for _, l := range languages {
				if langs[l] < 10 {
					t.Errorf("only %d posts in %q (%v)", langs[l], l, langs)
				}
			}
			if m := share("media"); m < 0.25 || m > 0.45 {
				t.Errorf("media share %.2f, want about a third", m)
			}
			for _, k := range []string{"kind reply", "kind repost", "kind quote", "sensitive", "links", "mentions", "long", "zwj"} {
				if count[k] < 20 {
					t.Errorf("only %d posts with %s (%v)", count[k], k, count)
				}
			}
		})
	}
}

// TestBanksAreComplete guards the phrase banks: every language has lines
// for every topic, reactions, warnings and tags.
func TestBanksAreComplete(t *testing.T) {
	for _, l := range languages {
		b, ok := banks[l]
		if !ok {
			t.Fatalf("no bank for %q", l)
		}
		for tp, lines := range b.lines {
			if len(lines) == 0 {
				t.Errorf("%s: no lines for topic %d", l, tp)
			}
		}
		if len(b.reactions) == 0 || len(b.warnings) == 0 || len(b.tags) == 0 {
			t.Errorf("%s: missing reactions, warnings or tags", l)
		}
	}
	if len(banks) != len(languages) {
		t.Errorf("%d banks for %d languages", len(banks), len(languages))
	}
	for _, s := range spamLines {
		if _, ok := blockedIn(s.text); ok != s.blocked {
			t.Errorf("spam line %q: blocked %v, marked %v", s.text, ok, s.blocked)
		}
	}
	for _, in := range insults {
		if _, ok := blockedIn(in.text); !ok {
			t.Errorf("insult %q holds no blocked word", in.text)
		}
	}
	for _, p := range cast {
		rude := false
		for _, net := range networks {
			_, inName := blockedIn(p.name)
			_, inHandle := blockedIn(handle(&p, net))
			rude = rude || inName || inHandle
			if p.rude && !inName && !inHandle {
				t.Errorf("%s on %s: marked rude but neither name nor handle %q holds a blocked word", p.key, net, handle(&p, net))
			}
		}
		if rude && !p.rude {
			t.Errorf("%s: name or handle holds a blocked word but not marked rude", p.key)
		}
	}
}

// A crowd for load tests: fans spread over the audience, some posts without
// a language, everything else as without those settings.
func TestAudienceAndUnlabelled(t *testing.T) {
	plain := Generator{SourceID: "demo", Seed: 1, SpamShare: 0.04, OffensiveShare: 0.04}
	crowd := plain
	crowd.Audience, crowd.UnlabelledShare = 100000, 0.4
	handles := map[string]bool{}
	unlabelled, n := 0, 4000
	for seq := range int64(n) {
		p, q := plain.Post(seq, testNow), crowd.Post(seq, testNow)
		if p.Text != q.Text || p.Network != q.Network || p.ID != q.ID {
			t.Fatalf("post %d: the audience changed more than the author:\n%+v\n%+v", seq, p, q)
		}
		if r := q; r.Normalize("demo", testNow) != nil || !reflect.DeepEqual(r, q) {
			t.Fatalf("post %d is not normal: %+v", seq, q)
		}
		_, c := crowd.generate(seq, testNow)
		if c != classNormal && q.Author.Handle != p.Author.Handle {
			t.Errorf("post %d: spam or troll handle %q changed to %q", seq, p.Author.Handle, q.Author.Handle)
		}
		handles[q.AuthorKey()] = true
		if q.Lang == "" {
			unlabelled++
		} else if q.Lang != p.Lang {
			t.Errorf("post %d: lang %q, want %q or none", seq, q.Lang, p.Lang)
		}
	}
	if len(handles) < n/2 {
		t.Errorf("%d authors for %d posts: the audience did not spread them", len(handles), n)
	}
	if share := float64(unlabelled) / float64(n); share < 0.35 || share > 0.45 {
		t.Errorf("%.2f of posts without a language, want about 0.4", share)
	}
}
