package connectors

import (
	"context"
	"fmt"
	"time"

	"github.com/chorus-wall/chorus/post"
)

// Checker is a polled source that can ask its network again whether posts
// it fetched still stand: networks polled for posts (Mastodon without
// streaming, Reddit, RSS) send no deletion notices, so the compliance sweep
// asks.
type Checker interface {
	// Compliance is how often and how fast the source's posts are checked.
	Compliance() Compliance
	// Check asks the network about posts of this source as they are shown
	// (at most Compliance().Batch of them) with one request, or one per
	// post for networks without a batch lookup, and says where each
	// stands. An error means the network could not answer: nothing is
	// taken down for it.
	Check(ctx context.Context, posts []post.Post) ([]Standing, error)
}

// Standing is what a network said about a post Chorus shows.
type Standing struct {
	ID string
	// Gone is post.GoneDeleted, GonePrivate or GoneSensitive when the post
	// no longer stands as it was shown, "" when it does.
	Gone string
	// Unknown is set when the network could not say (the post is on a
	// server the source cannot ask): the post is counted, not taken down.
	Unknown bool
	// Edit is the post's new version when its author edited it since it
	// was fetched: curation judges it again.
	Edit *post.Post
}

// Compliance are a polled source's compliance sweep settings; embed them
// in its settings with `yaml:",inline"`.
type Compliance struct {
	// ComplianceInterval is how often the posts are checked again (default
	// 1h): at most this long, a post deleted at its source stays on screen.
	ComplianceInterval time.Duration `yaml:"compliance_interval"`
	// ComplianceWindow is how far back approved posts are checked, besides
	// those on a screen now (default 24h).
	ComplianceWindow time.Duration `yaml:"compliance_window"`
	// CompliancePerMinute bounds the requests one sweep makes per minute,
	// within the network's rate limit (each network has a default).
	CompliancePerMinute int `yaml:"compliance_per_minute"`
	// Batch is how many ids one request checks (set by the source).
	Batch int `yaml:"-"`
}

// Compliance defaults and limits.
const (
	DefaultComplianceInterval = time.Hour
	DefaultComplianceWindow   = 24 * time.Hour
	MinComplianceInterval     = time.Minute
	MaxComplianceWindow       = 30 * 24 * time.Hour
)

// Normalize fills the defaults: perMinute is the network's.
func (c *Compliance) Normalize(perMinute, batch int) {
	if c.ComplianceInterval == 0 {
		c.ComplianceInterval = DefaultComplianceInterval
	}
	if c.ComplianceWindow == 0 {
		c.ComplianceWindow = DefaultComplianceWindow
	}
	if c.CompliancePerMinute == 0 {
		c.CompliancePerMinute = perMinute
	}
	c.Batch = max(batch, 1)
}

// Validate names what is wrong with the settings at path.
func (c *Compliance) Validate(path string) []error {
	var errs []error
	if c.ComplianceInterval < MinComplianceInterval || c.ComplianceInterval > 24*time.Hour {
		errs = append(errs, fmt.Errorf("%s.compliance_interval: %s must be between %s and 24h", path, c.ComplianceInterval, MinComplianceInterval))
	}
	if c.ComplianceWindow < time.Hour || c.ComplianceWindow > MaxComplianceWindow {
		errs = append(errs, fmt.Errorf("%s.compliance_window: %s must be between 1h and 720h", path, c.ComplianceWindow))
	}
	if c.CompliancePerMinute < 1 || c.CompliancePerMinute > 6000 {
		errs = append(errs, fmt.Errorf("%s.compliance_per_minute: %d must be between 1 and 6000", path, c.CompliancePerMinute))
	}
	return errs
}
