package curation

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chorus-wall/chorus/config"
)

func namedRule(name, action string, tags ...string) config.Rule {
	return config.Rule{Name: name, Action: action, Tags: tags, When: config.Condition{Hashtags: []string{name}}}
}

func ruleList(rules []config.Rule) string {
	var out []string
	for _, r := range rules {
		s := r.Name + ":" + r.Action
		if len(r.Tags) > 0 {
			s += "[" + strings.Join(r.Tags, ",") + "]"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func conflictList(cs []Conflict) string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s file=%s api=%s", c.Key, c.File, c.API))
	}
	return strings.Join(out, "; ")
}

func TestMergeStream(t *testing.T) {
	base := config.Stream{
		ID: "wall", Title: "Wall", Sources: []string{"hook"}, Moderation: config.ModerationAuto,
		BlockedWords: []string{"idiot", "spoiler"}, DisplayLimit: 60,
		Filters: config.Filters{BlockedAuthors: []string{"x:spammer"}, Sensitive: "hold"},
		Rules:   []config.Rule{namedRule("a", "hold"), namedRule("b", "reject"), namedRule("c", "approve")},
	}
	// edit returns a copy of base changed by fn.
	edit := func(fn func(*config.Stream)) config.Stream {
		s := base
		s.BlockedWords = slices.Clone(base.BlockedWords)
		s.Filters.BlockedAuthors = slices.Clone(base.Filters.BlockedAuthors)
		s.Rules = slices.Clone(base.Rules)
		if fn != nil {
			fn(&s)
		}
		return s
	}
	for _, tt := range []struct {
		name       string
		file, live config.Stream
		check      func(t *testing.T, got config.Stream)
		conflicts  string
	}{{
		name: "the file unchanged keeps every API change",
		file: edit(nil),
		live: edit(func(s *config.Stream) {
			s.Moderation = config.ModerationManual
			s.Filters.BlockedAuthors = append(s.Filters.BlockedAuthors, "webhook:troll42")
			s.Rules = append(s.Rules, namedRule("vip", "pin"))
			s.BlockedWords = []string{"idiot"} // "spoiler" removed through the API
		}),
		check: func(t *testing.T, got config.Stream) {
			if got.Moderation != config.ModerationManual || !slices.Equal(got.Filters.BlockedAuthors, []string{"x:spammer", "webhook:troll42"}) ||
				ruleList(got.Rules) != "a:hold b:reject c:approve vip:pin" || !slices.Equal(got.BlockedWords, []string{"idiot"}) {
				t.Errorf("got %+v", got)
			}
		},
	}, {
		name: "different keys changed on each side both apply",
		file: edit(func(s *config.Stream) { s.Title = "Main stage"; s.BlockedWords = append(s.BlockedWords, "rubbish") }),
		live: edit(func(s *config.Stream) {
			s.Filters.BlockedAuthors = append(s.Filters.BlockedAuthors, "webhook:troll42")
			s.BlockedWords = append(s.BlockedWords, "leak")
		}),
		check: func(t *testing.T, got config.Stream) {
			if got.Title != "Main stage" || !slices.Equal(got.BlockedWords, []string{"idiot", "spoiler", "leak", "rubbish"}) ||
				!slices.Equal(got.Filters.BlockedAuthors, []string{"x:spammer", "webhook:troll42"}) {
				t.Errorf("got %+v", got)
			}
		},
	}, {
		name: "the file removes words and authors, ignoring case; API additions stay",
		file: edit(func(s *config.Stream) { s.BlockedWords = []string{"idiot"}; s.Filters.BlockedAuthors = nil }),
		live: edit(func(s *config.Stream) {
			s.BlockedWords = []string{"IDIOT", "Spoiler", "leak"}
			s.Filters.BlockedAuthors = []string{"X:Spammer", "webhook:troll42"}
		}),
		check: func(t *testing.T, got config.Stream) {
			if !slices.Equal(got.BlockedWords, []string{"IDIOT", "leak"}) || !slices.Equal(got.Filters.BlockedAuthors, []string{"webhook:troll42"}) {
				t.Errorf("got %v %v", got.BlockedWords, got.Filters.BlockedAuthors)
			}
		},
	}, {
		name: "the same value changed on both sides: the file wins and says so",
		file: edit(func(s *config.Stream) {
			s.Moderation = config.ModerationManual
			s.Filters.Sensitive = "reject"
			s.DisplayLimit = 30
		}),
		live: edit(func(s *config.Stream) { s.Moderation = config.ModerationManual; s.Filters.Sensitive = "allow" }),
		check: func(t *testing.T, got config.Stream) {
			if got.Moderation != config.ModerationManual || got.Filters.Sensitive != "reject" || got.DisplayLimit != 30 {
				t.Errorf("got %+v", got)
			}
		},
		conflicts: `filters.sensitive file="reject" api="allow"`,
	}, {
		name: "rules merge by name, field by field",
		file: edit(func(s *config.Stream) {
			s.Rules[0].Action = "reject"
			s.Rules[1].Tags = []string{"x"}
			s.Rules[1].Action = "tag"
		}),
		live: edit(func(s *config.Stream) { s.Rules[0].Tags = []string{"api"}; s.Rules[2].Disabled = true }),
		check: func(t *testing.T, got config.Stream) {
			if ruleList(got.Rules) != "a:reject[api] b:tag[x] c:approve" || !got.Rules[2].Disabled {
				t.Errorf("got %s %+v", ruleList(got.Rules), got.Rules)
			}
		},
	}, {
		name: "rules added on each side keep their places",
		file: edit(func(s *config.Stream) { s.Rules = slices.Insert(s.Rules, 1, namedRule("from-file", "hold")) }),
		live: edit(func(s *config.Stream) { s.Rules = slices.Insert(s.Rules, 2, namedRule("from-api", "pin")) }),
		check: func(t *testing.T, got config.Stream) {
			if ruleList(got.Rules) != "a:hold from-file:hold b:reject from-api:pin c:approve" {
				t.Errorf("got %s", ruleList(got.Rules))
			}
		},
	}, {
		name: "the file reorders its rules; an API rule follows its predecessor",
		file: edit(func(s *config.Stream) {
			s.Rules = []config.Rule{namedRule("c", "approve"), namedRule("b", "reject"), namedRule("a", "hold")}
		}),
		live: edit(func(s *config.Stream) { s.Rules = slices.Insert(s.Rules, 1, namedRule("from-api", "pin")) }),
		check: func(t *testing.T, got config.Stream) {
			if ruleList(got.Rules) != "c:approve b:reject a:hold from-api:pin" {
				t.Errorf("got %s", ruleList(got.Rules))
			}
		},
	}, {
		name: "a rule removed from the file goes; one deleted through the API stays deleted",
		file: edit(func(s *config.Stream) { s.Rules = []config.Rule{namedRule("a", "hold"), namedRule("c", "approve")} }),
		live: edit(func(s *config.Stream) { s.Rules = []config.Rule{namedRule("b", "reject"), namedRule("c", "approve")} }),
		check: func(t *testing.T, got config.Stream) {
			if ruleList(got.Rules) != "c:approve" {
				t.Errorf("got %s", ruleList(got.Rules))
			}
		},
	}, {
		name: "rule conflicts: the file's removal and change win and say so",
		file: edit(func(s *config.Stream) { s.Rules = []config.Rule{namedRule("a", "reject"), namedRule("c", "approve")} }),
		live: edit(func(s *config.Stream) { s.Rules = []config.Rule{namedRule("b", "pin"), namedRule("c", "approve")} }),
		check: func(t *testing.T, got config.Stream) {
			if ruleList(got.Rules) != "a:reject c:approve" {
				t.Errorf("got %s", ruleList(got.Rules))
			}
		},
		conflicts: `rules["a"] file=changed in the file api=deleted; rules["b"] file=removed from the file api=changed`,
	}} {
		t.Run(tt.name, func(t *testing.T) {
			got, conflicts := mergeStream(base, tt.file, tt.live)
			if got.ID != "wall" {
				t.Errorf("id %q", got.ID)
			}
			tt.check(t, got)
			if c := conflictList(conflicts); c != tt.conflicts {
				t.Errorf("conflicts:\n got %s\nwant %s", c, tt.conflicts)
			}
		})
	}
}

func TestDiffStream(t *testing.T) {
	yes := true
	from := config.Stream{ID: "wall", Title: "Wall", BlockedWords: []string{"idiot"}, Rules: []config.Rule{namedRule("a", "hold"), namedRule("b", "hold")}}
	to := config.Stream{ID: "wall", Title: "Main", BlockedWords: []string{"idiot", "buy followers"},
		Filters: config.Filters{BlockedAuthors: []string{"webhook:troll42"}},
		Rules:   []config.Rule{namedRule("b", "reject"), namedRule("a", "hold"), namedRule("c", "pin")}}
	to.Rules[1].When.HasMedia = &yes
	want := []string{
		`title: "Wall" -> "Main"`,
		`blocked_words: +"buy followers"`,
		`filters.blocked_authors: +webhook:troll42`,
		`rules["c"]: added`,
		`rules["a"].when.has_media: unset -> true`,
		`rules["b"].action: "hold" -> "reject"`,
		`rules: reordered`,
	}
	if got := diffStream(from, to); !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := diffStream(from, from); len(got) != 0 {
		t.Errorf("no change: %v", got)
	}
	// An empty list is no list.
	empty := from
	empty.AllowedOrigins = []string{}
	if got := diffStream(from, empty); len(got) != 0 {
		t.Errorf("empty list: %v", got)
	}
}
