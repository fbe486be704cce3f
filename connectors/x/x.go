// Package x is the source of posts from X through API v2: recent search
// polled with since_id, or the filtered stream with its rules kept in step
// with the settings and every reconnect backfilled by a search from the
// cursor.
package x

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/x/ndjson"
	"github.com/chorus-wall/chorus/connectors/x/xtext"
	"github.com/chorus-wall/chorus/post"
)

// Settings of an x source.
type Settings struct {
	connectors.Common `yaml:",inline"`
	// BearerToken is the X app's bearer token (required).
	BearerToken config.Secret `yaml:"bearer_token"`
	// IncludeReposts keeps reposts; by default the query excludes them
	// with -is:retweet.
	IncludeReposts bool `yaml:"include_reposts"`
	// Stream uses the filtered stream instead of polling recent search.
	Stream bool `yaml:"stream"`
	// MaxPages bounds the search pages one poll follows (default 10); a
	// longer backlog is caught up over the following polls.
	MaxPages int `yaml:"max_pages"`
	// MaxQueryLength is the longest query (and stream rule) the X plan
	// accepts (default 512).
	MaxQueryLength int `yaml:"max_query_length"`
}

// Defaults and limits of the settings.
const (
	DefaultBaseURL      = "https://api.x.com"
	DefaultPollInterval = 30 * time.Second
	DefaultMaxPages     = 10
	DefaultMaxQuery     = 512
	maxMaxPages         = 100
	maxMaxQuery         = 4096
)

const (
	// searchWindow is how far back recent search reaches.
	searchWindow = 7 * 24 * time.Hour
	// backfillOverlap is how far before the newest streamed post a
	// reconnect's backfill starts: the stream and search may deliver posts
	// slightly out of id order, and the bus absorbs the repeats.
	backfillOverlap = time.Minute
	// twitterEpoch is the Unix time in milliseconds X ids count from.
	twitterEpoch = 1288834974657
	// maxBatch bounds the stream messages one Read takes.
	maxBatch = 200
	// defaultStall is how long a silent stream connection is trusted: X
	// sends a keep-alive every 20 seconds.
	defaultStall = 30 * time.Second
)

// handleRE is what X accepts as a username.
var handleRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,15}$`)

// cursorState is the resume point stored under x.<source id>. Every post
// with an id up to SinceID is stored. While a backlog longer than max_pages
// is caught up, UntilID and NewestID are set as well: the posts from UntilID
// to NewestID are stored and those between SinceID and UntilID are next.
type cursorState struct {
	SinceID  string `json:"since_id,omitempty"`
	UntilID  string `json:"until_id,omitempty"`
	NewestID string `json:"newest_id,omitempty"`
}

// Source gathers posts from X API v2.
type Source struct {
	settings Settings
	query    string
	tag      string
	key      string
	cli      *client
	cursors  connectors.Cursors
	log      *slog.Logger
	now      func() time.Time
	skipped  prometheus.Counter
	stall    time.Duration

	// Read and the AckFuncs it returns run one after another on the
	// runner's goroutine; the fields below are theirs alone.
	state    cursorState
	pace     connectors.Pacer // polls, by the wall clock
	live     *ndjson.Stream
	backfill bool
	ruleIDs  map[string]bool
}

var _ connectors.Source = (*Source)(nil)

// New builds an x source from its config; it is a connectors.Factory.
func New(spec config.Source, deps connectors.Deps) (connectors.Source, error) {
	s := Settings{MaxPages: DefaultMaxPages, MaxQueryLength: DefaultMaxQuery}
	if err := spec.Decode(&s); err != nil {
		return nil, err
	}
	s.ID, s.Type = spec.ID, spec.Type
	s.Normalize(DefaultBaseURL, DefaultPollInterval)
	query, err := s.Validate(spec.Path())
	if err != nil {
		return nil, err
	}
	deps = deps.WithDefaults()
	return &Source{
		settings: s,
		query:    query,
		tag:      "chorus:" + spec.ID,
		key:      "x." + spec.ID,
		cli:      newClient(s.BaseURL, s.BearerToken.Reveal(), deps.UserAgent),
		cursors:  deps.Cursors,
		log:      deps.Logger,
		now:      deps.Now,
		skipped:  deps.Skipped,
		stall:    defaultStall,
	}, nil
}

// Validate checks the settings after Normalize and returns the search query
// they make; errors name their keys under path, all at once.
func (s *Settings) Validate(path string) (string, error) {
	errs := s.Common.Validate(path, true)
	if !s.BearerToken.IsSet() {
		errs = append(errs, fmt.Errorf("%s.bearer_token: is required (the X app's bearer token)", path))
	}
	for i, h := range s.Hashtags {
		if strings.ContainsFunc(h, func(r rune) bool { return unicode.IsSpace(r) || r == '#' || r == '"' }) {
			errs = append(errs, fmt.Errorf("%s.hashtags[%d]: %q must be one word without '#', spaces or quotes", path, i, h))
		}
	}
	for i, a := range s.Accounts {
		if !handleRE.MatchString(a) {
			errs = append(errs, fmt.Errorf("%s.accounts[%d]: %q is not an X username (1 to 15 letters, digits or '_')", path, i, a))
		}
	}
	if s.MaxPages < 1 || s.MaxPages > maxMaxPages {
		errs = append(errs, fmt.Errorf("%s.max_pages: %d must be between 1 and %d", path, s.MaxPages, maxMaxPages))
	}
	if s.MaxQueryLength < 64 || s.MaxQueryLength > maxMaxQuery {
		errs = append(errs, fmt.Errorf("%s.max_query_length: %d must be between 64 and %d", path, s.MaxQueryLength, maxMaxQuery))
	}
	query := Query(s.Hashtags, s.Keywords, s.Accounts, s.IncludeReposts)
	if n := utf8.RuneCountInString(query); n > s.MaxQueryLength && s.MaxQueryLength >= 64 {
		errs = append(errs, fmt.Errorf("%s.max_query_length: the query made from hashtags, keywords and accounts has %d characters, more than %d; split them over several sources, or raise max_query_length if the X plan allows longer queries", path, n, s.MaxQueryLength))
	}
	return query, errors.Join(errs...)
}

// Query is the search query (and stream rule) for the settings: hashtags,
// quoted keywords and from: accounts joined with OR, and -is:retweet unless
// reposts are wanted.
func Query(hashtags, keywords, accounts []string, includeReposts bool) string {
	var terms []string
	for _, h := range hashtags {
		terms = append(terms, "#"+h)
	}
	for _, k := range keywords {
		terms = append(terms, `"`+strings.ReplaceAll(k, `"`, `\"`)+`"`)
	}
	for _, a := range accounts {
		terms = append(terms, "from:"+a)
	}
	q := strings.Join(terms, " OR ")
	if includeReposts || q == "" {
		return q
	}
	if len(terms) > 1 {
		q = "(" + q + ")"
	}
	return q + " -is:retweet"
}

// Connect loads the cursor. One that cannot be read is logged and replaced
// by a fresh start, which takes the newest page of results.
func (s *Source) Connect(ctx context.Context) error {
	s.state = cursorState{}
	if s.cursors != nil {
		raw, err := s.cursors.Get(ctx, s.key)
		if err != nil {
			return fmt.Errorf("x: load cursor %s: %w", s.key, err)
		}
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &s.state); err != nil || !validState(s.state) {
				s.log.Warn("x: unreadable cursor; starting afresh", "key", s.key, "cursor", string(raw))
				s.state = cursorState{}
			}
		}
	}
	s.pace.Schedule(time.Time{})
	return nil
}

func validState(st cursorState) bool {
	for _, id := range []string{st.SinceID, st.UntilID, st.NewestID} {
		if id != "" && !xtext.IsID(id) {
			return false
		}
	}
	return (st.UntilID == "") == (st.NewestID == "")
}

// Read polls recent search (waiting poll_interval between polls, none while
// a backlog is caught up) or takes the next batch of the stream.
func (s *Source) Read(ctx context.Context) ([]post.Post, connectors.AckFunc, error) {
	if s.settings.Stream {
		return s.readStream(ctx)
	}
	if err := s.pace.Wait(ctx); err != nil {
		return nil, nil, err
	}
	posts, next, done, err := s.poll(ctx, s.state, 0)
	if err != nil {
		return nil, nil, err
	}
	var wait time.Duration // a backlog is caught up at once
	if done {
		wait = s.settings.PollInterval
	}
	s.pace.After(wait)
	return posts, s.commit(next, nil), nil
}

// Close ends the stream connection, if any.
func (s *Source) Close(context.Context) error {
	s.closeStream()
	return nil
}

// commit returns the AckFunc that stores next once the posts are stored,
// then calls then. When they are not, the cursor stays; a stream is closed
// so that the next Read reconnects and backfills from the cursor.
func (s *Source) commit(next cursorState, then func()) connectors.AckFunc {
	return func(ctx context.Context, err error) error {
		if err != nil {
			s.closeStream()
			return nil
		}
		if next != s.state {
			if err := connectors.StoreCursor(ctx, s.cursors, s.key, next); err != nil {
				s.closeStream()
				return fmt.Errorf("x: save cursor %s: %w", s.key, err)
			}
		}
		s.state = next
		if then != nil {
			then()
		}
		return nil
	}
}

// poll runs one search from st: the first page only on a fresh start,
// otherwise pages until the cursor or max_pages. It returns the posts
// oldest first, the state to store once they are, and whether the search
// reached the cursor. overlap starts the search that much earlier.
func (s *Source) poll(ctx context.Context, st cursorState, overlap time.Duration) ([]post.Post, cursorState, bool, error) {
	p := searchParams{query: s.query, sinceID: st.SinceID, untilID: st.UntilID}
	if overlap > 0 && p.sinceID != "" {
		p.sinceID = snowflakeBefore(p.sinceID, overlap)
	}
	// Recent search refuses ids older than its window: what lies beyond is
	// out of reach.
	if floor := snowflakeAt(s.now().Add(-searchWindow + 5*time.Minute)); floor != "" {
		if p.untilID != "" && !xtext.Less(floor, p.untilID) {
			s.log.Warn("x: backlog older than recent search reaches; skipping it", "until_id", p.untilID)
			return nil, cursorState{SinceID: st.NewestID}, true, nil
		}
		if p.sinceID != "" && xtext.Less(p.sinceID, floor) {
			s.log.Warn("x: cursor older than recent search reaches; posts before it are lost", "since_id", p.sinceID)
			p.sinceID = floor
		}
	}
	fresh := st.SinceID == "" && st.UntilID == ""
	var posts []post.Post
	newest, oldest := "", ""
	done := false
	for pages := 1; ; pages++ {
		r, err := s.cli.searchRecent(ctx, p)
		if err != nil {
			return nil, st, false, err
		}
		res := Adapt(r, s.settings.ID, s.now())
		s.countSkipped(res.Skipped)
		s.noteOdd(res.Odd)
		posts = append(posts, res.Posts...)
		newest = maxID(newest, maxID(res.Newest, validID(r.Meta.NewestID)))
		oldest = minID(oldest, minID(res.Oldest, validID(r.Meta.OldestID)))
		p.nextToken = r.Meta.NextToken
		if p.nextToken == "" {
			done = true
			break
		}
		if fresh || pages >= s.settings.MaxPages {
			break
		}
	}
	slices.Reverse(posts) // oldest first
	var next cursorState
	switch {
	case fresh:
		next, done = cursorState{SinceID: newest}, true
	case done:
		next = cursorState{SinceID: maxID(st.SinceID, maxID(st.NewestID, newest))}
	default:
		next = cursorState{SinceID: st.SinceID, UntilID: oldest, NewestID: maxID(st.NewestID, newest)}
		if oldest == "" {
			// No id to page from: a page without results but with a next
			// token. Finish the catch-up rather than loop.
			next, done = cursorState{SinceID: maxID(st.SinceID, maxID(st.NewestID, newest))}, true
		}
	}
	return posts, next, done, nil
}

// noteOdd logs the fields left unread in posts that were kept.
func (s *Source) noteOdd(errs []error) {
	for _, err := range errs {
		s.log.Debug("x: kept a post with a field it could not read", "err", err)
	}
}

func (s *Source) countSkipped(errs []error) {
	for _, err := range errs {
		s.skipped.Inc()
		s.log.Warn("x: skipped an item", "err", err)
	}
}

// readStream takes the next batch of the filtered stream. On a new
// connection it first syncs the rules, then backfills with recent search
// from the cursor (the stream delivers only what is posted while
// connected) before it reads the stream.
func (s *Source) readStream(ctx context.Context) ([]post.Post, connectors.AckFunc, error) {
	if s.live == nil {
		if err := s.syncRules(ctx); err != nil {
			return nil, nil, err
		}
		resp, err := s.cli.openStream(ctx)
		if err != nil {
			return nil, nil, err
		}
		s.live = ndjson.Open(resp.Body, s.stall, s.skipped.Inc)
		s.backfill = true
		s.log.Info("x: stream connected; backfilling with recent search", "since_id", s.state.SinceID)
	}
	if s.backfill {
		posts, next, done, err := s.poll(ctx, s.state, backfillOverlap)
		if err != nil {
			s.closeStream()
			return nil, nil, err
		}
		return posts, s.commit(next, func() { s.backfill = s.backfill && !done }), nil
	}
	lines, err := s.live.Next(ctx, maxBatch)
	if err != nil {
		s.closeStream()
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, fmt.Errorf("x: stream: %w", err)
	}
	posts, newest, disconnect := s.streamBatch(lines)
	next := s.state
	next.SinceID = maxID(next.SinceID, newest)
	if disconnect != "" {
		// Take what came before it; the next Read reconnects.
		s.log.Warn("x: stream disconnected by X; reconnecting", "reason", disconnect)
		s.closeStream()
	}
	return posts, s.commit(next, nil), nil
}

// streamBatch adapts stream lines: tweets matching this source's rules,
// and operational messages. It returns the posts, the newest id among them
// and, when X asked to reconnect, why.
func (s *Source) streamBatch(lines [][]byte) ([]post.Post, string, string) {
	var posts []post.Post
	newest, disconnect := "", ""
	for _, line := range lines {
		r, err := ParseResponse(line)
		if err != nil {
			s.countSkipped([]error{err})
			continue
		}
		if len(r.Data) == 0 || string(r.Data) == "null" {
			for _, p := range r.Errors {
				if p.DisconnectType != "" || p.ConnectionIssue != "" || strings.Contains(p.Title, "disconnect") || strings.Contains(p.Type, "operational-disconnect") {
					disconnect = strings.TrimSpace(p.Title + ": " + p.Detail)
				} else {
					s.log.Warn("x: stream message", "title", p.Title, "detail", p.Detail)
				}
			}
			continue
		}
		if !s.ours(r.MatchingRules) {
			continue
		}
		res := Adapt(r, s.settings.ID, s.now())
		s.countSkipped(res.Skipped)
		s.noteOdd(res.Odd)
		posts = append(posts, res.Posts...)
		newest = maxID(newest, res.Newest)
	}
	return posts, newest, disconnect
}

// ours reports whether a streamed tweet matched one of this source's rules
// (the app's other rules deliver to the same connection).
func (s *Source) ours(rules []MatchingRule) bool {
	if len(rules) == 0 {
		return true
	}
	for _, r := range rules {
		if r.Tag == s.tag || s.ruleIDs[string(r.ID)] {
			return true
		}
	}
	return false
}

// syncRules makes the app's rules tagged for this source exactly the
// source's query: it deletes the stale ones and adds the missing one,
// leaving rules with other tags alone. It runs before every connection, so
// a rule removed by hand or by another tool comes back.
func (s *Source) syncRules(ctx context.Context) error {
	list, err := s.cli.listRules(ctx)
	if err != nil {
		return err
	}
	ids := map[string]bool{}
	var stale []string
	for _, r := range list.Data {
		switch {
		case r.Tag != s.tag:
		case r.Value == s.query && len(ids) == 0:
			ids[string(r.ID)] = true
		default:
			stale = append(stale, string(r.ID))
		}
	}
	if len(stale) > 0 {
		resp, err := s.cli.changeRules(ctx, RulesRequest{Delete: &DeleteIDs{IDs: stale}})
		if err != nil {
			return err
		}
		if len(resp.Errors) > 0 {
			return fmt.Errorf("x: delete stale stream rules %v: %s", stale, describe(resp.Errors[0]))
		}
		s.log.Info("x: deleted stale stream rules", "ids", stale)
	}
	if len(ids) == 0 {
		resp, err := s.cli.changeRules(ctx, RulesRequest{Add: []Rule{{Value: s.query, Tag: s.tag}}})
		if err != nil {
			return err
		}
		for _, r := range resp.Data {
			ids[string(r.ID)] = true
		}
		for _, p := range resp.Errors {
			if p.Title == "DuplicateRule" && p.ID != "" {
				// X keeps one rule per value; another tag has it already.
				s.log.Info("x: the stream rule exists under another tag; using it", "id", p.ID)
				ids[string(p.ID)] = true
				continue
			}
			return fmt.Errorf("x: add stream rule %q: %s", s.query, describe(p))
		}
		if len(ids) == 0 {
			return fmt.Errorf("x: add stream rule %q: X created no rule", s.query)
		}
	}
	s.ruleIDs = ids
	return nil
}

func describe(p Problem) string {
	out := p.Title
	if p.Detail != "" {
		out += ": " + p.Detail
	}
	if len(p.Details) > 0 {
		out += ": " + strings.Join(p.Details, "; ")
	}
	return out
}

func (s *Source) closeStream() {
	if s.live != nil {
		s.live.Close()
		s.live = nil
	}
	s.backfill = false
}

func validID(id string) string {
	if xtext.IsID(id) {
		return id
	}
	return ""
}

func maxID(a, b string) string {
	if a == "" || (b != "" && xtext.Less(a, b)) {
		return b
	}
	return a
}

func minID(a, b string) string {
	if a == "" || (b != "" && xtext.Less(b, a)) {
		return b
	}
	return a
}

// snowflakeAt is the smallest id X could give a post at t.
func snowflakeAt(t time.Time) string {
	ms := t.UnixMilli() - twitterEpoch
	if ms <= 0 {
		return ""
	}
	return strconv.FormatUint(uint64(ms)<<22, 10)
}

// snowflakeBefore is the id of a post made d before post id.
func snowflakeBefore(id string, d time.Duration) string {
	n, err := strconv.ParseUint(id, 10, 64)
	back := uint64(d.Milliseconds()) << 22
	if err != nil || n <= back {
		return id
	}
	return strconv.FormatUint(n-back, 10)
}
