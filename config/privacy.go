package config

import (
	"fmt"
	"time"
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

// validatePrivacy checks a stream's retention settings.
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
	return append(errs, s.validateRights(key)...)
}
