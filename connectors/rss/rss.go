// Package rss is the source of web feeds: RSS 2.0, Atom 1.0 and JSON Feed
// 1.1, read with github.com/mmcdole/gofeed. Each poll fetches every feed
// with a conditional GET and publishes the items it has not published yet.
package rss

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/fetch"
	"github.com/chorus-wall/chorus/post"
)

// Settings of an rss source.
type Settings struct {
	connectors.Common `yaml:",inline"`
	// Feeds are the feed URLs to read (RSS, Atom or JSON Feed). Required.
	Feeds []string `yaml:"feeds"`
	// TextLimit is the longest text in code points, "…" included; longer
	// texts are cut at a word (default 1000, 100 to 5000).
	TextLimit int `yaml:"text_limit"`
	// Compliance: how often the items shown are checked again.
	connectors.Compliance `yaml:",inline"`
}

// Defaults and limits.
const (
	DefaultPollInterval = 5 * time.Minute
	DefaultTextLimit    = 1000
	// seenLimit bounds the item ids remembered per feed (at least every
	// item of the last document is kept, however many).
	seenLimit = 500
	// parallel bounds the feeds fetched at once.
	parallel = 4
	maxFeeds = 200
)

// Source polls a list of feeds.
type Source struct {
	settings Settings
	feeds    []*feed
	cursors  connectors.Cursors
	log      *slog.Logger
	now      func() time.Time
	skipped  prometheus.Counter
	pace     connectors.Pacer // the next poll; at once at first
}

var _ connectors.Source = (*Source)(nil)

// feed is one feed URL with its client and its committed cursor.
type feed struct {
	url    string
	key    string // cursor key
	client *fetch.Client

	mu     sync.Mutex
	cursor feedCursor
}

// feedCursor is what a feed's cursor holds: the validators of the last
// fetch for the conditional GET, and the ids of the items already seen,
// newest document order first. Items are recognised by id, not by date,
// so feeds without dates and feeds that reorder their items are read
// exactly once.
type feedCursor struct {
	ETag         string   `json:"etag,omitempty"`
	LastModified string   `json:"last_modified,omitempty"`
	Seen         []string `json:"seen,omitempty"`
}

// New builds an rss source from its config; it is a connectors.Factory.
func New(spec config.Source, deps connectors.Deps) (connectors.Source, error) {
	s := Settings{TextLimit: DefaultTextLimit}
	if err := spec.Decode(&s); err != nil {
		return nil, err
	}
	s.ID, s.Type = spec.ID, spec.Type
	path := spec.Path()
	var errs []error
	if s.BaseURL != "" {
		errs = append(errs, fmt.Errorf("%s.base_url: not used by rss sources; list the feed URLs under feeds", path))
	}
	if len(s.Accounts) > 0 {
		errs = append(errs, fmt.Errorf("%s.accounts: not used by rss sources; list the feed URLs under feeds", path))
	}
	s.Common.Normalize("", DefaultPollInterval)
	s.Compliance.Normalize(complianceRate, 1)
	errs = append(errs, s.Common.Validate(path, false)...)
	errs = append(errs, s.Compliance.Validate(path)...)
	if len(s.Feeds) == 0 {
		errs = append(errs, fmt.Errorf("%s.feeds: is required: list at least one feed URL", path))
	}
	if len(s.Feeds) > maxFeeds {
		errs = append(errs, fmt.Errorf("%s.feeds: %d feeds, at most %d in one source", path, len(s.Feeds), maxFeeds))
	}
	seen := map[string]bool{}
	for i, f := range s.Feeds {
		if err := checkFeedURL(f); err != nil {
			errs = append(errs, fmt.Errorf("%s.feeds[%d]: %w", path, i, err))
		}
		if seen[f] {
			errs = append(errs, fmt.Errorf("%s.feeds[%d]: %q is listed twice", path, i, f))
		}
		seen[f] = true
	}
	if s.TextLimit < 100 || s.TextLimit > post.MaxTextRunes {
		errs = append(errs, fmt.Errorf("%s.text_limit: %d must be between 100 and %d", path, s.TextLimit, post.MaxTextRunes))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	deps = deps.WithDefaults()
	src := &Source{settings: s, cursors: deps.Cursors, log: deps.Logger, now: deps.Now, skipped: deps.Skipped, pace: connectors.Pacer{Now: deps.Now}}
	for _, u := range s.Feeds {
		// One client per feed: a feed's 429 blocks only that feed's host.
		c := fetch.New(Network, deps.UserAgent)
		c.Now = deps.Now
		src.feeds = append(src.feeds, &feed{url: u, key: CursorKey(s.ID, u), client: c})
	}
	return src, nil
}

// CursorKey is where the cursor of feedURL in source id is stored:
// rss.<id>.<first 16 hex digits of the SHA-256 of the URL>.
func CursorKey(id, feedURL string) string {
	sum := sha256.Sum256([]byte(feedURL))
	return "rss." + id + "." + hex.EncodeToString(sum[:8])
}

func checkFeedURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	return nil
}

// Settings returns the source's settings after defaults.
func (s *Source) Settings() Settings { return s.settings }

// Connect loads every feed's cursor. An unreadable cursor is logged and
// replaced by a fresh start: the bus drops the repeats by id.
func (s *Source) Connect(ctx context.Context) error {
	for _, f := range s.feeds {
		if s.cursors == nil {
			continue
		}
		var c feedCursor
		unreadable, err := connectors.LoadCursor(ctx, s.cursors, f.key, &c)
		if err != nil {
			return fmt.Errorf("rss: load cursor %s: %w", f.key, err)
		}
		if unreadable != nil {
			s.log.Warn("rss: unreadable cursor; reading the feed afresh", "key", f.key, "err", unreadable)
			c = feedCursor{}
		}
		f.mu.Lock()
		f.cursor = c
		f.mu.Unlock()
	}
	return nil
}

// Close releases nothing: every fetch ends with its Read.
func (s *Source) Close(context.Context) error { return nil }

// polled is the outcome of one feed's poll.
type polled struct {
	feed   *feed
	posts  []post.Post
	cursor feedCursor
	err    error
}

// Read waits until the next poll is due (the first Read polls at once),
// fetches every feed and returns the items not seen before, each feed's
// oldest first. A feed that fails is logged and left for the next poll;
// when every feed fails, Read returns the error.
func (s *Source) Read(ctx context.Context) ([]post.Post, connectors.AckFunc, error) {
	if err := s.pace.Wait(ctx); err != nil {
		return nil, nil, err
	}
	s.pace.After(s.settings.PollInterval) // from this poll's start, whatever its outcome
	results := make([]polled, len(s.feeds))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for i, f := range s.feeds {
		g.Go(func() error {
			results[i] = s.poll(gctx, f)
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var posts []post.Post
	var errs []error
	for _, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
			if len(s.feeds) > 1 {
				s.log.Warn("rss: feed failed; other feeds go on", "feed", r.feed.url, "err", r.err)
			}
			continue
		}
		posts = append(posts, r.posts...)
	}
	if len(errs) == len(s.feeds) {
		if len(errs) == 1 {
			return nil, nil, errs[0]
		}
		return nil, nil, errors.Join(errs...)
	}
	return posts, s.ack(results), nil
}

// ack commits the new cursors of the feeds that were read, once their
// posts are stored; on failure nothing moves and the next poll reads the
// same items again.
func (s *Source) ack(results []polled) connectors.AckFunc {
	return func(ctx context.Context, err error) error {
		if err != nil {
			return nil
		}
		var errs []error
		for _, r := range results {
			if r.err != nil {
				continue
			}
			r.feed.mu.Lock()
			changed := !slices.Equal(r.feed.cursor.Seen, r.cursor.Seen) || r.feed.cursor.ETag != r.cursor.ETag || r.feed.cursor.LastModified != r.cursor.LastModified
			r.feed.cursor = r.cursor
			r.feed.mu.Unlock()
			if !changed {
				continue
			}
			if perr := connectors.StoreCursor(ctx, s.cursors, r.feed.key, r.cursor); perr != nil {
				errs = append(errs, fmt.Errorf("rss: store cursor %s: %w", r.feed.key, perr))
			}
		}
		return errors.Join(errs...)
	}
}

// poll fetches one feed and keeps the items it has not seen.
func (s *Source) poll(ctx context.Context, f *feed) polled {
	f.mu.Lock()
	cur := f.cursor
	f.mu.Unlock()
	res := polled{feed: f, cursor: cur}
	got, err := get(ctx, f.client, f.url, cur.ETag, cur.LastModified)
	if err != nil {
		res.err = err
		return res
	}
	if got.notModified {
		return res
	}
	parsed, err := parseFeed(got.body)
	if err != nil {
		s.skipped.Inc()
		res.err = fmt.Errorf("rss: %s: %w", f.url, err)
		return res
	}
	now := s.now()
	entries := adaptFeed(f.url, parsed, adaptOptions{source: s.settings.ID, textLimit: s.settings.TextLimit}, now)
	seen := make(map[string]bool, len(cur.Seen))
	for _, k := range cur.Seen {
		seen[k] = true
	}
	var fresh []entry
	current := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.key != "" && !slices.Contains(current, e.key) {
			current = append(current, e.key)
		}
		if e.key != "" && seen[e.key] {
			continue
		}
		if e.err != nil {
			s.skipped.Inc()
			s.log.Warn("rss: skipped an item", "feed", f.url, "err", e.err)
			continue
		}
		if !matches(&e.post, e.categories, s.settings.Keywords, s.settings.Hashtags) {
			continue
		}
		seen[e.key] = true
		fresh = append(fresh, e)
	}
	// Oldest first: by date when every item has one, else in reverse
	// document order (feeds list their newest first).
	slices.Reverse(fresh)
	if !slices.ContainsFunc(fresh, func(e entry) bool { return !e.dated }) {
		slices.SortStableFunc(fresh, func(a, b entry) int {
			return cmp.Compare(a.post.CreatedAt.UnixNano(), b.post.CreatedAt.UnixNano())
		})
	}
	for _, e := range fresh {
		res.posts = append(res.posts, e.post)
	}
	res.cursor = feedCursor{ETag: got.etag, LastModified: got.lastModified, Seen: remember(current, cur.Seen)}
	return res
}

// remember is the new seen list: every item of the current document, then
// the older ids, up to seenLimit (or the document's size, when larger).
func remember(current, old []string) []string {
	limit := max(seenLimit, len(current))
	out := make([]string, 0, min(limit, len(current)+len(old)))
	in := make(map[string]bool, len(current))
	for _, k := range current {
		in[k] = true
		out = append(out, k)
	}
	for _, k := range old {
		if len(out) >= limit {
			break
		}
		if !in[k] {
			in[k] = true
			out = append(out, k)
		}
	}
	return out
}
