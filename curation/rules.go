package curation

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

// rule is a compiled config.Rule.
type rule struct {
	config.Rule
	networks  map[string]bool
	hashtags  map[string]bool
	keywords  *WordList
	authors   *authorSet
	languages map[string]bool
	kinds     map[string]bool
	program   *vm.Program
}

// ExprEnv is what a rule's expression sees: the post, flattened for
// writing conditions (`Author.Followers > 1000 and HasMedia`).
type ExprEnv struct {
	Text       string
	Network    string
	Kind       string
	Lang       string
	Sensitive  bool
	Sentiment  float64
	Hashtags   []string
	Mentions   []string
	Links      []string
	MediaCount int
	HasMedia   bool
	Length     int
	Author     ExprAuthor
}

// ExprAuthor is the author as expressions see it.
type ExprAuthor struct {
	Handle    string
	Name      string
	Followers int64
	Verified  bool
}

func envOf(p *post.Post) ExprEnv {
	links := make([]string, len(p.Links))
	for i, l := range p.Links {
		links[i] = l.URL
	}
	return ExprEnv{
		Text: p.Text, Network: p.Network, Kind: string(p.Kind), Lang: p.Lang, Sensitive: p.Sensitive,
		Sentiment: p.Sentiment, Hashtags: p.Hashtags, Mentions: p.Mentions, Links: links,
		MediaCount: len(p.Media), HasMedia: len(p.Media) > 0, Length: utf8.RuneCountInString(p.Text),
		Author: ExprAuthor{Handle: p.Author.Handle, Name: p.Author.Name, Followers: p.Author.Followers, Verified: p.Author.Verified},
	}
}

// compileRule compiles r; errors name the key under path (rules[2]).
func compileRule(r config.Rule, path string) (*rule, error) {
	c := &rule{
		Rule:      r,
		networks:  lowerSet(r.When.Networks, ""),
		hashtags:  lowerSet(r.When.Hashtags, "#"),
		keywords:  NewWordList(r.When.Keywords),
		authors:   newAuthorSet(r.When.Authors),
		languages: lowerSet(r.When.Languages, ""),
		kinds:     lowerSet(r.When.Kinds, ""),
	}
	if src := strings.TrimSpace(r.When.Expr); src != "" {
		program, err := expr.Compile(src, expr.Env(ExprEnv{}), expr.AsBool())
		if err != nil {
			return nil, fmt.Errorf("%s.when.expr: %v", path, oneLine(err))
		}
		c.program = program
	}
	return c, nil
}

// matches reports whether every condition of the rule holds for p, whose
// text's words are toks (tokenize) and hashtags in lower case tags
// (lowerAll). env is built lazily, only when the rule has an expression.
func (r *rule) matches(p *post.Post, toks, tags []string, env func() ExprEnv) bool {
	w := r.When
	switch {
	case len(r.networks) > 0 && !r.networks[p.Network]:
		return false
	case len(r.languages) > 0 && !r.languages[strings.ToLower(p.Lang)]:
		return false
	case len(r.kinds) > 0 && !r.kinds[string(p.Kind)]:
		return false
	case w.HasMedia != nil && *w.HasMedia != (len(p.Media) > 0):
		return false
	case w.HasLinks != nil && *w.HasLinks != (len(p.Links) > 0):
		return false
	case w.MinFollowers > 0 && p.Author.Followers < w.MinFollowers:
		return false
	case w.MinSentiment != nil && p.Sentiment < *w.MinSentiment:
		return false
	case w.MaxSentiment != nil && p.Sentiment > *w.MaxSentiment:
		return false
	case len(r.hashtags) > 0 && !slices.ContainsFunc(tags, func(h string) bool { return r.hashtags[h] }):
		return false
	case !r.authors.empty() && !r.authors.has(p):
		return false
	}
	if !r.keywords.Empty() {
		if _, ok := r.keywords.find(toks); !ok {
			return false
		}
	}
	if r.program != nil {
		out, err := expr.Run(r.program, env())
		if err != nil {
			return false // a runtime error (e.g. index out of range) is no match
		}
		if ok, _ := out.(bool); !ok {
			return false
		}
	}
	return true
}

// authorSet matches posts by author: entries are handles, "#id", or either
// prefixed with "network:".
type authorSet struct{ entries map[string]bool }

func newAuthorSet(entries []string) *authorSet {
	s := &authorSet{entries: map[string]bool{}}
	for _, e := range entries {
		e = strings.ToLower(strings.TrimSpace(e))
		if net, rest, ok := strings.Cut(e, ":"); ok {
			e = net + ":" + strings.TrimPrefix(rest, "@")
		} else {
			e = strings.TrimPrefix(e, "@")
		}
		if e != "" {
			s.entries[e] = true
		}
	}
	return s
}

func (s *authorSet) empty() bool { return s == nil || len(s.entries) == 0 }

func (s *authorSet) has(p *post.Post) bool {
	if s.empty() {
		return false
	}
	handle := strings.ToLower(strings.TrimPrefix(p.Author.Handle, "@"))
	if handle != "" && (s.entries[handle] || s.entries[p.Network+":"+handle]) {
		return true
	}
	if p.Author.ID != "" {
		id := "#" + strings.ToLower(p.Author.ID)
		return s.entries[id] || s.entries[p.Network+":"+id]
	}
	return false
}

func lowerSet(in []string, trim string) map[string]bool {
	out := make(map[string]bool, len(in))
	for _, s := range in {
		s = strings.ToLower(strings.TrimSpace(s))
		if trim != "" {
			s = strings.TrimPrefix(s, trim)
		}
		if s != "" {
			out[s] = true
		}
	}
	return out
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
