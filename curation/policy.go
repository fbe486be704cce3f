// Package curation decides, for every curated stream a post's source feeds,
// whether the post goes on screen, waits for a moderator or is rejected, and
// writes each decision (and each moderator action) to the events stream.
package curation

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/curation/wordlist"
	"github.com/chorus-wall/chorus/post"
)

// textFinder finds listed words in a piece of text.
type textFinder interface {
	FindIn(text string) (word string, ok bool)
}

// Decision is what a stream does with a post, and why.
type Decision struct {
	Kind   bus.EventKind
	Reason string
	// Filter names the filter that decided, by its settings key
	// ("blocked_words", "spam", ...), when one did; Rule names the rule.
	Filter   string
	Rule     string
	Tags     []string
	Pinned   bool
	Featured bool
}

// Policy is one curated stream's compiled curation settings.
type Policy struct {
	Stream config.Stream

	blocked         textFinder
	profanity       textFinder
	profanityAction bus.EventKind
	// words is blocked words and profanity in one matcher, so each field of
	// a post is read once; blockedSet tells which list a match came from.
	// Used when both reject (the default); otherwise blocked and profanity
	// are separate matchers.
	words          textFinder
	blockedSet     map[string]bool
	allowed        textFinder
	blockedTags    map[string]bool
	blockedAuthors *authorSet
	trusted        *authorSet
	excludeKinds   map[string]bool
	languages      map[string]bool
	sensitive      string
	spam           *spamCheck
	spamAction     bus.EventKind
	rules          []*rule
}

// Compile builds a stream's policy, checking every rule expression; errors
// name the key under path (streams[0]).
func Compile(s config.Stream, lists *Lists, path string) (*Policy, error) {
	f := s.Filters
	pol := &Policy{
		Stream:          s,
		allowed:         lists.Words(f.AllowedWords, nil),
		blockedTags:     lowerSet(f.BlockedHashtags, "#"),
		blockedAuthors:  newAuthorSet(f.BlockedAuthors),
		trusted:         newAuthorSet(f.TrustedAuthors),
		excludeKinds:    lowerSet(f.ExcludeKinds, ""),
		languages:       lowerSet(f.Languages, ""),
		sensitive:       f.Sensitive,
		spam:            newSpamCheck(f.Spam),
		profanityAction: actionOr(f.Profanity.Action, bus.EventReject),
		spamAction:      actionOr(f.Spam.Action, bus.EventHold),
	}
	if pol.sensitive == "" {
		pol.sensitive = "hold"
	}
	if !f.Profanity.Disabled {
		for i, lang := range f.Profanity.Languages {
			if len(wordlist.Profanity(lang)) == 0 {
				return nil, fmt.Errorf("%s.filters.profanity.languages[%d]: no built-in list for %q (lists: %s)",
					path, i, lang, strings.Join(wordlist.Languages(), ", "))
			}
		}
		if pol.profanityAction == bus.EventReject {
			pol.words = lists.Words(append(slices.Clone(s.BlockedWords), wordlist.Profanity(f.Profanity.Languages...)...), f.Profanity.Allow)
			pol.blockedSet = map[string]bool{}
			for _, w := range s.BlockedWords {
				pol.blockedSet[w] = true
			}
		} else {
			pol.profanity = lists.Profanity(f.Profanity.Languages, f.Profanity.Allow)
		}
	}
	if pol.words == nil {
		pol.blocked = lists.Words(s.BlockedWords, nil)
	}
	for i, r := range s.Rules {
		if r.Disabled {
			continue
		}
		c, err := compileRule(r, fmt.Sprintf("%s.rules[%d]", path, i))
		if err != nil {
			return nil, err
		}
		pol.rules = append(pol.rules, c)
	}
	return pol, nil
}

func actionOr(a string, def bus.EventKind) bus.EventKind {
	switch a {
	case "reject":
		return bus.EventReject
	case "hold":
		return bus.EventHold
	}
	return def
}

// Decide says what happens to p in this stream and why. Trusted authors go
// straight on screen; then the filters run in a fixed order and the first
// that catches the post decides; then the rules, first match wins; then the
// moderation mode. p should be enriched (language, sentiment) already.
func (pol *Policy) Decide(p *post.Post, now time.Time) Decision {
	return pol.decide(p, nil, now, spamShare)
}

// decideWords is Decide for a post whose text is already split into words
// (tokenize): a post fed to several streams is split once.
func (pol *Policy) decideWords(p *post.Post, toks []string, now time.Time) Decision {
	return pol.decide(p, toks, now, spamShare)
}

// Redecide judges again a post decided before (an edit at its source): as
// Decide, except that the spam memory neither records it nor takes it for
// a repeat of its own first version.
func (pol *Policy) Redecide(p *post.Post, now time.Time) Decision {
	return pol.decide(p, nil, now, spamSkip)
}

// replay decides p as Decide does, to rebuild the spam memory from posts
// decided before (the decision is not used), without sharing its text with
// the other curation nodes again.
func (pol *Policy) replay(p *post.Post, at time.Time) {
	pol.decide(p, nil, at, spamRecord)
}

// spamUse says what deciding a post does with the spam memory.
type spamUse int

const (
	// spamShare records the post and shares its text with the other
	// curation nodes.
	spamShare spamUse = iota
	// spamRecord records it only.
	spamRecord
	// spamSkip leaves the memory alone (and so skips its checks).
	spamSkip
)

// decide decides p, whose text's words are toks (nil: not split yet).
func (pol *Policy) decide(p *post.Post, toks []string, now time.Time, use spamUse) Decision {
	if pol.trusted.has(p) {
		return Decision{Kind: bus.EventApprove, Filter: "trusted_authors", Reason: "trusted author"}
	}
	if toks == nil {
		toks = tokenize(p.Text) // shared by the spam memory and keyword rules
	}
	tags := lowerAll(p.Hashtags) // shared by the hashtag filter and rules
	if kind, filter, reason, caught := pol.filter(p, toks, tags, now, use); caught {
		return Decision{Kind: kind, Filter: filter, Reason: reason}
	}
	var env *ExprEnv
	lazyEnv := func() ExprEnv {
		if env == nil {
			e := envOf(p)
			env = &e
		}
		return *env
	}
	for _, r := range pol.rules {
		if !r.matches(p, toks, tags, lazyEnv) {
			continue
		}
		d := Decision{Rule: r.Name, Reason: fmt.Sprintf("rule %q", r.Name)}
		switch r.Action {
		case "approve":
			d.Kind = bus.EventApprove
		case "reject":
			d.Kind = bus.EventReject
		case "hold":
			d.Kind = bus.EventHold
		case "pin":
			d.Kind, d.Pinned = bus.EventApprove, true
		case "feature":
			d.Kind, d.Featured = bus.EventApprove, true
		case "tag":
			d.Kind, d.Tags = pol.mode(), r.Tags
		}
		return d
	}
	if pol.mode() == bus.EventHold {
		return Decision{Kind: bus.EventHold, Reason: "manual moderation"}
	}
	return Decision{Kind: bus.EventApprove, Reason: "auto"}
}

func (pol *Policy) mode() bus.EventKind {
	if pol.Stream.Moderation == config.ModerationManual {
		return bus.EventHold
	}
	return bus.EventApprove
}

// filter runs the filters in order; the first that catches p decides, and
// is named by its settings key. toks are the words of p's text, tags its
// hashtags in lower case; use says what it does with the spam memory.
func (pol *Policy) filter(p *post.Post, toks, tags []string, now time.Time, use spamUse) (kind bus.EventKind, filter, reason string, caught bool) {
	f := pol.Stream.Filters
	if pol.blockedAuthors.has(p) {
		return bus.EventReject, "blocked_authors", "blocked author", true
	}
	if pol.words != nil {
		if word, field, ok := findInPost(pol.words, p, toks); ok {
			if pol.blockedSet[word] {
				return bus.EventReject, "blocked_words", fmt.Sprintf("blocked word %q in %s", word, field), true
			}
			return bus.EventReject, "profanity", fmt.Sprintf("profanity %q (%s)", word, field), true
		}
	} else if word, field, ok := findInPost(pol.blocked, p, toks); ok {
		return bus.EventReject, "blocked_words", fmt.Sprintf("blocked word %q in %s", word, field), true
	}
	if i := slices.IndexFunc(tags, func(h string) bool { return pol.blockedTags[h] }); i >= 0 {
		return bus.EventReject, "blocked_hashtags", "blocked hashtag #" + p.Hashtags[i], true
	}
	if pol.profanity != nil {
		if word, field, ok := findInPost(pol.profanity, p, toks); ok {
			return pol.profanityAction, "profanity", fmt.Sprintf("profanity %q (%s)", word, field), true
		}
	}
	if f.AllowListOnly {
		if _, _, ok := findInPost(pol.allowed, p, toks); !ok {
			return bus.EventReject, "allow_list_only", "not on the allow list", true
		}
	}
	if pol.excludeKinds[string(p.Kind)] {
		return bus.EventReject, "exclude_kinds", string(p.Kind) + "s excluded", true
	}
	if f.MediaOnly && len(p.Media) == 0 {
		return bus.EventReject, "media_only", "media only", true
	}
	if f.MinTextLength > 0 && utf8.RuneCountInString(strings.TrimSpace(p.Text)) < f.MinTextLength {
		return bus.EventReject, "min_text_length", fmt.Sprintf("text shorter than %d characters", f.MinTextLength), true
	}
	if f.MinFollowers > 0 && p.Author.Followers < f.MinFollowers {
		return bus.EventReject, "min_followers", fmt.Sprintf("author has fewer than %d followers", f.MinFollowers), true
	}
	if len(pol.languages) > 0 && p.Lang != "" && !pol.languages[strings.ToLower(p.Lang)] {
		return bus.EventReject, "languages", fmt.Sprintf("language %q not allowed", p.Lang), true
	}
	if (p.Sensitive || p.ContentWarning != "") && pol.sensitive != "allow" {
		reason := "sensitive content"
		if p.ContentWarning != "" {
			reason += ": " + p.ContentWarning
		}
		return actionOr(pol.sensitive, bus.EventHold), "sensitive", reason, true
	}
	if reason, ok := pol.spam.counts(p); ok {
		return pol.spamAction, "spam", reason, true
	}
	if use == spamSkip {
		return "", "", "", false
	}
	if reason, ok := pol.spam.remember(p, toks, now, use == spamShare); ok {
		return pol.spamAction, "spam", reason, true
	}
	return "", "", "", false
}

// tokenFinder is a textFinder that can reuse the text's tokens.
type tokenFinder interface {
	find(toks []string) (string, bool)
}

// findInPost looks for a listed word in every place a post shows text: its
// text (whose tokens are toks), author name and handle, hashtags, link
// titles and content warning.
func findInPost(m textFinder, p *post.Post, toks []string) (word, field string, ok bool) {
	if m == nil {
		return "", "", false
	}
	check := func(name, text string) bool {
		if text == "" {
			return false
		}
		word, ok = m.FindIn(text)
		field = name
		return ok
	}
	if tf, reuse := m.(tokenFinder); reuse {
		if word, ok = tf.find(toks); ok {
			return word, "text", true
		}
	} else if check("text", p.Text) {
		return word, field, true
	}
	if check("author name", p.Author.Name) || check("author handle", p.Author.Handle) ||
		check("content warning", p.ContentWarning) {
		return word, field, true
	}
	for _, h := range p.Hashtags {
		if check("hashtag", h) {
			return word, field, true
		}
	}
	for _, l := range p.Links {
		if check("link text", l.Title) {
			return word, field, true
		}
	}
	return "", "", false
}

// lowerAll returns tags in lower case: tags itself when none changes.
func lowerAll(tags []string) []string {
	for i, t := range tags {
		if low := strings.ToLower(t); low != t {
			out := slices.Clone(tags)
			out[i] = low
			for j := i + 1; j < len(out); j++ {
				out[j] = strings.ToLower(out[j])
			}
			return out
		}
	}
	return tags
}
