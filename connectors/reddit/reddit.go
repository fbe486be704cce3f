// Package reddit is the Reddit source: the newest posts of subreddits and
// users, and Reddit search for keywords and hashtags, read from the
// public listing JSON anonymously or with an application-only OAuth token.
package reddit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/fetch"
	"github.com/chorus-wall/chorus/post"
)

// Settings of a reddit source.
type Settings struct {
	connectors.Common `yaml:",inline"`
	// Subreddits whose new posts to gather, without "r/".
	Subreddits []string `yaml:"subreddits"`
	// ClientID and ClientSecret of a Reddit "script" or "web" app switch
	// to OAuth (oauth.reddit.com, higher limits). Both or neither.
	ClientID     config.Secret `yaml:"client_id"`
	ClientSecret config.Secret `yaml:"client_secret"`
	// TokenURL is where tokens come from (tests point it elsewhere).
	TokenURL string `yaml:"token_url"`
	// Compliance: how often the posts shown are checked again.
	connectors.Compliance `yaml:",inline"`
}

// Defaults and limits.
const (
	DefaultPollInterval = time.Minute
	AnonymousBaseURL    = "https://www.reddit.com"
	OAuthBaseURL        = "https://oauth.reddit.com"
	DefaultTokenURL     = "https://www.reddit.com/api/v1/access_token"
	// pageLimit is the most posts Reddit returns per listing page.
	pageLimit = 100
	// maxPages bounds the pages one query reads per poll.
	maxPages = 10
	// recentLimit bounds the published post names a query remembers, to
	// notice their removal and not publish them twice.
	recentLimit = 300
)

var (
	subredditName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_]{1,20}$`)
	userName      = regexp.MustCompile(`^[A-Za-z0-9_-]{3,20}$`)
)

// Source polls Reddit listings.
type Source struct {
	settings Settings
	client   *client
	queries  []*query
	cursors  connectors.Cursors
	log      *slog.Logger
	now      func() time.Time
	skipped  prometheus.Counter
	pace     connectors.Pacer // the next poll; at once at first
}

var _ connectors.Source = (*Source)(nil)

// query is one listing to follow, with its committed cursor.
type query struct {
	name   string // for logs: r/golang, search "gopher", u/spez
	key    string // cursor key
	path   string
	params url.Values

	mu     sync.Mutex
	cursor queryCursor
}

// queryCursor is a query's resume point: the newest post seen (its
// fullname, the "before" anchor, and its creation time), the names of the
// posts published lately and of the children skipped lately, newest first.
type queryCursor struct {
	Before  string   `json:"before,omitempty"`
	Created float64  `json:"created,omitempty"`
	Recent  []string `json:"recent,omitempty"`
	// Skipped names the listing children lately skipped and counted as
	// unparsed (comments, posts that do not decode), newest first, so
	// that a listing read again (every quiet poll reads its top) does
	// not count them again.
	Skipped []string `json:"skipped,omitempty"`
}

// New builds a reddit source from its config; it is a connectors.Factory.
func New(spec config.Source, deps connectors.Deps) (connectors.Source, error) {
	var s Settings
	if err := spec.Decode(&s); err != nil {
		return nil, err
	}
	s.ID, s.Type = spec.ID, spec.Type
	path := spec.Path()
	oauth := s.ClientID.IsSet() || s.ClientSecret.IsSet()
	base := AnonymousBaseURL
	if oauth {
		base = OAuthBaseURL
	}
	s.Common.Normalize(base, DefaultPollInterval)
	s.Compliance.Normalize(complianceRate, complianceBatch)
	if s.TokenURL == "" {
		s.TokenURL = DefaultTokenURL
	}
	for i := range s.Subreddits {
		s.Subreddits[i] = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s.Subreddits[i]), "/"), "r/")
	}
	var errs []error
	if len(s.Subreddits)+len(s.Keywords)+len(s.Hashtags)+len(s.Accounts) == 0 {
		errs = append(errs, fmt.Errorf("%s: set at least one of subreddits, keywords, hashtags or accounts", path))
	}
	errs = append(errs, s.Common.Validate(path, false)...)
	errs = append(errs, s.Compliance.Validate(path)...)
	for i, sub := range s.Subreddits {
		if !subredditName.MatchString(sub) {
			errs = append(errs, fmt.Errorf("%s.subreddits[%d]: %q is not a subreddit name (letters, digits, '_')", path, i, sub))
		}
	}
	for i, a := range s.Accounts {
		a = strings.TrimPrefix(strings.TrimPrefix(a, "/"), "u/")
		s.Accounts[i] = a
		if !userName.MatchString(a) {
			errs = append(errs, fmt.Errorf("%s.accounts[%d]: %q is not a Reddit user name", path, i, a))
		}
	}
	if s.ClientID.IsSet() != s.ClientSecret.IsSet() {
		missing := "client_secret"
		if !s.ClientID.IsSet() {
			missing = "client_id"
		}
		errs = append(errs, fmt.Errorf("%s.%s: is required with %s", path, missing, map[string]string{"client_id": "client_secret", "client_secret": "client_id"}[missing]))
	}
	if err := connectors.CheckBaseURL(s.TokenURL); err != nil {
		errs = append(errs, fmt.Errorf("%s.token_url: %w", path, err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	deps = deps.WithDefaults()
	hc := fetch.New(Network, deps.UserAgent)
	hc.Now = deps.Now
	src := &Source{
		settings: s,
		client:   &client{http: hc, base: s.BaseURL, tokenURL: s.TokenURL, id: s.ClientID.Reveal(), secret: s.ClientSecret.Reveal(), now: deps.Now},
		cursors:  deps.Cursors,
		log:      deps.Logger,
		now:      deps.Now,
		skipped:  deps.Skipped,
		pace:     connectors.Pacer{Now: deps.Now},
	}
	src.queries = buildQueries(s)
	return src, nil
}

// buildQueries lists the listings a source follows: each subreddit's new
// posts, each user's submissions, and a site-wide search (newest first)
// per keyword and hashtag.
func buildQueries(s Settings) []*query {
	var qs []*query
	add := func(name, sub, path string, params url.Values) {
		params.Set("limit", strconv.Itoa(pageLimit))
		qs = append(qs, &query{name: name, key: "reddit." + s.ID + "." + sub, path: path, params: params})
	}
	for _, sub := range s.Subreddits {
		add("r/"+sub, "r_"+strings.ToLower(sub), "/r/"+sub+"/new", url.Values{})
	}
	for _, a := range s.Accounts {
		add("u/"+a, "u_"+strings.ToLower(a), "/user/"+a+"/submitted", url.Values{"sort": {"new"}})
	}
	terms := slices.Clone(s.Keywords)
	for _, h := range s.Hashtags {
		terms = append(terms, "#"+h)
	}
	for _, t := range terms {
		sum := sha256.Sum256([]byte(t))
		add("search "+strconv.Quote(t), "q_"+hex.EncodeToString(sum[:6]), "/search", url.Values{"q": {t}, "sort": {"new"}, "type": {"link"}})
	}
	return qs
}

// Settings returns the source's settings after defaults.
func (s *Source) Settings() Settings { return s.settings }

// Connect loads every query's cursor; an unreadable one is logged and
// replaced by a fresh start.
func (s *Source) Connect(ctx context.Context) error {
	for _, q := range s.queries {
		if s.cursors == nil {
			continue
		}
		var c queryCursor
		unreadable, err := connectors.LoadCursor(ctx, s.cursors, q.key, &c)
		if err != nil {
			return fmt.Errorf("reddit: load cursor %s: %w", q.key, err)
		}
		if unreadable != nil {
			s.log.Warn("reddit: unreadable cursor; starting afresh", "key", q.key, "err", unreadable)
			c = queryCursor{}
		}
		q.mu.Lock()
		q.cursor = c
		q.mu.Unlock()
	}
	return nil
}

// Close releases nothing.
func (s *Source) Close(context.Context) error { return nil }

type polled struct {
	q      *query
	posts  []post.Post
	cursor queryCursor
	err    error
}

// Read waits for the next poll (the first is at once) and reads every
// query's new posts, oldest first, with takedowns for published posts
// seen removed. A rate limit or refused credentials end the poll with
// that error; a query that fails otherwise (a private or banned
// subreddit) is logged and the others go on.
func (s *Source) Read(ctx context.Context) ([]post.Post, connectors.AckFunc, error) {
	if err := s.pace.Wait(ctx); err != nil {
		return nil, nil, err
	}
	s.pace.After(s.settings.PollInterval) // from this poll's start, whatever its outcome
	var results []polled
	var posts []post.Post
	var errs []error
	for _, q := range s.queries {
		r := s.poll(ctx, q)
		if r.err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			var retry *connectors.RetryError
			var tokErr *tokenError
			if errors.As(r.err, &retry) || errors.As(r.err, &tokErr) {
				return nil, nil, r.err
			}
			errs = append(errs, r.err)
			if len(s.queries) > 1 {
				s.log.Warn("reddit: query failed; the others go on", "query", q.name, "err", r.err)
			}
			continue
		}
		results = append(results, r)
		posts = append(posts, r.posts...)
	}
	if len(errs) == len(s.queries) {
		return nil, nil, errors.Join(errs...)
	}
	return posts, s.ack(results), nil
}

func (s *Source) ack(results []polled) connectors.AckFunc {
	return func(ctx context.Context, err error) error {
		if err != nil {
			return nil
		}
		var errs []error
		for _, r := range results {
			r.q.mu.Lock()
			changed := r.q.cursor.Before != r.cursor.Before || r.q.cursor.Created != r.cursor.Created ||
				!slices.Equal(r.q.cursor.Recent, r.cursor.Recent) || !slices.Equal(r.q.cursor.Skipped, r.cursor.Skipped)
			r.q.cursor = r.cursor
			r.q.mu.Unlock()
			if !changed {
				continue
			}
			if perr := connectors.StoreCursor(ctx, s.cursors, r.q.key, r.cursor); perr != nil {
				errs = append(errs, fmt.Errorf("reddit: store cursor %s: %w", r.q.key, perr))
			}
		}
		return errors.Join(errs...)
	}
}

// page is one listing page's posts as Reddit ordered them, newest first.
type page []*Link

// poll reads a query's posts newer than its cursor.
//
// With a cursor, it asks for the posts before (newer than) the anchor,
// page by page towards the newest. Reddit answers an empty page both when
// nothing is new and when the anchor post was deleted or removed; so an
// empty answer is checked by reading the listing from the top, following
// "after" until a post no newer than the anchor's time, and keeping what
// was not published yet. That top page is also where posts published
// earlier are seen again: those now removed become takedowns.
func (s *Source) poll(ctx context.Context, q *query) polled {
	q.mu.Lock()
	cur := q.cursor
	q.mu.Unlock()
	res := polled{q: q, cursor: cur}
	recent := make(map[string]bool, len(cur.Recent))
	for _, n := range cur.Recent {
		recent[n] = true
	}
	skips := newSkips(cur.Skipped)
	var links []*Link // newest first
	var takedowns []post.Post
	var top *Link // the newest post listed, when the top was read
	fellBack := false
	switch {
	case cur.Before == "":
		// First poll: the newest page only.
		pg, _, err := s.page(ctx, q, url.Values{}, skips)
		if err != nil {
			res.err = err
			return res
		}
		links = pg
	default:
		var newer []page // oldest page first
		anchor := cur.Before
		for range maxPages {
			pg, full, err := s.page(ctx, q, url.Values{"before": {anchor}}, skips)
			if err != nil {
				res.err = err
				return res
			}
			if len(pg) == 0 {
				break
			}
			newer = append(newer, pg)
			if !full {
				break
			}
			anchor = pg[0].Name
		}
		if len(newer) > 0 {
			for i := len(newer) - 1; i >= 0; i-- {
				links = append(links, newer[i]...)
			}
			break
		}
		// Nothing before the anchor: nothing new, or the anchor is gone.
		fellBack = true
		after := ""
		for range maxPages {
			params := url.Values{}
			if after != "" {
				params.Set("after", after)
			}
			pg, full, err := s.page(ctx, q, params, skips)
			if err != nil {
				res.err = err
				return res
			}
			reached := false
			for _, l := range pg {
				if top == nil && !Removed(l) {
					top = l
				}
				if float64(l.CreatedUTC) < cur.Created || l.Name == cur.Before {
					reached = true
				}
				if recent[l.Name] && Removed(l) {
					takedowns = append(takedowns, post.Takedown(Network, PostID(l), s.settings.ID, s.now()))
					delete(recent, l.Name)
					continue
				}
				if float64(l.CreatedUTC) >= cur.Created && l.Name != cur.Before {
					links = append(links, l)
				}
			}
			if reached || !full || len(pg) == 0 {
				break
			}
			after = pg[len(pg)-1].Name
		}
	}
	now := s.now()
	newest := cur
	var fresh []post.Post
	var published []string
	for i := len(links) - 1; i >= 0; i-- { // oldest first
		l := links[i]
		if recent[l.Name] {
			continue
		}
		if created := float64(l.CreatedUTC); !Removed(l) && (newest.Before == "" || created >= newest.Created) {
			newest.Before, newest.Created = l.Name, created
		}
		if Removed(l) {
			continue // never shown; nothing to take down
		}
		p, err := Adapt(l, s.settings.ID, now)
		if err != nil {
			// Remembered as published, so it is counted once.
			s.skipped.Inc()
			s.log.Warn("reddit: skipped a post", "query", q.name, "post", l.Name, "err", err)
			recent[l.Name] = true
			published = append(published, l.Name)
			continue
		}
		recent[l.Name] = true
		published = append(published, l.Name)
		fresh = append(fresh, p)
	}
	if fellBack && top != nil && newest.Before == cur.Before && top.Name != cur.Before {
		// The anchor is gone from the listing: anchor on the newest post
		// still there, so the next poll can use "before" again.
		newest.Before = top.Name
	}
	res.posts = append(takedowns, fresh...)
	slices.Reverse(published)
	res.cursor = queryCursor{Before: newest.Before, Created: newest.Created, Recent: keepRecent(published, cur.Recent, recent),
		Skipped: skips.list()}
	return res
}

// keepRecent is the new list of recently published names: the fresh ones
// (newest first), then the older ones still remembered, up to recentLimit.
func keepRecent(fresh, old []string, still map[string]bool) []string {
	out := make([]string, 0, min(recentLimit, len(fresh)+len(old)))
	out = append(out, fresh[:min(len(fresh), recentLimit)]...)
	for _, n := range old {
		if len(out) >= recentLimit {
			break
		}
		if still[n] {
			out = append(out, n)
		}
	}
	return out
}

// skips are the listing children a query skipped lately: those in its
// cursor, and those found skipped in this poll.
type skips struct {
	known map[string]bool
	fresh []string // newest first
	old   []string
}

func newSkips(old []string) *skips {
	k := &skips{known: make(map[string]bool, len(old)), old: old}
	for _, n := range old {
		k.known[n] = true
	}
	return k
}

// first reports whether the child named name is skipped for the first
// time, and remembers it.
func (k *skips) first(name string) bool {
	if k.known[name] {
		return false
	}
	k.known[name] = true
	k.fresh = append(k.fresh, name)
	return true
}

// list is the new and then the remembered names, up to recentLimit: the
// same list while nothing new is skipped, so the cursor is not rewritten.
func (k *skips) list() []string {
	out := append(slices.Clone(k.fresh), k.old...)
	if len(out) > recentLimit {
		out = out[:recentLimit]
	}
	return out
}

// page fetches one listing page and decodes its posts, skipping children
// that are not readable posts and counting each of them once (by skipped).
// full reports a page as long as the limit, after which more may follow.
func (s *Source) page(ctx context.Context, q *query, extra url.Values, skipped *skips) (page, bool, error) {
	params := url.Values{}
	for k, v := range q.params {
		params[k] = v
	}
	for k, v := range extra {
		params[k] = v
	}
	l, err := s.client.listing(ctx, q.path, params)
	if err != nil {
		return nil, false, fmt.Errorf("reddit: %s: %w", q.name, err)
	}
	out := make(page, 0, len(l.Data.Children))
	for _, child := range l.Data.Children {
		link, err := parseLink(child)
		if err != nil {
			if skipped.first(childName(child)) {
				s.skipped.Inc()
				s.log.Warn("reddit: skipped a listing child", "query", q.name, "err", err)
			}
			continue
		}
		out = append(out, link)
	}
	return out, len(l.Data.Children) >= pageLimit, nil
}
