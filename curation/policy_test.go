package curation

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

func ptr[T any](v T) *T { return &v }

func compile(t *testing.T, s config.Stream) *Policy {
	t.Helper()
	if s.ID == "" {
		s.ID = "s"
	}
	if s.Moderation == "" {
		s.Moderation = config.ModerationAuto
	}
	if err := config.ValidateStream(&s, nil); err != nil {
		t.Fatalf("invalid stream: %v", err)
	}
	pol, err := Compile(s, NewLists(), "streams[0]")
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

func ana(text string) post.Post {
	return post.Post{ID: "x:1", Network: "x", Kind: post.KindOriginal, Text: text, Lang: "en",
		Author: post.Author{Handle: "ana", Name: "Ana", Followers: 500}}
}

func TestFilters(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name   string
		stream config.Stream
		post   func() post.Post
		kind   bus.EventKind
		reason string
	}{
		{"auto approves", config.Stream{}, func() post.Post { return ana("hello") }, bus.EventApprove, "auto"},
		{"manual holds", config.Stream{Moderation: config.ModerationManual}, func() post.Post { return ana("hello") }, bus.EventHold, "manual moderation"},
		{"blocked word", config.Stream{BlockedWords: []string{"idiot"}}, func() post.Post { return ana("you IDIOT!") }, bus.EventReject, `blocked word "idiot" in text`},
		{"blocked word in link text", config.Stream{BlockedWords: []string{"scam"}}, func() post.Post {
			p := ana("look")
			p.Links = []post.Link{{URL: "https://a.example", Title: "Scam deals"}}
			return p
		}, bus.EventReject, `blocked word "scam" in link text`},
		{"blocked hashtag", config.Stream{Filters: config.Filters{BlockedHashtags: []string{"#Spam"}}}, func() post.Post {
			p := ana("hi")
			p.Hashtags = []string{"spam"}
			return p
		}, bus.EventReject, "blocked hashtag #spam"},
		{"blocked author", config.Stream{Filters: config.Filters{BlockedAuthors: []string{"x:@Ana"}}}, func() post.Post { return ana("hi") }, bus.EventReject, "blocked author"},
		{"blocked author on another network passes", config.Stream{Filters: config.Filters{BlockedAuthors: []string{"mastodon:ana"}}}, func() post.Post { return ana("hi") }, bus.EventApprove, "auto"},
		{"trusted author skips manual and filters", config.Stream{Moderation: config.ModerationManual, BlockedWords: []string{"idiot"},
			Filters: config.Filters{TrustedAuthors: []string{"ana"}}}, func() post.Post { return ana("idiot") }, bus.EventApprove, "trusted author"},
		{"allow list only: listed passes", config.Stream{Filters: config.Filters{AllowListOnly: true, AllowedWords: []string{"ChorusLive", "keynote"}}},
			func() post.Post { return ana("great KEYNOTE") }, bus.EventApprove, "auto"},
		{"allow list only: hashtag passes", config.Stream{Filters: config.Filters{AllowListOnly: true, AllowedWords: []string{"ChorusLive"}}},
			func() post.Post { p := ana("hi"); p.Hashtags = []string{"choruslive"}; return p }, bus.EventApprove, "auto"},
		{"allow list only: others rejected", config.Stream{Filters: config.Filters{AllowListOnly: true, AllowedWords: []string{"ChorusLive"}}},
			func() post.Post { return ana("random") }, bus.EventReject, "not on the allow list"},
		{"reposts excluded", config.Stream{Filters: config.Filters{ExcludeKinds: []string{"repost"}}},
			func() post.Post { p := ana("rt"); p.Kind = post.KindRepost; return p }, bus.EventReject, "reposts excluded"},
		{"replies pass when only reposts excluded", config.Stream{Filters: config.Filters{ExcludeKinds: []string{"repost"}}},
			func() post.Post { p := ana("re"); p.Kind = post.KindReply; return p }, bus.EventApprove, "auto"},
		{"media only", config.Stream{Filters: config.Filters{MediaOnly: true}}, func() post.Post { return ana("no picture") }, bus.EventReject, "media only"},
		{"min text length", config.Stream{Filters: config.Filters{MinTextLength: 10}}, func() post.Post { return ana(" hi ") }, bus.EventReject, "text shorter than 10 characters"},
		{"min followers", config.Stream{Filters: config.Filters{MinFollowers: 1000}}, func() post.Post { return ana("hi") }, bus.EventReject, "author has fewer than 1000 followers"},
		{"language not allowed", config.Stream{Filters: config.Filters{Languages: []string{"es", "fr"}}}, func() post.Post { return ana("hi") }, bus.EventReject, `language "en" not allowed`},
		{"unknown language passes", config.Stream{Filters: config.Filters{Languages: []string{"es"}}}, func() post.Post { p := ana("hi"); p.Lang = ""; return p }, bus.EventApprove, "auto"},
		{"sensitive held by default", config.Stream{}, func() post.Post { p := ana("hi"); p.Sensitive = true; p.ContentWarning = "spoilers"; return p }, bus.EventHold, "sensitive content: spoilers"},
		{"sensitive allowed", config.Stream{Filters: config.Filters{Sensitive: "allow"}}, func() post.Post { p := ana("hi"); p.Sensitive = true; return p }, bus.EventApprove, "auto"},
		{"sensitive rejected", config.Stream{Filters: config.Filters{Sensitive: "reject"}}, func() post.Post { p := ana("hi"); p.Sensitive = true; return p }, bus.EventReject, "sensitive content"},
		{"too many hashtags", config.Stream{}, func() post.Post {
			p := ana("#a #b")
			p.Hashtags = strings.Split("a b c d e f g h i j k l", " ")
			return p
		}, bus.EventHold, "spam: 12 hashtags (at most 10)"},
		{"too many links, rejected by setting", config.Stream{Filters: config.Filters{Spam: config.SpamFilter{MaxLinks: 1, Action: "reject"}}}, func() post.Post {
			p := ana("links")
			p.Links = []post.Link{{URL: "https://a.example"}, {URL: "https://b.example"}}
			return p
		}, bus.EventReject, "spam: 2 links (at most 1)"},
		{"profanity", config.Stream{}, func() post.Post { return ana("this is shit") }, bus.EventReject, `profanity "shit" (text)`},
		{"profanity spaced out", config.Stream{}, func() post.Post { return ana("f u c k this") }, bus.EventReject, `profanity "fuck" (text)`},
		{"profanity with a Cyrillic look-alike", config.Stream{}, func() post.Post { return ana("what the fuсk") }, bus.EventReject, `profanity "fuck" (text)`},
		{"profanity in leetspeak", config.Stream{}, func() post.Post { return ana("you b1tch") }, bus.EventReject, `profanity "bitch" (text)`},
		{"profanity in a handle", config.Stream{}, func() post.Post { p := ana("hi"); p.Author.Handle = "total_cunt_99"; return p }, bus.EventReject, `profanity "cunt" (author handle)`},
		{"profanity in a camel-case hashtag", config.Stream{}, func() post.Post { p := ana("hi"); p.Hashtags = []string{"ThisIsShit"}; return p }, bus.EventReject, `profanity "shit" (hashtag)`},
		{"profanity in French", config.Stream{}, func() post.Post { return ana("Putain, quelle soirée") }, bus.EventReject, `profanity "putain" (text)`},
		{"profanity in German with ß folded", config.Stream{}, func() post.Post { return ana("So eine SCHEISSE") }, bus.EventReject, `profanity "scheiße" (text)`},
		{"Scunthorpe problem", config.Stream{}, func() post.Post {
			return ana("Scunthorpe United played a classic; the assassin in the cocktail bar in Essex read Dickens to a therapist")
		}, bus.EventApprove, "auto"},
		{"profanity held by setting", config.Stream{Filters: config.Filters{Profanity: config.ProfanityFilter{Action: "hold"}}},
			func() post.Post { return ana("shit happens") }, bus.EventHold, `profanity "shit" (text)`},
		{"profanity allow list", config.Stream{Filters: config.Filters{Profanity: config.ProfanityFilter{Allow: []string{"shit happens"}}}},
			func() post.Post { return ana("shit happens") }, bus.EventApprove, "auto"},
		{"profanity of other languages only", config.Stream{Filters: config.Filters{Profanity: config.ProfanityFilter{Languages: []string{"fr"}}}},
			func() post.Post { return ana("this is shit") }, bus.EventApprove, "auto"},
		{"profanity off", config.Stream{Filters: config.Filters{Profanity: config.ProfanityFilter{Disabled: true}}},
			func() post.Post { return ana("this is shit") }, bus.EventApprove, "auto"},
		{"blocked words see through evasion", config.Stream{BlockedWords: []string{"idiot"}}, func() post.Post { return ana("you 1d10t") }, bus.EventReject, `blocked word "idiot" in text`},
		{"spam filter off", config.Stream{Filters: config.Filters{Spam: config.SpamFilter{Disabled: true}}}, func() post.Post {
			p := ana("#a")
			p.Hashtags = strings.Split("a b c d e f g h i j k l", " ")
			return p
		}, bus.EventApprove, "auto"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.post()
			d := compile(t, tt.stream).Decide(&p, now)
			if d.Kind != tt.kind || d.Reason != tt.reason {
				t.Fatalf("got %s %q, want %s %q", d.Kind, d.Reason, tt.kind, tt.reason)
			}
			if want := filterOf(tt.reason); d.Filter != want {
				t.Fatalf("filter = %q, want %q (reason %q)", d.Filter, want, d.Reason)
			}
		})
	}
}

// filterOf is the settings key of the filter that gives reason, or "" for
// the moderation mode: every filter names itself in its decisions, so the
// console can say which filter held a post and filter the queue by it.
func filterOf(reason string) string {
	for prefix, filter := range map[string]string{
		"trusted author": "trusted_authors", "blocked author": "blocked_authors", "blocked word": "blocked_words",
		"blocked hashtag": "blocked_hashtags", "profanity": "profanity", "not on the allow list": "allow_list_only",
		"reposts excluded": "exclude_kinds", "media only": "media_only", "text shorter": "min_text_length",
		"author has fewer": "min_followers", "language": "languages", "sensitive content": "sensitive", "spam:": "spam",
	} {
		if strings.HasPrefix(reason, prefix) {
			return filter
		}
	}
	return ""
}

func TestSpamMemory(t *testing.T) {
	now := time.Now()
	pol := compile(t, config.Stream{Filters: config.Filters{Spam: config.SpamFilter{AuthorRate: 3, AuthorRateWindow: config.Duration(time.Minute)}}})
	n := 0
	decide := func(author, text string, at time.Time) Decision {
		n++
		p := ana(text)
		p.ID = fmt.Sprintf("x:%d", n)
		p.Author.Handle = author
		return pol.Decide(&p, at)
	}
	text := "Win a free cruise today by clicking the link in my profile right now"
	first := ana(text)
	first.ID, first.Author.Handle = "x:first", "bot1"
	if d := pol.Decide(&first, now); d.Kind != bus.EventApprove {
		t.Fatalf("first: %+v", d)
	}
	// The same post decided again (its batch could not be stored, and it
	// was delivered again) is not taken for a repeat of itself.
	if d := pol.Decide(&first, now.Add(time.Second)); d.Kind != bus.EventApprove {
		t.Fatalf("the first post decided again: %+v", d)
	}
	if d := decide("bot1", text, now.Add(time.Second)); d.Reason != "spam: same text from the same author" {
		t.Fatalf("repeat: %+v", d)
	}
	near := "Win a free cruise today by clicking the link in my profile right now!!"
	if d := decide("bot2", near, now.Add(2*time.Second)); d.Reason != "spam: nearly the same text as another author's recent post" {
		t.Fatalf("near duplicate: %+v", d)
	}
	if d := decide("carol", "Completely different words about the keynote and the food court today", now.Add(3*time.Second)); d.Kind != bus.EventApprove {
		t.Fatalf("different text: %+v", d)
	}
	// The rate cap: the fourth post within a minute is held, and the window moves on.
	for i, want := range []bus.EventKind{bus.EventApprove, bus.EventApprove, bus.EventApprove, bus.EventHold} {
		if d := decide("dave", strings.Repeat("x", i+1)+" unique words number "+string(rune('a'+i)), now.Add(time.Duration(i)*time.Second)); d.Kind != want {
			t.Fatalf("post %d of dave: %+v", i, d)
		}
	}
	if d := decide("dave", "after the window", now.Add(2*time.Minute)); d.Kind != bus.EventApprove {
		t.Fatalf("after the window: %+v", d)
	}
	// Without an author there is no telling who repeats: not spam.
	for i := range 3 {
		p := ana("the same words from nobody in particular at the event")
		p.ID = fmt.Sprintf("x:nobody-%d", i)
		p.Author = post.Author{}
		if d := pol.Decide(&p, now.Add(time.Duration(i)*time.Second)); d.Kind != bus.EventApprove {
			t.Fatalf("authorless post %d: %+v", i, d)
		}
	}
	// Too short to call a near-duplicate: "thanks!" from many people is fine.
	for _, who := range []string{"e", "f", "g"} {
		if d := decide(who, "thanks so much", now.Add(3*time.Minute)); d.Kind != bus.EventApprove {
			t.Fatalf("short common text from %s: %+v", who, d)
		}
	}
}

func TestRules(t *testing.T) {
	now := time.Now()
	rules := []config.Rule{
		{Name: "no links", When: config.Condition{HasLinks: ptr(true)}, Action: "hold"},
		{Name: "vip", When: config.Condition{Authors: []string{"x:ceo"}}, Action: "pin"},
		{Name: "spotlight", When: config.Condition{Hashtags: []string{"#Keynote"}, MinFollowers: 1000}, Action: "feature"},
		{Name: "grumpy", When: config.Condition{MaxSentiment: ptr(-0.5)}, Action: "hold"},
		{Name: "spanish", When: config.Condition{Languages: []string{"es"}, Kinds: []string{"original"}}, Action: "tag", Tags: []string{"es"}},
		{Name: "photos from mastodon", When: config.Condition{Networks: []string{"mastodon"}, HasMedia: ptr(true)}, Action: "approve"},
		{Name: "keyword", When: config.Condition{Keywords: []string{"free tickets"}}, Action: "reject"},
		{Name: "big and quiet", When: config.Condition{Expr: `Author.Followers > 100000 and len(Hashtags) == 0 and Length < 20`}, Action: "reject"},
		{Name: "off", When: config.Condition{}, Action: "reject", Disabled: true},
	}
	pol := compile(t, config.Stream{Moderation: config.ModerationManual, Rules: rules,
		Filters: config.Filters{Spam: config.SpamFilter{Disabled: true}}})
	tests := []struct {
		name string
		post func() post.Post
		want Decision
	}{
		{"first match wins", func() post.Post {
			p := ana("see https://a.example")
			p.Links = []post.Link{{URL: "https://a.example"}}
			p.Author.Handle = "ceo"
			return p
		}, Decision{Kind: bus.EventHold, Rule: "no links", Reason: `rule "no links"`}},
		{"pin", func() post.Post { p := ana("welcome"); p.Author.Handle = "CEO"; return p },
			Decision{Kind: bus.EventApprove, Rule: "vip", Reason: `rule "vip"`, Pinned: true}},
		{"feature needs both conditions", func() post.Post { p := ana("talk"); p.Hashtags = []string{"keynote"}; return p },
			Decision{Kind: bus.EventHold, Reason: "manual moderation"}},
		{"feature", func() post.Post {
			p := ana("talk")
			p.Hashtags = []string{"keynote"}
			p.Author.Followers = 5000
			return p
		},
			Decision{Kind: bus.EventApprove, Rule: "spotlight", Reason: `rule "spotlight"`, Featured: true}},
		{"sentiment", func() post.Post { p := ana("awful"); p.Sentiment = -0.8; return p },
			Decision{Kind: bus.EventHold, Rule: "grumpy", Reason: `rule "grumpy"`}},
		{"tag keeps the moderation mode", func() post.Post { p := ana("hola"); p.Lang = "es"; return p },
			Decision{Kind: bus.EventHold, Rule: "spanish", Reason: `rule "spanish"`, Tags: []string{"es"}}},
		{"approve", func() post.Post {
			p := ana("pic")
			p.Network, p.Media = "mastodon", []post.Media{{Kind: post.MediaImage, URL: "https://m.example/1.jpg"}}
			return p
		}, Decision{Kind: bus.EventApprove, Rule: "photos from mastodon", Reason: `rule "photos from mastodon"`}},
		{"keyword phrase", func() post.Post { return ana("FREE   tickets here") }, Decision{Kind: bus.EventReject, Rule: "keyword", Reason: `rule "keyword"`}},
		{"expression", func() post.Post { p := ana("buy now"); p.Author.Followers = 200000; return p },
			Decision{Kind: bus.EventReject, Rule: "big and quiet", Reason: `rule "big and quiet"`}},
		{"no rule: mode decides; disabled rules never match", func() post.Post { return ana("an ordinary post about the day") },
			Decision{Kind: bus.EventHold, Reason: "manual moderation"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.post()
			got := pol.Decide(&p, now)
			if got.Kind != tt.want.Kind || got.Reason != tt.want.Reason || got.Rule != tt.want.Rule ||
				got.Pinned != tt.want.Pinned || got.Featured != tt.want.Featured || strings.Join(got.Tags, ",") != strings.Join(tt.want.Tags, ",") {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestRuleErrorsNameTheKey(t *testing.T) {
	_, err := Compile(config.Stream{ID: "s", Rules: []config.Rule{
		{Name: "ok", Action: "approve"},
		{Name: "bad", Action: "reject", When: config.Condition{Expr: "Author.Folowers > 10"}},
	}}, NewLists(), "streams[3]")
	if err == nil || !strings.HasPrefix(err.Error(), "streams[3].rules[1].when.expr:") {
		t.Fatalf("err = %v", err)
	}
	_, err = Compile(config.Stream{ID: "s", Rules: []config.Rule{{Name: "n", Action: "approve", When: config.Condition{Expr: `Text + 1`}}}}, NewLists(), "x")
	if err == nil {
		t.Fatal("a non-boolean expression compiled")
	}
	_, err = Compile(config.Stream{ID: "s", Filters: config.Filters{Profanity: config.ProfanityFilter{Languages: []string{"en", "xx"}}}}, NewLists(), "streams[0]")
	if err == nil || !strings.HasPrefix(err.Error(), `streams[0].filters.profanity.languages[1]: no built-in list for "xx"`) {
		t.Fatalf("err = %v", err)
	}
	s := config.Stream{ID: "s", Rules: []config.Rule{{Name: "", Action: "explode"}, {Name: "t", Action: "tag"}}}
	err = config.ValidateStream(&s, nil)
	for _, want := range []string{"rules[0].name: is required", `rules[0].action: "explode" must be one of`, "rules[1].tags: a tag rule needs tags"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}

func TestDryRun(t *testing.T) {
	r, err := compileRule(config.Rule{Name: "no links", When: config.Condition{HasLinks: ptr(true)}, Action: "reject"}, "rule")
	if err != nil {
		t.Fatal(err)
	}
	linked := ana("link")
	linked.ID, linked.Links = "x:2", []post.Link{{URL: "https://a.example"}}
	linkedHeld := linked
	linkedHeld.ID = "x:3"
	rep := DryRun(r, []Recent{{Post: ana("plain"), Status: "approved"}, {Post: linked, Status: "approved"}, {Post: linkedHeld, Status: "rejected"}})
	if rep.Checked != 3 || rep.Matched != 2 || rep.Changed != 1 || rep.Posts[0].PostID != "x:2" || rep.Posts[0].Would != "reject" {
		t.Fatalf("%+v", rep)
	}
}
