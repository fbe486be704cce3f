package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written with its unit, "30s" or "5m", in
// YAML and JSON. A bare number is refused: "15" could mean seconds or
// nanoseconds, so Chorus makes the file say which.
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes "30s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "30s" (or 0).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n json.Number
		if json.Unmarshal(b, &n) != nil {
			return errors.New(`must be a duration like "30s" or "5m"`)
		}
		s = n.String()
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes "30s".
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// UnmarshalYAML reads "30s". Its errors are type errors, so a decode goes on
// to report the file's other problems.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: must be a duration like \"30s\" or \"5m\"", n.Line)}}
	}
	v, err := parseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = Duration(v)
	return nil
}

// parseDuration reads "30s", "1h30m" or "0". A number without a unit is
// refused with the two readings it could have.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	v, err := time.ParseDuration(s)
	if err == nil {
		return v, nil
	}
	if _, nerr := strconv.ParseFloat(s, 64); nerr == nil {
		return 0, fmt.Errorf("%s has no unit; write %q for seconds or %q for minutes", s, s+"s", s+"m")
	}
	return 0, fmt.Errorf("%q is not a duration like \"30s\" or \"5m\"", s)
}

// Filters are a stream's filters. Each one, when it catches a post, holds or
// rejects it and records why ("rejected: profanity (author handle)").
type Filters struct {
	Profanity ProfanityFilter `yaml:"profanity" json:"profanity"`
	// BlockedHashtags reject posts carrying any of them (without '#').
	BlockedHashtags []string `yaml:"blocked_hashtags" json:"blocked_hashtags,omitempty"`
	// AllowedWords are words, phrases and hashtags for the allow-list-only mode.
	AllowedWords []string `yaml:"allowed_words" json:"allowed_words,omitempty"`
	// AllowListOnly rejects every post that has no allowed word and is not
	// from a trusted author: a troll-safe wall.
	AllowListOnly bool `yaml:"allow_list_only" json:"allow_list_only,omitempty"`
	// BlockedAuthors are rejected; TrustedAuthors skip filters and
	// moderation. Entries are handles or ids, optionally "network:handle".
	BlockedAuthors []string   `yaml:"blocked_authors" json:"blocked_authors,omitempty"`
	TrustedAuthors []string   `yaml:"trusted_authors" json:"trusted_authors,omitempty"`
	Spam           SpamFilter `yaml:"spam" json:"spam"`
	// ExcludeKinds drops replies, reposts or quotes.
	ExcludeKinds  []string `yaml:"exclude_kinds" json:"exclude_kinds,omitempty"`
	MediaOnly     bool     `yaml:"media_only" json:"media_only,omitempty"`
	MinTextLength int      `yaml:"min_text_length" json:"min_text_length,omitempty"`
	MinFollowers  int64    `yaml:"min_followers" json:"min_followers,omitempty"`
	// Languages allowed (ISO 639-1); empty allows all. Posts whose language
	// is unknown pass.
	Languages []string `yaml:"languages" json:"languages,omitempty"`
	// Sensitive is what happens to sensitive or content-warned posts:
	// allow, hold (default) or reject.
	Sensitive string `yaml:"sensitive" json:"sensitive,omitempty"`
}

// ProfanityFilter checks text, author name and handle, hashtags, link text
// and content warnings against the built-in lists, seeing through evasion.
type ProfanityFilter struct {
	// Disabled turns the filter off (it is on by default).
	Disabled bool `yaml:"disabled" json:"disabled,omitempty"`
	// Languages whose lists apply; empty means every built-in list.
	Languages []string `yaml:"languages" json:"languages,omitempty"`
	// Action is reject (default) or hold.
	Action string `yaml:"action" json:"action,omitempty"`
	// Allow lists words never to treat as profanity (a brand, a place).
	Allow []string `yaml:"allow" json:"allow,omitempty"`
}

// SpamFilter holds or rejects posts that look like spam. Zero values take
// the defaults; a negative limit turns that check off.
type SpamFilter struct {
	Disabled    bool `yaml:"disabled" json:"disabled,omitempty"`
	MaxHashtags int  `yaml:"max_hashtags" json:"max_hashtags,omitempty"`
	MaxMentions int  `yaml:"max_mentions" json:"max_mentions,omitempty"`
	MaxLinks    int  `yaml:"max_links" json:"max_links,omitempty"`
	// DuplicateWindow: the same text from the same author within it is spam.
	DuplicateWindow Duration `yaml:"duplicate_window" json:"duplicate_window,omitempty"`
	// NearDuplicateDistance: texts whose SimHash differs in at most this many
	// bits, from different authors within DuplicateWindow, are spam.
	NearDuplicateDistance int `yaml:"near_duplicate_distance" json:"near_duplicate_distance,omitempty"`
	// AuthorRate caps posts per author per AuthorRateWindow.
	AuthorRate       int      `yaml:"author_rate" json:"author_rate,omitempty"`
	AuthorRateWindow Duration `yaml:"author_rate_window" json:"author_rate_window,omitempty"`
	// Action is hold (default) or reject.
	Action string `yaml:"action" json:"action,omitempty"`
}

// Rule is one ordered rule of a stream: when its condition holds, its
// action is taken and no later rule is tried.
type Rule struct {
	Name     string    `yaml:"name" json:"name"`
	When     Condition `yaml:"when" json:"when"`
	Action   string    `yaml:"action" json:"action"`
	Tags     []string  `yaml:"tags" json:"tags,omitempty"`
	Disabled bool      `yaml:"disabled" json:"disabled,omitempty"`
}

// RuleActions are what a rule can do.
var RuleActions = []string{"approve", "reject", "hold", "feature", "pin", "tag"}

// Condition is what a rule matches: every condition set must hold; within a
// list, any entry may match.
type Condition struct {
	Networks  []string `yaml:"networks" json:"networks,omitempty"`
	Hashtags  []string `yaml:"hashtags" json:"hashtags,omitempty"`
	Keywords  []string `yaml:"keywords" json:"keywords,omitempty"`
	Authors   []string `yaml:"authors" json:"authors,omitempty"`
	Languages []string `yaml:"languages" json:"languages,omitempty"`
	Kinds     []string `yaml:"kinds" json:"kinds,omitempty"`
	HasMedia  *bool    `yaml:"has_media" json:"has_media,omitempty"`
	HasLinks  *bool    `yaml:"has_links" json:"has_links,omitempty"`
	// MinFollowers and the sentiment bounds compare with the post's values.
	MinFollowers int64    `yaml:"min_followers" json:"min_followers,omitempty"`
	MinSentiment *float64 `yaml:"min_sentiment" json:"min_sentiment,omitempty"`
	MaxSentiment *float64 `yaml:"max_sentiment" json:"max_sentiment,omitempty"`
	// Expr is an advanced condition in expr-lang over the post, e.g.
	// `Author.Followers > 1000 and len(Hashtags) < 3`.
	Expr string `yaml:"expr" json:"expr,omitempty"`
}

// Empty reports whether no condition is set (the rule matches every post).
func (c Condition) Empty() bool {
	return len(c.Networks)+len(c.Hashtags)+len(c.Keywords)+len(c.Authors)+len(c.Languages)+len(c.Kinds) == 0 &&
		c.HasMedia == nil && c.HasLinks == nil && c.MinFollowers == 0 && c.MinSentiment == nil && c.MaxSentiment == nil && c.Expr == ""
}

var postKinds = []string{"original", "reply", "repost", "quote"}

// validateCuration checks the curation settings of stream s, at key.
func (s *Stream) validateCuration(key string) []error {
	var errs []error
	bad := func(k, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: "+format, append([]any{key, k}, args...)...))
	}
	if s.Delay < 0 || s.Delay.D() > time.Hour {
		bad("delay", "%s must be between 0 and 1h", s.Delay)
	}
	f := s.Filters
	if !oneOfOrEmpty(f.Profanity.Action, "reject", "hold") {
		bad("filters.profanity.action", "%q must be reject or hold", f.Profanity.Action)
	}
	if !oneOfOrEmpty(f.Spam.Action, "reject", "hold") {
		bad("filters.spam.action", "%q must be reject or hold", f.Spam.Action)
	}
	if !oneOfOrEmpty(f.Sensitive, "allow", "hold", "reject") {
		bad("filters.sensitive", "%q must be allow, hold or reject", f.Sensitive)
	}
	for i, k := range f.ExcludeKinds {
		if !oneOf(k, "reply", "repost", "quote") {
			bad(fmt.Sprintf("filters.exclude_kinds[%d]", i), "%q must be reply, repost or quote", k)
		}
	}
	if f.MinTextLength < 0 || f.MinFollowers < 0 {
		bad("filters", "min_text_length and min_followers must not be negative")
	}
	if f.Spam.DuplicateWindow < 0 || f.Spam.AuthorRateWindow < 0 || f.Spam.NearDuplicateDistance > 32 {
		bad("filters.spam", "windows must not be negative and near_duplicate_distance must be at most 32")
	}
	if f.AllowListOnly && len(f.AllowedWords) == 0 && len(f.TrustedAuthors) == 0 {
		bad("filters.allow_list_only", "needs allowed_words or trusted_authors, or every post is rejected")
	}
	names := map[string]bool{}
	for i, r := range s.Rules {
		rk := fmt.Sprintf("rules[%d]", i)
		if strings.TrimSpace(r.Name) == "" {
			bad(rk+".name", "is required (moderators see it as the reason)")
		} else if names[r.Name] {
			bad(rk+".name", "%q is used by another rule", r.Name)
		}
		names[r.Name] = true
		if !oneOf(r.Action, RuleActions...) {
			bad(rk+".action", "%q must be one of %s", r.Action, strings.Join(RuleActions, ", "))
		}
		if r.Action == "tag" && len(r.Tags) == 0 {
			bad(rk+".tags", "a tag rule needs tags")
		}
		for j, k := range r.When.Kinds {
			if !oneOf(k, postKinds...) {
				bad(fmt.Sprintf("%s.when.kinds[%d]", rk, j), "%q must be original, reply, repost or quote", k)
			}
		}
		if r.When.MinSentiment != nil && (*r.When.MinSentiment < -1 || *r.When.MinSentiment > 1) ||
			r.When.MaxSentiment != nil && (*r.When.MaxSentiment < -1 || *r.When.MaxSentiment > 1) {
			bad(rk+".when", "sentiment bounds must be between -1 and 1")
		}
	}
	return errs
}

func oneOfOrEmpty(s string, options ...string) bool { return s == "" || oneOf(s, options...) }

// ValidateStream checks one stream on its own (as the API receives it);
// sources names the source ids that exist.
func ValidateStream(s *Stream, sources []string) error {
	c := &Config{Streams: []Stream{*s}}
	for _, id := range sources {
		c.Sources = append(c.Sources, Source{ID: id, Type: "known"})
	}
	c.applyDefaults()
	*s = c.Streams[0]
	var errs []error
	for _, err := range unwrapJoin(c.Validate()) {
		// Only the stream's own errors matter here.
		if strings.HasPrefix(err.Error(), "streams[0]") {
			errs = append(errs, errors.New(strings.TrimPrefix(strings.TrimPrefix(err.Error(), "streams[0]"), ".")))
		}
	}
	return errors.Join(errs...)
}

// unwrapJoin flattens joined errors (errors.Join, Errors) into a list.
func unwrapJoin(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, unwrapJoin(e)...)
	}
	return out
}
