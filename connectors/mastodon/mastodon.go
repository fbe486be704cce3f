// Package mastodon gathers public statuses by hashtag from one or more
// Mastodon servers: it polls each server's tag timeline and, with an access
// token, follows the first server's hashtag streams (Server-Sent Events),
// catching up by polling whenever a stream (re)opens so nothing is lost.
package mastodon

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/lru"
	"github.com/chorus-wall/chorus/post"
)

// Settings of a mastodon source.
type Settings struct {
	connectors.Common `yaml:",inline"`
	// Servers are the instances' base URLs (https://mastodon.social). Required.
	Servers []string `yaml:"servers"`
	// AccessToken, when set, belongs to the first server: that server's
	// hashtags are followed with the streaming API instead of polled.
	AccessToken config.Secret `yaml:"access_token"`
	// LocalOnly keeps statuses written on the servers themselves.
	LocalOnly bool `yaml:"local_only"`
	// OnlyMedia keeps statuses with media attachments.
	OnlyMedia bool `yaml:"only_media"`
	// Compliance: how often the statuses shown are checked again.
	connectors.Compliance `yaml:",inline"`
}

// Defaults and limits.
const (
	DefaultPollInterval = 30 * time.Second
	// maxPages bounds the pages one poll reads per (server, tag); the next
	// Read continues at once when a backlog is longer.
	maxPages = 25
	// maxBatch bounds the stream events one Read returns.
	maxBatch = 200
	// knownStatuses bounds the map from servers' local ids to post ids that
	// turns a stream's delete events into takedowns.
	knownStatuses = 20000
	// streamIdle is how long a stream may stay silent (Mastodon sends a
	// heartbeat every few seconds) before it counts as dropped.
	streamIdle = 2 * time.Minute
)

// Source gathers statuses from Mastodon servers.
type Source struct {
	settings Settings
	cursors  connectors.Cursors
	log      *slog.Logger
	skipped  interface{ Inc() }
	now      func() time.Time
	key      string
	clients  map[string]*client
	polled   []pair // pairs read by polling
	streamed []pair // pairs followed with the streaming API
	idle     time.Duration

	mu        sync.Mutex
	cursor    map[pair]string // committed: newest status id stored per pair
	nextPoll  time.Time
	more      bool               // a poll stopped at maxPages: poll again at once
	catchUp   map[pair]bool      // streams opened whose gap is not polled yet
	streams   map[pair]*sse      // open streams
	events    chan sseItem       // from every open stream
	known     *lru.Cache[string] // server + "/" + local id -> post id
	where     *lru.Cache[string] // post id -> server + "\x00" + local id, for compliance checks
	wg        sync.WaitGroup     // stream readers
	connected bool
}

var _ connectors.Source = (*Source)(nil)

// pair is one hashtag on one server.
type pair struct{ server, tag string }

func (p pair) String() string { return p.server + " #" + p.tag }

// New builds a mastodon source from its config; it is a connectors.Factory.
func New(spec config.Source, deps connectors.Deps) (connectors.Source, error) {
	var s Settings
	if err := spec.Decode(&s); err != nil {
		return nil, err
	}
	path := spec.Path()
	errs := s.normalize(path)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s.ID, s.Type = spec.ID, spec.Type
	deps = deps.WithDefaults()
	src := &Source{
		settings: s,
		cursors:  deps.Cursors,
		log:      deps.Logger,
		now:      deps.Now,
		skipped:  deps.Skipped,
		key:      "mastodon." + spec.ID,
		clients:  map[string]*client{},
		idle:     streamIdle,
		cursor:   map[pair]string{},
		catchUp:  map[pair]bool{},
		streams:  map[pair]*sse{},
		events:   make(chan sseItem, 256),
		known:    lru.New[string](knownStatuses),
		where:    lru.New[string](knownStatuses),
	}
	for i, server := range s.Servers {
		token := config.Secret("")
		if i == 0 {
			token = s.AccessToken
		}
		src.clients[server] = newClient(server, token, deps.UserAgent)
		for _, tag := range s.Hashtags {
			p := pair{server, strings.ToLower(tag)}
			if i == 0 && s.AccessToken.IsSet() {
				src.streamed = append(src.streamed, p)
			} else {
				src.polled = append(src.polled, p)
			}
		}
	}
	return src, nil
}

// normalize fills defaults and returns every error, keys named under path.
func (s *Settings) normalize(path string) []error {
	base := s.BaseURL
	s.Common.Normalize("", DefaultPollInterval)
	s.Compliance.Normalize(complianceRate, 1)
	errs := s.Common.Validate(path, false)
	errs = append(errs, s.Compliance.Validate(path)...)
	if base != "" {
		errs = append(errs, fmt.Errorf("%s.base_url: not used by mastodon sources; list instances under servers", path))
	}
	if len(s.Keywords) > 0 {
		errs = append(errs, fmt.Errorf("%s.keywords: mastodon gathers by hashtag only; use hashtags", path))
	}
	if len(s.Accounts) > 0 {
		errs = append(errs, fmt.Errorf("%s.accounts: mastodon gathers by hashtag only; use hashtags", path))
	}
	if len(s.Hashtags) == 0 {
		errs = append(errs, fmt.Errorf("%s.hashtags: is required (mastodon gathers by hashtag)", path))
	}
	seenTag := map[string]bool{}
	var tags []string
	for i, t := range s.Hashtags {
		if !validTag(t) {
			errs = append(errs, fmt.Errorf("%s.hashtags[%d]: %q is not a hashtag (letters, digits, marks and _ only)", path, i, t))
			continue
		}
		if k := strings.ToLower(t); !seenTag[k] {
			seenTag[k] = true
			tags = append(tags, t)
		}
	}
	s.Hashtags = tags
	if len(s.Servers) == 0 {
		errs = append(errs, fmt.Errorf("%s.servers: is required: the base URLs of the instances to read, e.g. https://mastodon.social", path))
	}
	seen := map[string]bool{}
	var servers []string
	for i, raw := range s.Servers {
		server := strings.TrimRight(strings.TrimSpace(raw), "/")
		u, err := url.Parse(server)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			errs = append(errs, fmt.Errorf("%s.servers[%d]: %q is not an absolute http(s) URL", path, i, raw))
			continue
		}
		server = u.Scheme + "://" + strings.ToLower(u.Host) + u.Path
		if !seen[server] {
			seen[server] = true
			servers = append(servers, server)
		}
	}
	s.Servers = servers
	return errs
}

func validTag(t string) bool {
	if t == "" || len(t) > 200 {
		return false
	}
	for _, r := range t {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '_' || r == '·') {
			return false
		}
	}
	return true
}

// Settings returns the source's settings after defaults.
func (s *Source) Settings() Settings { return s.settings }

// cursorState is the stored cursor: per server, per lowercase tag, the
// newest status id already stored.
type cursorState struct {
	Servers map[string]map[string]string `json:"servers"`
}

// Connect loads the cursor.
func (s *Source) Connect(ctx context.Context) error {
	var st cursorState
	unreadable, err := connectors.LoadCursor(ctx, s.cursors, s.key, &st)
	if err != nil {
		return fmt.Errorf("mastodon: load cursor %s: %w", s.key, err)
	}
	if unreadable != nil {
		s.log.Warn("mastodon: unreadable cursor; starting from the newest statuses", "key", s.key, "err", unreadable)
	}
	cur := map[pair]string{}
	for server, tags := range st.Servers {
		for tag, id := range tags {
			cur[pair{server, tag}] = id
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursor = cur
	s.nextPoll = time.Time{}
	s.connected = true
	return nil
}

// Read returns the next batch: the gap of a stream that just (re)opened,
// polled from the cursor; a poll of every polled (server, tag) when due;
// or the events the open streams have delivered.
func (s *Source) Read(ctx context.Context) ([]post.Post, connectors.AckFunc, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if err := s.openStreams(ctx); err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	var gaps []pair
	for _, p := range s.streamed {
		if s.catchUp[p] {
			gaps = append(gaps, p)
		}
	}
	s.mu.Unlock()
	if len(gaps) > 0 {
		return s.poll(ctx, gaps, true)
	}
	for {
		s.mu.Lock()
		due := len(s.polled) > 0 && (s.more || !s.now().Before(s.nextPoll))
		wait := s.nextPoll.Sub(s.now())
		s.mu.Unlock()
		if due {
			s.mu.Lock()
			s.nextPoll = s.now().Add(s.settings.PollInterval)
			s.mu.Unlock()
			return s.poll(ctx, s.polled, false)
		}
		var timer <-chan time.Time
		var t *time.Timer
		if len(s.polled) > 0 {
			t = time.NewTimer(wait)
			timer = t.C
		}
		var events <-chan sseItem
		if len(s.streamed) > 0 {
			events = s.events
		}
		select {
		case <-ctx.Done():
			stopTimer(t)
			return nil, nil, ctx.Err()
		case <-timer:
			continue
		case item := <-events:
			stopTimer(t)
			return s.streamBatch(item)
		}
	}
}

func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

// poll reads every page after the cursor of each pair. A pair that fails is
// logged and left for the next poll, unless every pair failed: then the
// error is returned (a RetryError among them makes the runner wait).
func (s *Source) poll(ctx context.Context, pairs []pair, gaps bool) ([]post.Post, connectors.AckFunc, error) {
	s.mu.Lock()
	from := make(map[pair]string, len(pairs))
	for _, p := range pairs {
		from[p] = s.cursor[p]
	}
	s.mu.Unlock()
	var (
		posts  []post.Post
		seen   = map[string]bool{}
		newest = map[pair]string{}
		errs   []error
		more   bool
		done   []pair
	)
	for _, p := range pairs {
		got, top, full, err := s.pollPair(ctx, p, from[p])
		for _, q := range got {
			if !seen[q.ID] {
				seen[q.ID] = true
				posts = append(posts, q)
			}
		}
		if top != "" {
			newest[p] = top
		}
		more = more || full
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		done = append(done, p)
	}
	if len(errs) == len(pairs) && len(posts) == 0 {
		if !gaps {
			// The runner waits (backoff, or the rate limit's reset); then
			// poll again at once rather than a whole interval later.
			s.mu.Lock()
			s.nextPoll = time.Time{}
			s.mu.Unlock()
		}
		return nil, nil, errors.Join(errs...)
	}
	for _, err := range errs {
		s.log.Warn("mastodon: poll failed; retrying at the next poll", "err", err)
	}
	slices.SortStableFunc(posts, func(a, b post.Post) int { return a.CreatedAt.Compare(b.CreatedAt) })
	if !gaps {
		s.mu.Lock()
		s.more = more
		s.mu.Unlock()
	}
	return posts, s.ack(newest, func() {
		if !gaps {
			return
		}
		// A gap is closed only when every page up to now was read.
		for _, p := range done {
			if !more {
				delete(s.catchUp, p)
			}
		}
	}), nil
}

// pollPair pages through a pair's tag timeline from minID with min_id,
// oldest page first, until a page is shorter than the limit. With no
// cursor yet it reads only the newest page. It returns the posts (oldest
// first), the newest status id seen, whether it stopped at maxPages, and
// the error that stopped it (the pages before it are still returned).
func (s *Source) pollPair(ctx context.Context, p pair, minID string) ([]post.Post, string, bool, error) {
	c := s.clients[p.server]
	var posts []post.Post
	newest := ""
	for page := 0; page < maxPages; page++ {
		raws, err := c.tagTimeline(ctx, p.tag, minID, s.settings.LocalOnly, s.settings.OnlyMedia)
		if err != nil {
			return posts, newest, false, err
		}
		top := ""
		batch := make([]post.Post, 0, len(raws))
		for _, raw := range raws {
			id, q, ok := s.adaptRaw(raw, p.server)
			if laterID(id, top) {
				top = id
			}
			if ok {
				batch = append(batch, q)
			}
		}
		// Pages come newest first; the batch goes out oldest first.
		slices.Reverse(batch)
		posts = append(posts, batch...)
		if top == "" || !laterID(top, minID) {
			return posts, newest, false, nil
		}
		newest, minID = top, top
		if len(raws) < pageLimit || page == 0 && s.cursorless(p) {
			return posts, newest, false, nil
		}
	}
	return posts, newest, true, nil
}

func (s *Source) cursorless(p pair) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursor[p] == ""
}

// adaptRaw decodes and adapts one status from server. It returns the
// status's id (for the cursor, even when the status cannot be used), the
// post, and whether the post is usable. Malformed statuses are counted.
func (s *Source) adaptRaw(raw json.RawMessage, server string) (string, post.Post, bool) {
	var st Status
	if err := json.Unmarshal(raw, &st); err != nil {
		var idOnly struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(raw, &idOnly)
		s.skip("decode status", idOnly.ID, err)
		return idOnly.ID, post.Post{}, false
	}
	p, ok := s.adapt(&st, server)
	return st.ID, p, ok
}

func (s *Source) adapt(st *Status, server string) (post.Post, bool) {
	if s.settings.OnlyMedia && len(st.MediaAttachments) == 0 && (st.Reblog == nil || len(st.Reblog.MediaAttachments) == 0) {
		return post.Post{}, false
	}
	p, err := Adapt(st, s.settings.ID, s.now())
	if errors.Is(err, errNotPublic) {
		return post.Post{}, false
	}
	if err != nil {
		s.skip("adapt status", st.ID, err)
		return post.Post{}, false
	}
	s.mu.Lock()
	s.known.Put(server+"/"+st.ID, p.ID)
	s.where.Put(p.ID, server+"\x00"+st.ID)
	s.mu.Unlock()
	return p, true
}

func (s *Source) skip(what, id string, err error) {
	s.skipped.Inc()
	s.log.Warn("mastodon: skipping a status that cannot be read", "op", what, "status", id, "err", err)
}

// ack commits newest as each pair's cursor once the posts are stored, and
// then runs then. The stored value only moves forward.
func (s *Source) ack(newest map[pair]string, then func()) connectors.AckFunc {
	return func(ctx context.Context, err error) error {
		if err != nil {
			return nil
		}
		s.mu.Lock()
		changed := false
		for p, id := range newest {
			if laterID(id, s.cursor[p]) {
				s.cursor[p] = id
				changed = true
			}
		}
		then()
		st := cursorState{Servers: map[string]map[string]string{}}
		for p, id := range s.cursor {
			if st.Servers[p.server] == nil {
				st.Servers[p.server] = map[string]string{}
			}
			st.Servers[p.server][p.tag] = id
		}
		s.mu.Unlock()
		if !changed {
			return nil
		}
		if err := connectors.StoreCursor(ctx, s.cursors, s.key, st); err != nil {
			return fmt.Errorf("mastodon: store cursor %s: %w", s.key, err)
		}
		return nil
	}
}

// laterID reports whether status id a is newer than b. Mastodon ids are
// decimal snowflakes and other servers' ids sort as strings of one length,
// so a longer id is newer and equal lengths compare as strings.
func laterID(a, b string) bool {
	return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b)) > 0
}

// sse is one open hashtag stream.
type sse struct {
	body   io.ReadCloser
	cancel context.CancelFunc
}

// sseItem is what a stream reader hands to Read: an event or the error
// that ended the stream.
type sseItem struct {
	pair  pair
	event Event
	err   error
}

// openStreams opens the stream of every streamed pair that has none, and
// marks its gap for catching up. It returns the first error.
func (s *Source) openStreams(ctx context.Context) error {
	for _, p := range s.streamed {
		s.mu.Lock()
		_, open := s.streams[p]
		s.mu.Unlock()
		if open {
			continue
		}
		sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		body, err := s.clients[p.server].openStream(sctx, p.tag, s.settings.LocalOnly)
		if err != nil {
			cancel()
			return fmt.Errorf("%s: %w", p, err)
		}
		st := &sse{body: body, cancel: cancel}
		s.mu.Lock()
		s.streams[p] = st
		s.catchUp[p] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go s.readStream(sctx, p, st)
	}
	return nil
}

// readStream hands the stream's events to Read until the stream fails,
// falls silent for longer than s.idle, or is closed.
func (s *Source) readStream(ctx context.Context, p pair, st *sse) {
	defer s.wg.Done()
	defer st.body.Close()
	var silent atomic.Bool
	watchdog := time.AfterFunc(s.idle, func() { silent.Store(true); st.body.Close() })
	defer watchdog.Stop()
	err := readEvents(st.body, func() { watchdog.Reset(s.idle) }, func(ev Event) error {
		select {
		case s.events <- sseItem{pair: p, event: ev}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	switch {
	case silent.Load():
		err = fmt.Errorf("stream silent for %s", s.idle)
	case ctx.Err() != nil:
		return // closed by the source
	case err == nil || errors.Is(err, io.EOF):
		err = errors.New("stream closed by the server")
	}
	select {
	case s.events <- sseItem{pair: p, err: err}:
	case <-ctx.Done():
	}
}

// dropStream forgets a pair's stream (closing it); the next Read reopens it.
func (s *Source) dropStream(p pair) {
	s.mu.Lock()
	st := s.streams[p]
	delete(s.streams, p)
	s.mu.Unlock()
	if st != nil {
		st.cancel()
		st.body.Close()
	}
}

// streamBatch turns first and the events already waiting into one batch.
func (s *Source) streamBatch(first sseItem) ([]post.Post, connectors.AckFunc, error) {
	var posts []post.Post
	newest := map[pair]string{}
	item := first
	for n := 0; ; n++ {
		if item.err != nil {
			s.dropStream(item.pair)
			if len(posts) == 0 {
				return nil, nil, fmt.Errorf("mastodon: %s: %w", item.pair, item.err)
			}
			// Keep what arrived before the drop; the next Read reopens the
			// stream and polls its gap.
			s.log.Warn("mastodon: stream dropped; reopening", "stream", item.pair.String(), "err", item.err)
			break
		}
		s.mu.Lock()
		stale := s.streams[item.pair] == nil
		s.mu.Unlock()
		if !stale {
			if q, id, ok := s.handleEvent(item); ok {
				posts = append(posts, q)
				if laterID(id, newest[item.pair]) {
					newest[item.pair] = id
				}
			}
		}
		if n+1 >= maxBatch {
			break
		}
		select {
		case item = <-s.events:
			continue
		default:
		}
		break
	}
	return posts, s.ack(newest, func() {}), nil
}

// handleEvent turns one stream event into a post or a takedown. id is the
// status id for the cursor ("" for deletes and edits).
func (s *Source) handleEvent(item sseItem) (post.Post, string, bool) {
	ev := item.event
	switch ev.Name {
	case "update":
		id, p, ok := s.adaptRaw(json.RawMessage(ev.Data), item.pair.server)
		return p, id, ok
	case "status.update":
		// An edit: the new version, judged again by curation; or, when
		// the status is no longer public, a takedown.
		if p, ok := s.privatized(ev.Data); ok {
			return p, "", true
		}
		_, p, ok := s.adaptRaw(json.RawMessage(ev.Data), item.pair.server)
		return p, "", ok
	case "delete":
		local := strings.TrimSpace(ev.Data)
		if local == "" {
			s.skip("read delete event", "", errors.New("empty status id"))
			return post.Post{}, "", false
		}
		s.mu.Lock()
		id, ok := s.known.Get(item.pair.server + "/" + local)
		s.mu.Unlock()
		if !ok {
			// Not seen by this process: right for statuses written on the
			// server itself, whose uri carries the same id.
			id = Network + ":" + hostOf(item.pair.server) + "/" + local
		}
		p := post.Takedown(Network, id, s.settings.ID, s.now())
		if err := p.Normalize(Network, s.now()); err != nil {
			s.skip("read delete event", local, err)
			return post.Post{}, "", false
		}
		return p, "", true
	}
	return post.Post{}, "", false
}

// privatized returns a takedown for an edited status that is no longer
// public (its author made it private or followers-only).
func (s *Source) privatized(data string) (post.Post, bool) {
	var st Status
	if err := json.Unmarshal([]byte(data), &st); err != nil || public(st.Visibility) {
		return post.Post{}, false
	}
	id, err := PostID(st.URI)
	if err != nil {
		return post.Post{}, false
	}
	p := post.Takedown(Network, Network+":"+id, s.settings.ID, s.now())
	p.Gone = post.GonePrivate
	if err := p.Normalize(Network, s.now()); err != nil {
		s.skip("read status.update", st.ID, err)
		return post.Post{}, false
	}
	return p, true
}

// Close closes every open stream and waits for their readers.
func (s *Source) Close(context.Context) error {
	s.mu.Lock()
	streams := s.streams
	s.streams = map[pair]*sse{}
	s.mu.Unlock()
	for _, st := range streams {
		st.cancel()
		st.body.Close()
	}
	done := make(chan struct{})
	go func() {
		// Readers blocked on a full channel leave when their context ends.
		s.wg.Wait()
		close(done)
	}()
	for {
		select {
		case <-done:
			return nil
		case <-s.events:
		}
	}
}
