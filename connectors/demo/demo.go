// Package demo is a source of invented posts: a lively, multilingual stream
// about a fictional event, "Chorus Live", so that a newcomer who runs Chorus
// with no accounts or credentials sees a wall filling up. Everything it
// produces is made up; its images are drawn by MediaHandler, its links point
// at the reserved .example domain. A share of its posts is spam or offensive,
// to show curation at work: the demo stream blocks BlockedWords.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/post"
)

// Settings of a demo source.
type Settings struct {
	config.SourceBase `yaml:",inline"`
	// Rate is the average number of posts per second, in (0, 1000]
	// (default 0.5).
	Rate float64 `yaml:"rate"`
	// Burst is how many posts a fresh start publishes at once, spread over
	// the last few minutes, so the wall is full from the first second;
	// 0 to 500 (default 24).
	Burst int `yaml:"burst"`
	// Seed chooses the stream: the same seed gives the same posts (default 1).
	Seed int64 `yaml:"seed"`
	// SpamShare is the fraction of spam, in [0, 0.5] (default 0.08).
	SpamShare float64 `yaml:"spam_share"`
	// OffensiveShare is the fraction of offensive posts, in [0, 0.5]
	// (default 0.08).
	OffensiveShare float64 `yaml:"offensive_share"`
}

// DefaultSettings are the settings of a demo source that sets none.
func DefaultSettings() Settings {
	return Settings{Rate: 0.5, Burst: 24, Seed: 1, SpamShare: 0.08, OffensiveShare: 0.08}
}

// Validate checks the settings; errors name their key under path (for
// example sources[0].rate).
func (s Settings) Validate(path string) error {
	var errs []error
	if !(s.Rate > 0 && s.Rate <= maxRate) {
		errs = append(errs, fmt.Errorf("%s.rate: must be between 0 (excluded) and %d posts per second, got %v", path, maxRate, s.Rate))
	}
	if s.Burst < 0 || s.Burst > maxBurst {
		errs = append(errs, fmt.Errorf("%s.burst: must be between 0 and %d, got %d", path, maxBurst, s.Burst))
	}
	if !(s.SpamShare >= 0 && s.SpamShare <= maxShare) {
		errs = append(errs, fmt.Errorf("%s.spam_share: must be between 0 and %v, got %v", path, maxShare, s.SpamShare))
	}
	if !(s.OffensiveShare >= 0 && s.OffensiveShare <= maxShare) {
		errs = append(errs, fmt.Errorf("%s.offensive_share: must be between 0 and %v, got %v", path, maxShare, s.OffensiveShare))
	}
	return errors.Join(errs...)
}

// Limits of the settings and of one Read.
const (
	maxRate  = 1000
	maxBurst = 500
	maxShare = 0.5
	// maxBatch bounds the posts one Read returns; a backlog beyond it is
	// dropped rather than carried, so a stalled bus does not cause a flood.
	maxBatch = 100
	// minTick is the shortest wait between Reads; higher rates batch.
	minTick = 100 * time.Millisecond
	// burstSpread is how far back the posts of a fresh start's burst go.
	burstSpread = 3 * time.Minute
)

// Source publishes generated posts at a steady rate. Its cursor, stored
// under demo.<id>, is the number of posts already published, so a restart
// continues the numbering and ids never collide.
type Source struct {
	settings Settings
	gen      Generator
	cursors  connectors.Cursors
	key      string
	now      func() time.Time
	log      *slog.Logger
	tick     time.Duration
	perTick  float64

	mu        sync.Mutex
	next      int64 // first sequence number of the next Read
	committed int64 // sequence numbers below this are published
	ticker    *time.Ticker
	last      time.Time // when the ticker last fired (monotonic)
	credit    float64   // posts owed but not yet returned, below one
}

var _ connectors.Source = (*Source)(nil)

// New builds a demo source from its config; it is a connectors.Factory.
func New(spec config.Source, deps connectors.Deps) (connectors.Source, error) {
	s := DefaultSettings()
	if err := spec.Decode(&s); err != nil {
		return nil, err
	}
	if err := s.Validate(spec.Path()); err != nil {
		return nil, err
	}
	s.ID, s.Type = spec.ID, spec.Type
	deps = deps.WithDefaults()
	// A day bounds the wait of a vanishingly small rate; the credit below
	// still honours the rate on average.
	interval := time.Duration(min(1/s.Rate, 86400) * float64(time.Second))
	tick := max(interval, minTick)
	return &Source{
		settings: s,
		gen:      Generator{SourceID: spec.ID, Seed: s.Seed, SpamShare: s.SpamShare, OffensiveShare: s.OffensiveShare},
		cursors:  deps.Cursors,
		key:      "demo." + spec.ID,
		now:      deps.Now,
		log:      deps.Logger,
		tick:     tick,
		perTick:  s.Rate * tick.Seconds(),
	}, nil
}

// Settings returns the source's settings after defaults.
func (s *Source) Settings() Settings { return s.settings }

// Connect loads the cursor. A missing cursor is a fresh start; one that
// cannot be read as a count is logged and replaced by a fresh start, since
// the demo's posts are worth less than a source that never starts.
func (s *Source) Connect(ctx context.Context) error {
	var seq int64
	if s.cursors != nil {
		raw, err := s.cursors.Get(ctx, s.key)
		if err != nil {
			return fmt.Errorf("demo: load cursor %s: %w", s.key, err)
		}
		if raw != nil {
			if seq, err = parseCursor(raw); err != nil {
				s.log.Warn("demo: unreadable cursor; starting afresh", "key", s.key, "err", err)
				seq = 0
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next, s.committed = seq, seq
	return nil
}

// Read returns the next posts: on a fresh start the burst at once, then
// what the rate has accrued at the next tick (at most maxBatch). It returns
// ctx's error as soon as ctx ends.
func (s *Source) Read(ctx context.Context) ([]post.Post, connectors.AckFunc, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	start := s.next
	s.mu.Unlock()
	burst := start == 0 && s.settings.Burst > 0
	n := s.settings.Burst
	if !burst {
		var err error
		if n, err = s.wait(ctx); err != nil {
			return nil, nil, err
		}
	}
	now := s.now()
	posts := make([]post.Post, 0, n)
	for i := range n {
		p := s.gen.Post(start+int64(i), now)
		if burst {
			// Oldest first, the newest a moment ago.
			p.CreatedAt = p.CreatedAt.Add(-burstSpread * time.Duration(n-1-i) / time.Duration(n))
		}
		posts = append(posts, p)
	}
	end := start + int64(n)
	s.mu.Lock()
	s.next = end
	s.mu.Unlock()
	return posts, s.ack(start, end), nil
}

// ack commits [start, end) once the posts are stored. After a failure the
// next Read generates the same sequence numbers again: same ids, deduped.
func (s *Source) ack(start, end int64) connectors.AckFunc {
	return func(ctx context.Context, err error) error {
		if err != nil {
			s.mu.Lock()
			if s.next == end {
				s.next = start
			}
			s.mu.Unlock()
			return nil
		}
		s.mu.Lock()
		s.committed = max(s.committed, end)
		s.mu.Unlock()
		if s.cursors == nil {
			return nil
		}
		if err := s.cursors.Put(ctx, s.key, []byte(strconv.FormatInt(end, 10))); err != nil {
			return fmt.Errorf("demo: store cursor %s: %w", s.key, err)
		}
		return nil
	}
}

// wait blocks until the next tick and returns how many posts have accrued
// since the last one (at least one).
func (s *Source) wait(ctx context.Context) (int, error) {
	s.mu.Lock()
	if s.ticker == nil {
		s.ticker = time.NewTicker(s.tick)
		s.last = time.Now()
	}
	ticks := s.ticker.C
	s.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case t := <-ticks:
			s.mu.Lock()
			// Ticks missed while the runner was busy count too.
			k := max(math.Round(float64(t.Sub(s.last))/float64(s.tick)), 1)
			s.last = t
			s.credit += k * s.perTick
			n := int(s.credit + 1e-9)
			s.credit -= float64(n)
			if n > maxBatch {
				n, s.credit = maxBatch, 0
			}
			s.mu.Unlock()
			if n > 0 {
				return n, nil
			}
		}
	}
}

// Close stops the ticker.
func (s *Source) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ticker != nil {
		s.ticker.Stop()
		s.ticker = nil
	}
	return nil
}

// parseCursor reads a stored cursor: decimal text ("42"), a JSON number or
// string, or a JSON object {"seq": 42}.
func parseCursor(raw []byte) (int64, error) {
	text := strings.TrimSpace(string(raw))
	if strings.HasPrefix(text, "{") {
		var c struct {
			Seq json.Number `json:"seq"`
		}
		if err := json.Unmarshal([]byte(text), &c); err != nil {
			return 0, fmt.Errorf("cursor %q: %w", text, err)
		}
		text = c.Seq.String()
	} else if unq, err := strconv.Unquote(text); err == nil {
		text = unq
	}
	seq, err := strconv.ParseInt(text, 10, 64)
	if err != nil || seq < 0 {
		return 0, fmt.Errorf("cursor %q is not a count of posts", string(raw))
	}
	return seq, nil
}
