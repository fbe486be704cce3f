// Package twitternative (source type twitter_native) reads tweets in X's
// native v1.1 JSON: newline-delimited from an HTTP stream (an enterprise
// PowerTrack stream or anything that relays one), or from a JSON-lines
// file (an archive, or a file another tool appends to). Tweets are decoded
// with github.com/dghubble/go-twitter's types; delete and withheld notices
// become takedowns.
package twitternative

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dghubble/go-twitter/twitter"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/fetch"
	"github.com/chorus-wall/chorus/connectors/x/ndjson"
	"github.com/chorus-wall/chorus/post"
)

// Settings of a twitter_native source. Exactly one of StreamURL and File is
// set. Hashtags, keywords and accounts, when set, filter locally: a tweet
// passes when it matches any of them.
type Settings struct {
	connectors.Common `yaml:",inline"`
	// StreamURL is an HTTP endpoint streaming newline-delimited native JSON.
	StreamURL string `yaml:"stream_url"`
	// File is a JSON-lines file of native tweets, read from the stored
	// offset and watched for appended lines every poll_interval.
	File string `yaml:"file"`
	// BearerToken, or BasicAuthUser and BasicAuthPassword, authenticate to
	// the stream.
	BearerToken       config.Secret `yaml:"bearer_token"`
	BasicAuthUser     config.Secret `yaml:"basic_auth_user"`
	BasicAuthPassword config.Secret `yaml:"basic_auth_password"`
	// BackfillMinutes, from 1 to 5, asks a PowerTrack stream to replay up
	// to that many minutes missed while disconnected (its backfillMinutes
	// parameter). 0, the default, asks for nothing.
	BackfillMinutes int `yaml:"backfill_minutes"`
}

// Defaults and limits.
const (
	DefaultPollInterval = 5 * time.Second
	maxBackfill         = 5
	// maxStreamBatch and maxFileBatch bound the lines one Read takes.
	maxStreamBatch = 200
	maxFileBatch   = 500
	// defaultStall is how long a silent stream is trusted: PowerTrack sends
	// a keep-alive every 10 seconds.
	defaultStall = 30 * time.Second
)

// streamCursor is the stream's resume point: when posts were last stored.
type streamCursor struct {
	LastID   string    `json:"last_id,omitempty"`
	StoredAt time.Time `json:"stored_at"`
}

// Source reads native tweets from a stream or a file.
type Source struct {
	settings Settings
	filter   filter
	key      string
	cursors  connectors.Cursors
	log      *slog.Logger
	now      func() time.Time
	skipped  prometheus.Counter
	stream   *fetch.Client
	stall    time.Duration

	// Read and its AckFuncs run one after another on the runner's
	// goroutine; these fields are theirs.
	offset  int64            // file: the stored offset
	pace    connectors.Pacer // file: when to look at it again, by the wall clock
	live    *ndjson.Stream
	since   time.Time   // stream: when everything before was stored
	pending []post.Post // stream: a batch that could not be stored

	mu      sync.Mutex
	ignored map[string]int64
}

var _ connectors.Source = (*Source)(nil)

// New builds a twitter_native source from its config; it is a
// connectors.Factory.
func New(spec config.Source, deps connectors.Deps) (connectors.Source, error) {
	var s Settings
	if err := spec.Decode(&s); err != nil {
		return nil, err
	}
	s.ID, s.Type = spec.ID, spec.Type
	if err := s.Validate(spec.Path()); err != nil {
		return nil, err
	}
	deps = deps.WithDefaults()
	key := "twitter_native." + spec.ID
	if s.StreamURL != "" {
		key += ".stream"
	}
	return &Source{
		settings: s,
		filter:   newFilter(s.Hashtags, s.Keywords, s.Accounts),
		key:      key,
		cursors:  deps.Cursors,
		log:      deps.Logger,
		now:      deps.Now,
		skipped:  deps.Skipped,
		stream:   newStreamClient(deps.UserAgent),
		stall:    defaultStall,
		ignored:  map[string]int64{},
	}, nil
}

// Validate fills defaults and checks the settings; errors name their keys
// under path, all at once.
func (s *Settings) Validate(path string) error {
	base := s.BaseURL
	s.Normalize("", DefaultPollInterval)
	s.StreamURL, s.File = strings.TrimSpace(s.StreamURL), strings.TrimSpace(s.File)
	errs := s.Common.Validate(path, false)
	if base != "" {
		errs = append(errs, fmt.Errorf("%s.base_url: not used by twitter_native; set stream_url or file", path))
	}
	switch {
	case s.StreamURL == "" && s.File == "":
		errs = append(errs, fmt.Errorf("%s: set one of stream_url and file", path))
	case s.StreamURL != "" && s.File != "":
		errs = append(errs, fmt.Errorf("%s.file: set either stream_url or file, not both", path))
	}
	if s.StreamURL != "" {
		if u, err := url.Parse(s.StreamURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("%s.stream_url: %q is not an absolute http(s) URL", path, s.StreamURL))
		}
	}
	basic := s.BasicAuthUser.IsSet() || s.BasicAuthPassword.IsSet()
	switch {
	case s.File != "" && (s.BearerToken.IsSet() || basic):
		errs = append(errs, fmt.Errorf("%s.file: a file takes no credentials; bearer_token and basic_auth_* are for stream_url", path))
	case s.BearerToken.IsSet() && basic:
		errs = append(errs, fmt.Errorf("%s.bearer_token: set either bearer_token or basic_auth_user and basic_auth_password, not both", path))
	case s.BasicAuthUser.IsSet() != s.BasicAuthPassword.IsSet():
		errs = append(errs, fmt.Errorf("%s.basic_auth_password: basic_auth_user and basic_auth_password go together", path))
	}
	if s.BackfillMinutes < 0 || s.BackfillMinutes > maxBackfill {
		errs = append(errs, fmt.Errorf("%s.backfill_minutes: %d must be between 0 and %d", path, s.BackfillMinutes, maxBackfill))
	} else if s.BackfillMinutes > 0 && s.StreamURL == "" {
		errs = append(errs, fmt.Errorf("%s.backfill_minutes: only for stream_url", path))
	}
	return errors.Join(errs...)
}

// Connect loads the cursor: the file offset, or when the stream last
// stored posts. One that cannot be read is logged and replaced by a fresh
// start.
func (s *Source) Connect(ctx context.Context) error {
	s.offset, s.since, s.pending = 0, time.Time{}, nil
	s.pace.Schedule(time.Time{})
	if s.cursors == nil {
		return nil
	}
	raw, err := s.cursors.Get(ctx, s.key)
	if err != nil {
		return fmt.Errorf("twitter_native: load cursor %s: %w", s.key, err)
	}
	if len(raw) == 0 {
		return nil
	}
	if s.settings.StreamURL != "" {
		var c streamCursor
		if err := json.Unmarshal(raw, &c); err != nil {
			s.log.Warn("twitter_native: unreadable cursor; starting afresh", "key", s.key, "cursor", string(raw))
			return nil
		}
		s.since = c.StoredAt
		return nil
	}
	off, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || off < 0 {
		s.log.Warn("twitter_native: unreadable cursor; reading the file from the start", "key", s.key, "cursor", string(raw))
		return nil
	}
	s.offset = off
	return nil
}

// Read takes the next batch: the stream's waiting messages, or the file's
// new lines (waiting poll_interval between looks, none while a backlog is
// read).
func (s *Source) Read(ctx context.Context) ([]post.Post, connectors.AckFunc, error) {
	if s.settings.StreamURL != "" {
		return s.readStream(ctx)
	}
	return s.readFile(ctx)
}

// Close ends the stream connection, if any.
func (s *Source) Close(context.Context) error {
	s.closeStream()
	return nil
}

// Ignored counts what the source read and dropped, by kind: the stream's
// notices (limit, scrub_geo, warning, user_withheld, disconnect, unknown)
// and tweets the local filter did not pass (filtered).
func (s *Source) Ignored() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.ignored)
}

func (s *Source) ignore(kind string) {
	s.mu.Lock()
	s.ignored[kind]++
	s.mu.Unlock()
}

func (s *Source) readFile(ctx context.Context) ([]post.Post, connectors.AckFunc, error) {
	if err := s.pace.Wait(ctx); err != nil {
		return nil, nil, err
	}
	c, err := readFile(s.settings.File, s.offset, maxFileBatch, s.skipped.Inc)
	if err != nil {
		return nil, nil, err
	}
	if c.restarted {
		s.log.Warn("twitter_native: the file no longer fits the stored offset (shrunk or replaced); reading it from the start", "file", s.settings.File, "offset", s.offset)
	}
	posts, _ := s.adapt(c.lines)
	var wait time.Duration // the rest of a long file is read at once
	if !c.more {
		wait = s.settings.PollInterval
	}
	s.pace.After(wait)
	end := c.end
	return posts, func(ctx context.Context, err error) error {
		if err != nil || end == s.offset {
			return nil
		}
		if s.cursors != nil {
			if err := s.cursors.Put(ctx, s.key, []byte(strconv.FormatInt(end, 10))); err != nil {
				return fmt.Errorf("twitter_native: save cursor %s: %w", s.key, err)
			}
		}
		s.offset = end
		return nil
	}, nil
}

func (s *Source) readStream(ctx context.Context) ([]post.Post, connectors.AckFunc, error) {
	if posts := s.pending; posts != nil {
		s.pending = nil
		return posts, s.streamAck(posts), nil
	}
	if s.live == nil {
		var gap time.Duration
		if !s.since.IsZero() {
			gap = time.Since(s.since)
		}
		resp, err := s.openStream(ctx, gap)
		if err != nil {
			return nil, nil, err
		}
		s.live = ndjson.Open(resp.Body, s.stall, s.skipped.Inc)
		if s.since.IsZero() {
			s.since = time.Now()
		}
	}
	lines, err := s.live.Next(ctx, maxStreamBatch)
	if err != nil {
		s.closeStream()
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, fmt.Errorf("twitter_native: stream: %w", err)
	}
	posts, disconnect := s.adapt(lines)
	if disconnect {
		s.log.Warn("twitter_native: the stream sent a disconnect message; reconnecting")
		s.closeStream()
	}
	return posts, s.streamAck(posts), nil
}

// streamAck remembers when posts were stored, for a reconnect's backfill.
// A batch that could not be stored is kept and returned again by the next
// Read, since a stream cannot be asked for it twice.
func (s *Source) streamAck(posts []post.Post) connectors.AckFunc {
	return func(ctx context.Context, err error) error {
		if err != nil {
			s.pending = posts
			return nil
		}
		if len(posts) == 0 {
			return nil
		}
		c := streamCursor{StoredAt: time.Now().UTC()}
		for _, p := range posts {
			if !p.Deleted {
				c.LastID = strings.TrimPrefix(p.ID, Network+":")
			}
		}
		s.since = c.StoredAt
		if err := connectors.StoreCursor(ctx, s.cursors, s.key, c); err != nil {
			return fmt.Errorf("twitter_native: save cursor %s: %w", s.key, err)
		}
		return nil
	}
}

func (s *Source) closeStream() {
	if s.live != nil {
		s.live.Close()
		s.live = nil
	}
}

// adapt turns lines into posts, skipping (and counting) what cannot be
// read, counting notices and what the filter drops. It reports whether the
// stream asked to be disconnected.
func (s *Source) adapt(lines [][]byte) ([]post.Post, bool) {
	var posts []post.Post
	disconnect := false
	now := s.now()
	for _, line := range lines {
		m, err := Parse(line)
		if err != nil {
			s.skip(err)
			continue
		}
		if odd := m.Odd(); odd != nil {
			s.log.Debug("twitter_native: kept an item with a field it could not read", "err", odd)
		}
		p, notice, err := Adapt(m, s.settings.ID, now)
		switch {
		case err != nil:
			s.skip(err)
		case notice != "":
			s.ignore(notice)
			s.logNotice(m, notice)
			disconnect = disconnect || notice == NoticeDisconnect
		case !p.Deleted && !s.filter.pass(&p, poster(m)):
			s.ignore("filtered")
		default:
			posts = append(posts, p)
		}
	}
	return posts, disconnect
}

func (s *Source) skip(err error) {
	s.skipped.Inc()
	s.log.Warn("twitter_native: skipped an item", "err", err)
}

func (s *Source) logNotice(m *Message, notice string) {
	switch notice {
	case NoticeLimit:
		s.log.Info("twitter_native: the stream withheld matching tweets over its rate (limit notice)", "undelivered", m.Limit.Track)
	case NoticeWarning:
		s.log.Warn("twitter_native: stall warning from the stream", "code", m.Warning.Code, "message", m.Warning.Message, "percent_full", m.Warning.PercentFull)
	case NoticeDisconnect:
		s.log.Warn("twitter_native: disconnect message", "code", m.Disconnect.Code, "reason", m.Disconnect.Reason)
	default:
		s.log.Debug("twitter_native: notice ignored", "kind", notice)
	}
}

// poster is the account that posted m (the retweeter of a retweet).
func poster(m *Message) *twitter.User {
	if m.Archived != nil && m.IDStr == "" && m.ID == 0 {
		return m.Archived.User
	}
	return m.User
}

// filter passes the tweets that match the settings' hashtags, keywords or
// accounts; with none set it passes every tweet.
type filter struct {
	hashtags map[string]bool
	keywords []string
	accounts map[string]bool
}

func newFilter(hashtags, keywords, accounts []string) filter {
	f := filter{hashtags: map[string]bool{}, accounts: map[string]bool{}}
	for _, h := range hashtags {
		f.hashtags[strings.ToLower(h)] = true
	}
	for _, k := range keywords {
		f.keywords = append(f.keywords, strings.ToLower(k))
	}
	for _, a := range accounts {
		f.accounts[strings.ToLower(a)] = true
	}
	return f
}

func (f filter) pass(p *post.Post, by *twitter.User) bool {
	if len(f.hashtags)+len(f.keywords)+len(f.accounts) == 0 {
		return true
	}
	for _, h := range p.Hashtags {
		if f.hashtags[strings.ToLower(h)] {
			return true
		}
	}
	if f.accounts[strings.ToLower(p.Author.Handle)] || f.accounts[p.Author.ID] {
		return true
	}
	if by != nil && (f.accounts[strings.ToLower(by.ScreenName)] || f.accounts[by.IDStr]) {
		return true
	}
	if len(f.keywords) == 0 {
		return false
	}
	text := strings.ToLower(p.Text)
	for _, k := range f.keywords {
		if containsWord(text, k) {
			return true
		}
	}
	return false
}

// containsWord reports whether k occurs in text as a whole word or phrase;
// in scripts written without spaces (Chinese, Japanese, Thai) any
// occurrence counts.
func containsWord(text, k string) bool {
	if k == "" {
		return false
	}
	spaced := !strings.ContainsFunc(k, func(r rune) bool {
		return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)
	})
	for i := 0; i <= len(text)-len(k); {
		j := strings.Index(text[i:], k)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(k)
		if !spaced || (boundary(text[:start], true) && boundary(text[end:], false)) {
			return true
		}
		i = start + 1
	}
	return false
}

// boundary reports whether s ends (before) or starts (after) outside a word.
func boundary(s string, before bool) bool {
	if s == "" {
		return true
	}
	var r rune
	if before {
		r, _ = utf8.DecodeLastRuneInString(s)
	} else {
		r, _ = utf8.DecodeRuneInString(s)
	}
	return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_')
}
