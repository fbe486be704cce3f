// Package bluesky gathers Bluesky posts by hashtag, keyword or account from
// Jetstream (the JSON firehose), matching locally, resolving authors'
// profiles on the public AppView, and optionally backfilling the hour
// before its first start with an authenticated search.
package bluesky

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/fetch"
	"github.com/chorus-wall/chorus/connectors/lru"
	"github.com/chorus-wall/chorus/post"
)

// Settings of a bluesky source. base_url is Jetstream's root.
type Settings struct {
	connectors.Common `yaml:",inline"`
	// PublicAPIURL is the public AppView, for profiles and handles.
	PublicAPIURL string `yaml:"public_api_url"`
	// APIURL is the account's server, for the authenticated backfill.
	APIURL string `yaml:"api_url"`
	// Identifier (handle, DID or email) and AppPassword log in for the
	// backfill; both or neither.
	Identifier  config.Secret `yaml:"identifier"`
	AppPassword config.Secret `yaml:"app_password"`
	// Backfill is how far before its first start the source searches
	// (with credentials only; default 1h, at most 7 days).
	Backfill time.Duration `yaml:"backfill"`
}

// Defaults and limits.
const (
	DefaultJetstreamURL = "wss://jetstream2.us-east.bsky.network"
	DefaultPublicAPIURL = "https://public.api.bsky.app"
	DefaultAPIURL       = "https://bsky.social"
	DefaultBackfill     = time.Hour
	maxBackfill         = 7 * 24 * time.Hour
	// Rewind is how far before its cursor the source reconnects, as
	// Jetstream advises; the bus dedupe absorbs the overlap.
	Rewind = 5 * time.Second
	// maxBatch bounds the posts one Read returns.
	maxBatch = 100
	// linger is how long a Read waits for more posts after the first.
	linger = 500 * time.Millisecond
	// commitEvery is how often a Read without posts still returns, so the
	// cursor follows the stream through quiet hours.
	commitEvery = 15 * time.Second
	// idle is how long the stream may stay silent before it counts as
	// dropped; pings go out at a third of it.
	idle = 90 * time.Second
	// Profiles: how many are kept, how long, and how long a failed lookup
	// is not retried.
	profileCacheSize = 5000
	profileTTL       = time.Hour
	profileRetry     = time.Minute
	profileBudget    = 3 * time.Second
	// recentPosts bounds the posts whose deletion the source watches for.
	recentPosts = 5000
	// saveRecentEvery bounds how often that list is stored.
	saveRecentEvery = 10 * time.Second
	// maxBackfillPages bounds the search pages per query.
	maxBackfillPages = 10
	maxMessageBytes  = 1 << 20
)

// Source streams posts from Jetstream.
type Source struct {
	settings  Settings
	cursors   connectors.Cursors
	log       *slog.Logger
	skipped   interface{ Inc() }
	now       func() time.Time
	ua        string
	key       string // time_us cursor
	recentKey string // posts whose deletions become takedowns
	view      *appView
	pds       *pds
	idle      time.Duration
	linger    time.Duration
	every     time.Duration

	mu          sync.Mutex
	match       *matcher
	wantedDIDs  []string // Jetstream's wantedDids: only with accounts alone
	committed   int64    // time_us stored
	start       int64    // fresh start: the time_us to begin at
	backfilling bool
	ws          *stream
	dropped     error // the stream's end, reported by the next Read
	profiles    *lru.Cache[profileEntry]
	recent      *lru.Cache[struct{}]
	recentDirty bool
	recentSaved time.Time
}

var _ connectors.Source = (*Source)(nil)

type profileEntry struct {
	prof    *Profile // nil: the lookup failed
	fetched time.Time
}

// New builds a bluesky source from its config; it is a connectors.Factory.
func New(spec config.Source, deps connectors.Deps) (connectors.Source, error) {
	var s Settings
	if err := spec.Decode(&s); err != nil {
		return nil, err
	}
	if errs := s.normalize(spec.Path()); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s.ID, s.Type = spec.ID, spec.Type
	deps = deps.WithDefaults()
	src := &Source{
		settings:  s,
		cursors:   deps.Cursors,
		log:       deps.Logger,
		now:       deps.Now,
		skipped:   deps.Skipped,
		ua:        deps.UserAgent,
		key:       "bluesky." + spec.ID,
		recentKey: "bluesky." + spec.ID + ".posts",
		view:      &appView{base: s.PublicAPIURL, api: fetch.New(Network, deps.UserAgent)},
		pds:       &pds{base: s.APIURL, api: fetch.New(Network, deps.UserAgent)},
		idle:      idle,
		linger:    linger,
		every:     commitEvery,
		profiles:  lru.New[profileEntry](profileCacheSize),
		recent:    lru.New[struct{}](recentPosts),
	}
	return src, nil
}

// normalize fills defaults and returns every error, keys named under path.
func (s *Settings) normalize(path string) []error {
	var errs []error
	if s.PollInterval != 0 {
		errs = append(errs, fmt.Errorf("%s.poll_interval: not used by bluesky sources (Jetstream is a stream)", path))
	}
	s.Common.Normalize(DefaultJetstreamURL, time.Minute)
	errs = append(errs, s.Common.Validate(path, true)...)
	for key, u := range map[string]*string{"public_api_url": &s.PublicAPIURL, "api_url": &s.APIURL} {
		def := DefaultPublicAPIURL
		if key == "api_url" {
			def = DefaultAPIURL
		}
		if *u == "" {
			*u = def
		}
		*u = strings.TrimRight(*u, "/")
		if err := connectors.CheckBaseURL(*u); err != nil || strings.HasPrefix(*u, "ws") {
			errs = append(errs, fmt.Errorf("%s.%s: %q is not an absolute http(s) URL", path, key, *u))
		}
	}
	for i, a := range s.Accounts {
		if !strings.HasPrefix(a, "did:") && (!strings.Contains(a, ".") || strings.ContainsAny(a, " /:?#")) {
			errs = append(errs, fmt.Errorf("%s.accounts[%d]: %q is neither a handle (name.bsky.social) nor a DID", path, i, a))
		}
	}
	creds := s.Identifier.IsSet() || s.AppPassword.IsSet()
	switch {
	case s.Identifier.IsSet() && !s.AppPassword.IsSet():
		errs = append(errs, fmt.Errorf("%s.app_password: is required with identifier", path))
	case s.AppPassword.IsSet() && !s.Identifier.IsSet():
		errs = append(errs, fmt.Errorf("%s.identifier: is required with app_password", path))
	}
	switch {
	case s.Backfill < 0 || s.Backfill > maxBackfill:
		errs = append(errs, fmt.Errorf("%s.backfill: %s must be between 0 and %s", path, s.Backfill, maxBackfill))
	case s.Backfill > 0 && !creds:
		errs = append(errs, fmt.Errorf("%s.backfill: needs identifier and app_password (searching posts requires a login)", path))
	case s.Backfill == 0 && creds:
		s.Backfill = DefaultBackfill
	}
	return errs
}

// Settings returns the source's settings after defaults.
func (s *Source) Settings() Settings { return s.settings }

// Connect loads the cursor and the posts watched for deletion, and
// resolves the accounts' handles to DIDs. A handle that does not resolve is
// logged and left out; a failure to ask is returned (the runner retries).
func (s *Source) Connect(ctx context.Context) error {
	var committed int64
	var recent []string
	if s.cursors != nil {
		raw, err := s.cursors.Get(ctx, s.key)
		if err != nil {
			return fmt.Errorf("bluesky: load cursor %s: %w", s.key, err)
		}
		if len(raw) > 0 {
			if committed, err = strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64); err != nil || committed < 0 {
				s.log.Warn("bluesky: unreadable cursor; starting from now", "key", s.key, "value", string(raw))
				committed = 0
			}
		}
		unreadable, err := connectors.LoadCursor(ctx, s.cursors, s.recentKey, &recent)
		if err != nil {
			return fmt.Errorf("bluesky: load cursor %s: %w", s.recentKey, err)
		}
		if unreadable != nil {
			s.log.Warn("bluesky: unreadable list of recent posts; ignoring it", "key", s.recentKey)
		}
	}
	var dids []string
	for _, a := range s.settings.Accounts {
		if strings.HasPrefix(a, "did:") {
			dids = append(dids, a)
			continue
		}
		did, err := s.view.resolveHandle(ctx, a)
		var serr *fetch.StatusError
		if errors.As(err, &serr) && serr.Status == http.StatusBadRequest {
			s.log.Warn("bluesky: account handle does not resolve; leaving it out", "handle", a, "err", err)
			continue
		}
		if err != nil {
			return err
		}
		dids = append(dids, did)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.match = newMatcher(s.settings.Hashtags, s.settings.Keywords, dids)
	s.wantedDIDs = nil
	if len(s.settings.Hashtags)+len(s.settings.Keywords) == 0 && len(dids) > 0 {
		s.wantedDIDs = dids
	}
	s.committed = committed
	for _, id := range recent {
		s.recent.Put(id, struct{}{})
	}
	if committed == 0 {
		s.start = s.now().UnixMicro()
		s.backfilling = s.settings.Identifier.IsSet()
	}
	return nil
}

// Read returns the next batch: the backfill on a fresh start with
// credentials, then the posts Jetstream delivers (at most maxBatch, or what
// arrived within linger of the first), or, after commitEvery without a
// match, an empty batch whose ack moves the cursor along.
func (s *Source) Read(ctx context.Context) ([]post.Post, connectors.AckFunc, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	backfill, dropped := s.backfilling, s.dropped
	s.dropped = nil
	s.mu.Unlock()
	if dropped != nil {
		return nil, nil, dropped
	}
	if backfill {
		return s.backfill(ctx)
	}
	ws, err := s.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	var (
		items []item
		last  int64
	)
	timer := time.NewTimer(s.every)
	defer timer.Stop()
	lingering := false
	for {
		select {
		case <-ctx.Done():
			// What this Read consumed is not returned: reconnect from the
			// cursor next time.
			s.closeStream()
			return nil, nil, ctx.Err()
		case <-timer.C:
			return s.finish(ctx, items, last)
		case m := <-ws.msgs:
			if m.err != nil {
				s.closeStream()
				err := fmt.Errorf("bluesky: jetstream: %w", m.err)
				if len(items) == 0 {
					return nil, nil, err
				}
				// Hand over what arrived first; report the drop next time.
				s.mu.Lock()
				s.dropped = err
				s.mu.Unlock()
				return s.finish(ctx, items, last)
			}
			if ev, it, ok := s.handle(m.data, items); ok {
				last = max(last, ev)
				if it != nil {
					items = append(items, *it)
					if !lingering {
						lingering = true
						timer.Reset(s.linger)
					}
				}
			}
			if len(items) >= maxBatch {
				return s.finish(ctx, items, last)
			}
		}
	}
}

// item is one entry of a batch: a matched post waiting for its author's
// profile, or a takedown.
type item struct {
	did, rkey string
	rec       *PostRecord
	timeUS    int64
	takedown  bool
	// edited marks a record update: a new version of a post.
	edited bool
}

// handle reads one Jetstream message. It returns the event's time_us (ok
// false for an unreadable message) and the item it yields, if any.
func (s *Source) handle(data []byte, batch []item) (int64, *item, bool) {
	var ev Event
	if err := json.Unmarshal(data, &ev); err != nil {
		s.skip("decode event", "", err)
		return 0, nil, false
	}
	switch ev.Kind {
	case "identity":
		s.mu.Lock()
		s.profiles.Remove(ev.DID) // the handle may have changed
		s.mu.Unlock()
		return ev.TimeUS, nil, true
	case "commit":
	default:
		return ev.TimeUS, nil, true
	}
	c := ev.Commit
	if c == nil || c.Collection != postCollection {
		return ev.TimeUS, nil, true
	}
	switch c.Operation {
	case "create", "update":
		var rec PostRecord
		if err := json.Unmarshal(c.Record, &rec); err != nil {
			s.skip("decode post record", PostID(ev.DID, c.RKey), err)
			return ev.TimeUS, nil, true
		}
		s.mu.Lock()
		ok := s.match.match(ev.DID, &rec)
		s.mu.Unlock()
		if !ok {
			return ev.TimeUS, nil, true
		}
		return ev.TimeUS, &item{did: ev.DID, rkey: c.RKey, rec: &rec, timeUS: ev.TimeUS, edited: c.Operation == "update"}, true
	case "delete":
		id := PostID(ev.DID, c.RKey)
		s.mu.Lock()
		_, known := s.recent.Get(id)
		s.mu.Unlock()
		if !known {
			for _, it := range batch {
				known = known || !it.takedown && it.did == ev.DID && it.rkey == c.RKey
			}
		}
		if known {
			return ev.TimeUS, &item{did: ev.DID, rkey: c.RKey, takedown: true, timeUS: ev.TimeUS}, true
		}
	}
	return ev.TimeUS, nil, true
}

func (s *Source) skip(what, id string, err error) {
	s.skipped.Inc()
	s.log.Warn("bluesky: skipping an item that cannot be read", "op", what, "post", id, "err", err)
}

// finish resolves the batch's authors and adapts its posts.
func (s *Source) finish(ctx context.Context, items []item, last int64) ([]post.Post, connectors.AckFunc, error) {
	profiles := s.lookup(ctx, items)
	now := s.now()
	var posts []post.Post
	var ids []string
	for _, it := range items {
		if it.takedown {
			p := post.Takedown(Network, PostID(it.did, it.rkey), s.settings.ID, now)
			if err := p.Normalize(Network, now); err != nil {
				s.skip("takedown", PostID(it.did, it.rkey), err)
				continue
			}
			posts = append(posts, p)
			continue
		}
		p, err := Adapt(it.did, it.rkey, it.rec, profiles[it.did], it.timeUS, s.settings.ID, now)
		if err != nil {
			s.skip("adapt post", PostID(it.did, it.rkey), err)
			continue
		}
		if it.edited {
			// Bluesky records carry no edit time: the commit's is when the
			// new version was written. Curation judges it again.
			p.EditedAt = time.UnixMicro(it.timeUS).UTC()
		}
		posts = append(posts, p)
		ids = append(ids, PostID(it.did, it.rkey))
	}
	s.remember(ids)
	return posts, s.ack(last, false), nil
}

// remember watches ids for deletion.
func (s *Source) remember(ids []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.recent.Put(id, struct{}{})
	}
	s.recentDirty = s.recentDirty || len(ids) > 0
}

// lookup returns the profiles of the batch's authors: from the cache, else
// from app.bsky.actor.getProfiles in batches of 25 within profileBudget. A
// failed lookup leaves the author out (the DID stands in) and is not
// retried for profileRetry.
func (s *Source) lookup(ctx context.Context, items []item) map[string]*Profile {
	out := map[string]*Profile{}
	var missing []string
	now := s.now()
	s.mu.Lock()
	for _, it := range items {
		if it.takedown || out[it.did] != nil || slices.Contains(missing, it.did) {
			continue
		}
		e, ok := s.profiles.Get(it.did)
		switch {
		case ok && e.prof != nil && now.Sub(e.fetched) < profileTTL:
			out[it.did] = e.prof
		case ok && e.prof == nil && now.Sub(e.fetched) < profileRetry:
		default:
			missing = append(missing, it.did)
		}
	}
	s.mu.Unlock()
	if len(missing) == 0 {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, profileBudget)
	defer cancel()
	for chunk := range slices.Chunk(missing, maxProfilesPerCall) {
		profs, err := s.view.getProfiles(ctx, chunk)
		if err != nil {
			s.log.Warn("bluesky: profiles unavailable; showing DIDs", "authors", len(chunk), "err", err)
		}
		s.mu.Lock()
		for i := range profs {
			p := &profs[i]
			if slices.Contains(chunk, p.DID) {
				out[p.DID] = p
				s.profiles.Put(p.DID, profileEntry{prof: p, fetched: now})
			}
		}
		for _, did := range chunk {
			if out[did] == nil {
				s.profiles.Put(did, profileEntry{fetched: now})
			}
		}
		s.mu.Unlock()
	}
	return out
}

// ack commits the batch once stored: the cursor moves to last (the time_us
// of the last event read), and the posts watched for deletion are stored
// now and then. A fresh start's backfill commits the start time.
func (s *Source) ack(last int64, backfill bool) connectors.AckFunc {
	return func(ctx context.Context, err error) error {
		if err != nil {
			return nil
		}
		s.mu.Lock()
		if backfill {
			s.backfilling = false
			last = s.start
		}
		moved := last > s.committed
		if moved {
			s.committed = last
		}
		committed := s.committed
		var recent []byte
		if s.recentDirty && s.now().Sub(s.recentSaved) >= saveRecentEvery {
			recent, _ = json.Marshal(s.recent.Keys())
			s.recentDirty, s.recentSaved = false, s.now()
		}
		s.mu.Unlock()
		if s.cursors == nil {
			return nil
		}
		var errs []error
		if moved {
			if err := s.cursors.Put(ctx, s.key, []byte(strconv.FormatInt(committed, 10))); err != nil {
				errs = append(errs, fmt.Errorf("bluesky: store cursor %s: %w", s.key, err))
			}
		}
		if recent != nil {
			if err := s.cursors.Put(ctx, s.recentKey, recent); err != nil {
				errs = append(errs, fmt.Errorf("bluesky: store cursor %s: %w", s.recentKey, err))
			}
		}
		return errors.Join(errs...)
	}
}

// stream is one open Jetstream connection and its reader.
type stream struct {
	conn *websocket.Conn
	msgs chan msg
	stop chan struct{}
	done chan struct{}
}

type msg struct {
	data []byte
	err  error
}

// open returns the open stream, or connects from the cursor less Rewind.
func (s *Source) open(ctx context.Context) (*stream, error) {
	s.mu.Lock()
	if s.ws != nil {
		ws := s.ws
		s.mu.Unlock()
		return ws, nil
	}
	from := s.committed
	if from == 0 {
		from = s.start
	}
	if from > 0 {
		from = max(from-Rewind.Microseconds(), 1)
	}
	u := subscribeURL(s.settings.BaseURL, from, s.wantedDIDs)
	s.mu.Unlock()
	conn, err := dial(ctx, u, s.ua)
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(maxMessageBytes)
	ws := &stream{conn: conn, msgs: make(chan msg, 512), stop: make(chan struct{}), done: make(chan struct{})}
	go s.readLoop(ws)
	s.mu.Lock()
	s.ws = ws
	s.mu.Unlock()
	return ws, nil
}

// readLoop hands the connection's messages to Read until it fails or is
// stopped; it pings so a quiet but healthy stream is not taken for dead.
func (s *Source) readLoop(ws *stream) {
	defer close(ws.done)
	_ = ws.conn.SetReadDeadline(time.Now().Add(s.idle))
	ws.conn.SetPongHandler(func(string) error { return ws.conn.SetReadDeadline(time.Now().Add(s.idle)) })
	pings := time.NewTicker(s.idle / 3)
	defer pings.Stop()
	pinger := make(chan struct{})
	defer func() { <-pinger }()
	go func() {
		defer close(pinger)
		for {
			select {
			case <-ws.stop:
				return
			case <-pings.C:
				_ = ws.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(5*time.Second))
			}
		}
	}()
	for {
		_, data, err := ws.conn.ReadMessage()
		if err == nil {
			_ = ws.conn.SetReadDeadline(time.Now().Add(s.idle))
		}
		select {
		case ws.msgs <- msg{data: data, err: err}:
		case <-ws.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// closeStream closes the connection and waits for its reader.
func (s *Source) closeStream() {
	s.mu.Lock()
	ws := s.ws
	s.ws = nil
	s.mu.Unlock()
	if ws == nil {
		return
	}
	close(ws.stop)
	_ = ws.conn.Close()
	<-ws.done
}

// Close closes the stream and stores the posts watched for deletion.
func (s *Source) Close(ctx context.Context) error {
	s.closeStream()
	s.mu.Lock()
	var recent []byte
	if s.recentDirty {
		recent, _ = json.Marshal(s.recent.Keys())
		s.recentDirty = false
	}
	s.mu.Unlock()
	if recent == nil || s.cursors == nil {
		return nil
	}
	if err := s.cursors.Put(ctx, s.recentKey, recent); err != nil {
		return fmt.Errorf("bluesky: store cursor %s: %w", s.recentKey, err)
	}
	return nil
}

// backfill searches, on a fresh start with credentials, for the posts of
// the Backfill before the start; Jetstream then goes on from the start.
// It is tried once per start: a failure is returned and the stream goes
// on without it.
func (s *Source) backfill(ctx context.Context) ([]post.Post, connectors.AckFunc, error) {
	s.mu.Lock()
	until := time.UnixMicro(s.start)
	s.mu.Unlock()
	since := until.Add(-s.settings.Backfill)
	giveUp := func(err error) ([]post.Post, connectors.AckFunc, error) {
		s.mu.Lock()
		s.backfilling = false
		s.mu.Unlock()
		return nil, nil, fmt.Errorf("bluesky: backfill skipped: %w", err)
	}
	sess, err := s.pds.createSession(ctx, s.settings.Identifier.Reveal(), s.settings.AppPassword.Reveal())
	if err != nil {
		return giveUp(err)
	}
	var (
		posts []post.Post
		ids   []string
		seen  = map[string]bool{}
		errs  []error
	)
	queries := s.queries()
	for _, q := range queries {
		cursor := ""
		for page := 0; page < maxBackfillPages; page++ {
			resp, err := s.pds.searchPosts(ctx, sess.AccessJwt, q, since, until, cursor)
			if err != nil {
				errs = append(errs, fmt.Errorf("%q: %w", q, err))
				break
			}
			for _, raw := range resp.Posts {
				var v PostView
				if err := json.Unmarshal(raw, &v); err != nil {
					s.skip("decode post view", "", err)
					continue
				}
				p, err := AdaptView(&v, s.settings.ID, s.now())
				if err != nil {
					s.skip("adapt post view", v.URI, err)
					continue
				}
				if !seen[p.ID] {
					seen[p.ID] = true
					posts = append(posts, p)
					ids = append(ids, strings.TrimPrefix(p.ID, Network+":"))
				}
			}
			if resp.Cursor == "" || len(resp.Posts) == 0 || resp.Cursor == cursor {
				break
			}
			cursor = resp.Cursor
		}
	}
	if len(errs) == len(queries) && len(posts) == 0 {
		return giveUp(errors.Join(errs...))
	}
	for _, err := range errs {
		s.log.Warn("bluesky: backfill search failed", "err", err)
	}
	slices.SortStableFunc(posts, func(a, b post.Post) int { return a.CreatedAt.Compare(b.CreatedAt) })
	s.remember(ids)
	return posts, s.ack(0, true), nil
}

// queries are the searches that stand for the source's matching.
func (s *Source) queries() []string {
	var out []string
	for _, t := range s.settings.Hashtags {
		out = append(out, "#"+t)
	}
	for _, k := range s.settings.Keywords {
		if strings.ContainsAny(k, " \t") {
			k = `"` + strings.ReplaceAll(k, `"`, "") + `"`
		}
		out = append(out, k)
	}
	for _, a := range s.settings.Accounts {
		out = append(out, "from:"+a)
	}
	return out
}
