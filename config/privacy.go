package config

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Privacy tunes what Chorus does to keep no more than it needs.
type Privacy struct {
	// SweepInterval is how often the retention sweep runs.
	SweepInterval time.Duration `yaml:"sweep_interval"`
}

// Default retention, per status, when a stream's retention leaves it out.
// Approved posts are kept as long as nats.retention by default.
const (
	DefaultSweepInterval     = 15 * time.Minute
	DefaultHeldRetention     = 7 * 24 * time.Hour
	DefaultRejectedRetention = 14 * 24 * time.Hour
	DefaultRemovedRetention  = 14 * 24 * time.Hour
	// DefaultGoneRetention keeps posts taken down at their source (deleted,
	// made private or sensitive) one hour: networks ask for their content
	// to go (X within 24 hours).
	DefaultGoneRetention = time.Hour
)

// Retention is how long a stream keeps its posts, by where they stand,
// counted from the last decision about them. Zero takes the default. A
// value longer than nats.retention acts as nats.retention, which removes
// everything older.
type Retention struct {
	Approved Duration `yaml:"approved" json:"approved,omitempty"`
	Held     Duration `yaml:"held" json:"held,omitempty"`
	Rejected Duration `yaml:"rejected" json:"rejected,omitempty"`
	// Removed is for posts a moderator took off; Gone for posts taken down
	// at their source.
	Removed Duration `yaml:"removed" json:"removed,omitempty"`
	Gone    Duration `yaml:"gone" json:"gone,omitempty"`
}

// Effective returns each status's retention with defaults applied and
// capped at max (nats.retention), keyed "approved", "held", "rejected",
// "removed", "gone".
func (r Retention) Effective(max time.Duration) map[string]time.Duration {
	pick := func(v Duration, def time.Duration) time.Duration {
		d := def
		if v > 0 {
			d = v.D()
		}
		return min(d, max)
	}
	return map[string]time.Duration{
		"approved": pick(r.Approved, max),
		"held":     pick(r.Held, DefaultHeldRetention),
		"rejected": pick(r.Rejected, DefaultRejectedRetention),
		"removed":  pick(r.Removed, DefaultRemovedRetention),
		"gone":     pick(r.Gone, DefaultGoneRetention),
	}
}

// RetentionStatuses are the keys of Retention, in order.
var RetentionStatuses = []string{"approved", "held", "rejected", "removed", "gone"}

// Rights surfaces a stream may exempt from rights: the screens at the
// venue, not web pages.
var RightsSurfaces = []string{"wall", "overlay"}

// DefaultRightsRequest is the request text when a stream sets none.
const DefaultRightsRequest = "Reply {hashtag} to let us feature this"

// RightsRequired reports whether the stream shows only posts it has the
// right to use, on surface ("wall", "overlay", or "" for web pages and
// feeds).
func (s Stream) RightsRequired(surface string) bool {
	if s.Rights != "required" {
		return false
	}
	for _, e := range s.RightsExempt {
		if e == surface && surface != "" {
			return false
		}
	}
	return true
}

// ConsentHashtag is the hashtag an author's reply must carry to grant the
// rights: the stream's rights_hashtag, else "Yes" and the stream's title
// in camel case ("Chorus Summit" gives YesChorusSummit). No '#'.
func (s Stream) ConsentHashtag() string {
	if h := strings.TrimPrefix(strings.TrimSpace(s.RightsHashtag), "#"); h != "" {
		return h
	}
	var b strings.Builder
	b.WriteString("Yes")
	up := true
	title := s.Title
	if title == "" {
		title = s.ID
	}
	for _, r := range title {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
		}
		b.WriteRune(r)
		up = false
	}
	return b.String()
}

// RightsRequestText is the request to post as a reply to an author: the
// stream's rights_request (default DefaultRightsRequest) with {hashtag}
// replaced by the consent hashtag, after a mention of the author.
func (s Stream) RightsRequestText(mention string) string {
	tmpl := s.RightsRequest
	if strings.TrimSpace(tmpl) == "" {
		tmpl = DefaultRightsRequest
	}
	text := strings.ReplaceAll(tmpl, "{hashtag}", "#"+s.ConsentHashtag())
	if mention != "" {
		text = mention + " " + text
	}
	return text
}

// validatePrivacy checks a stream's retention and rights settings.
func (s *Stream) validatePrivacy(key string) []error {
	var errs []error
	bad := func(k, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: "+format, append([]any{key, k}, args...)...))
	}
	for name, d := range map[string]Duration{"approved": s.Retention.Approved, "held": s.Retention.Held,
		"rejected": s.Retention.Rejected, "removed": s.Retention.Removed, "gone": s.Retention.Gone} {
		if d != 0 && (d.D() < time.Minute || d.D() > 8784*time.Hour) {
			bad("retention."+name, "%s must be between 1m and 8784h (or left out for the default)", d)
		}
	}
	if s.Rights != "" && s.Rights != "required" {
		bad("rights", "%q must be \"required\" or left out", s.Rights)
	}
	for i, e := range s.RightsExempt {
		if !oneOf(e, RightsSurfaces...) {
			bad(fmt.Sprintf("rights_exempt[%d]", i), "%q must be one of %s (screens at the venue; web pages never are)", e, strings.Join(RightsSurfaces, ", "))
		}
	}
	if h := strings.TrimPrefix(strings.TrimSpace(s.RightsHashtag), "#"); s.RightsHashtag != "" &&
		(h == "" || strings.ContainsFunc(h, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' })) {
		bad("rights_hashtag", "%q must be one hashtag of letters, digits and '_'", s.RightsHashtag)
	}
	if s.RightsRequest != "" && !strings.Contains(s.RightsRequest, "{hashtag}") {
		bad("rights_request", "must contain {hashtag}, where the consent hashtag goes")
	}
	if len(s.RightsRequest) > 400 {
		bad("rights_request", "must be at most 400 characters (it is posted as a reply)")
	}
	return errs
}
