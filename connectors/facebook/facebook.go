// Package facebook is the source of posts of Facebook Pages a brand
// manages, read from Meta's Graph API: each page's own posts, optionally
// the posts it is tagged in, and optionally the comments on both.
//
// It polls; posts deleted at Facebook after they were read cannot be seen
// by polling, so this source sends no takedowns (moderators remove them).
package facebook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/facebook/graph"
	"github.com/chorus-wall/chorus/post"
)

// Settings of a facebook source.
type Settings struct {
	connectors.Common `yaml:",inline"`
	// Compliance: how often the posts shown are checked again.
	connectors.Compliance `yaml:",inline"`
	// Pages are the ids (or usernames) of the Facebook Pages to read.
	// Required.
	Pages []string `yaml:"pages"`
	// AccessToken is a Page access token or a system user's token with
	// pages_read_engagement and pages_read_user_content. Required.
	AccessToken config.Secret `yaml:"access_token"`
	// AppSecret is the Meta app's secret, optional: with it every call
	// carries appsecret_proof, which apps set to "Require App Secret"
	// demand.
	AppSecret config.Secret `yaml:"app_secret"`
	// IncludeTagged also reads /{page-id}/tagged: posts the page is
	// tagged in.
	IncludeTagged bool `yaml:"include_tagged"`
	// IncludeComments also reads the comments on posts of the last
	// commentsWindow, as reply posts.
	IncludeComments bool `yaml:"include_comments"`
}

// Defaults and limits.
const (
	DefaultPollInterval = 2 * time.Minute
	maxPagesSetting     = 100
	// commentsWindow is how long after a post its comments are followed,
	// and maxWatched how many of each query's newest posts at most.
	commentsWindow = 24 * time.Hour
	maxWatched     = 10
	// emptyMargin is how far before the first poll of an empty edge its
	// cursor starts, for posts created meanwhile on a clock behind ours.
	emptyMargin = 10 * time.Minute
)

var pageID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// Validate checks the settings; every error names its key under path.
func (s *Settings) Validate(path string) error {
	errs := s.Common.Validate(path, false)
	errs = append(errs, s.Compliance.Validate(path)...)
	for key, set := range map[string]int{"hashtags": len(s.Hashtags), "keywords": len(s.Keywords), "accounts": len(s.Accounts)} {
		if set > 0 {
			errs = append(errs, fmt.Errorf("%s.%s: not supported by facebook sources (they read the pages listed in pages; filter in the stream)", path, key))
		}
	}
	switch {
	case len(s.Pages) == 0:
		errs = append(errs, fmt.Errorf("%s.pages: is required (the ids of the Facebook Pages to read)", path))
	case len(s.Pages) > maxPagesSetting:
		errs = append(errs, fmt.Errorf("%s.pages: %d pages, at most %d", path, len(s.Pages), maxPagesSetting))
	}
	seen := map[string]bool{}
	for i, p := range s.Pages {
		switch {
		case !pageID.MatchString(p):
			errs = append(errs, fmt.Errorf("%s.pages[%d]: %q is not a page id or username", path, i, p))
		case seen[p]:
			errs = append(errs, fmt.Errorf("%s.pages[%d]: %q is listed twice", path, i, p))
		}
		seen[p] = true
	}
	if !s.AccessToken.IsSet() {
		errs = append(errs, fmt.Errorf("%s.access_token: is required (a Page or system user access token)", path))
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}

// Source polls the Graph API for the configured pages.
type Source struct {
	settings Settings
	client   *client
	cursors  connectors.Cursors
	log      *slog.Logger
	now      func() time.Time
	pace     connectors.Pacer // the next poll; at once after Connect

	mu    sync.Mutex
	state map[string]edgeState // committed, by cursor key
}

var _ connectors.Source = (*Source)(nil)

// edgeState is what is stored under a query's cursor key: where the edge
// was read up to and, with include_comments, the posts whose comments are
// followed.
type edgeState struct {
	graph.Cursor
	Watch []watched `json:"watch,omitempty"`
}

// watched is a post whose comments are followed until commentsWindow after
// its creation.
type watched struct {
	ID       string       `json:"id"`
	Created  int64        `json:"created"`
	Comments graph.Cursor `json:"comments"`
}

func (e edgeState) clone() edgeState {
	c := edgeState{Cursor: e.Cursor.Clone(), Watch: slices.Clone(e.Watch)}
	for i := range c.Watch {
		c.Watch[i].Comments = c.Watch[i].Comments.Clone()
	}
	return c
}

// New builds a facebook source from its config; it is a connectors.Factory.
func New(spec config.Source, deps connectors.Deps) (connectors.Source, error) {
	var s Settings
	if err := spec.Decode(&s); err != nil {
		return nil, err
	}
	s.ID, s.Type = spec.ID, spec.Type
	s.Common.Normalize(graph.DefaultBaseURL, DefaultPollInterval)
	s.Compliance.Normalize(complianceRate, 1)
	if err := s.Validate(spec.Path()); err != nil {
		return nil, err
	}
	deps = deps.WithDefaults()
	return &Source{
		settings: s,
		client: &client{
			graph:   graph.NewClient(Network, deps.UserAgent, s.BaseURL, s.AccessToken.Reveal(), s.AppSecret.Reveal()),
			log:     deps.Logger,
			skipped: deps.Skipped,
		},
		cursors: deps.Cursors,
		log:     deps.Logger,
		now:     deps.Now,
		pace:    connectors.Pacer{Now: deps.Now},
		state:   map[string]edgeState{},
	}, nil
}

// query is one page's edge.
type query struct{ page, edge, key string }

func (s *Source) queries() []query {
	edges := []string{"posts"}
	if s.settings.IncludeTagged {
		edges = append(edges, "tagged")
	}
	var qs []query
	for _, p := range s.settings.Pages {
		for _, e := range edges {
			qs = append(qs, query{page: p, edge: e, key: CursorKey(s.settings.ID, p, e)})
		}
	}
	return qs
}

// CursorKey is where a source keeps its cursor for a page's edge.
func CursorKey(source, page, edge string) string {
	return "facebook." + source + "." + graph.KeyPart(page) + "." + edge
}

// Connect loads the stored cursors.
func (s *Source) Connect(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.queries() {
		if s.cursors == nil {
			break
		}
		var st edgeState
		unreadable, err := connectors.LoadCursor(ctx, s.cursors, q.key, &st)
		if err != nil {
			return fmt.Errorf("facebook: load cursor %s: %w", q.key, err)
		}
		if unreadable != nil {
			s.log.Warn("facebook: unreadable cursor; starting over", "key", q.key, "err", unreadable)
			st = edgeState{}
		}
		s.state[q.key] = st
	}
	s.pace.Schedule(time.Time{})
	return nil
}

// Read polls every query once (waiting for poll_interval after the
// previous successful poll) and returns the new posts, each query's oldest
// first, then the new comments. The cursors move in the AckFunc.
//
// A rate limit or a refused token fails the whole poll. Any other error
// concerns one query (a page that does not exist, or that the token
// cannot read): it is logged and that query is skipped, so the other
// pages keep flowing; the poll fails only when every query failed.
func (s *Source) Read(ctx context.Context) ([]post.Post, connectors.AckFunc, error) {
	if err := s.pace.Wait(ctx); err != nil {
		return nil, nil, err
	}
	start := s.now()
	var (
		out     []post.Post
		pending = map[string]edgeState{}
		failed  []error
		seen    = map[string]bool{}
	)
	for _, q := range s.queries() {
		s.mu.Lock()
		st := s.state[q.key].clone()
		s.mu.Unlock()
		posts, err := s.poll(ctx, q, &st, start)
		if err != nil {
			if graph.Fatal(ctx, err) {
				return nil, nil, err
			}
			s.log.Error("facebook: query failed; skipping it this poll", "page", q.page, "edge", q.edge, "err", err)
			failed = append(failed, err)
			continue
		}
		for _, p := range posts {
			// A post on one configured page that tags another comes twice.
			if !seen[p.ID] {
				seen[p.ID] = true
				out = append(out, p)
			}
		}
		pending[q.key] = st
	}
	if len(pending) == 0 && len(failed) > 0 {
		return nil, nil, errors.Join(failed...)
	}
	s.pace.Schedule(start.Add(s.settings.PollInterval))
	return out, s.ack(pending), nil
}

// ack stores the queries' new states once their posts are on the bus.
func (s *Source) ack(pending map[string]edgeState) connectors.AckFunc {
	return func(ctx context.Context, err error) error {
		if err != nil {
			return nil
		}
		var errs []error
		for key, st := range pending {
			if err := connectors.StoreCursor(ctx, s.cursors, key, st); err != nil {
				errs = append(errs, fmt.Errorf("facebook: store cursor %s: %w", key, err))
				continue
			}
			s.mu.Lock()
			s.state[key] = st
			s.mu.Unlock()
		}
		return errors.Join(errs...)
	}
}

// poll reads one query's new posts (and, with include_comments, the new
// comments of its recent posts), moving st past them.
func (s *Source) poll(ctx context.Context, q query, st *edgeState, now time.Time) ([]post.Post, error) {
	items, err := s.client.newPosts(ctx, q.page, q.edge, st.Cursor)
	if err != nil {
		return nil, err
	}
	first := st.Cursor.IsZero()
	var out []post.Post
	for i := len(items) - 1; i >= 0; i-- { // oldest first
		it := items[i]
		st.Cursor.Advance(it.Created, it.Wire.ID)
		p, err := AdaptPost(it.Wire, it.Created, s.settings.ID, now)
		if err != nil {
			s.client.skip(q.page+" "+q.edge, err)
			continue
		}
		out = append(out, p)
		if s.settings.IncludeComments {
			st.Watch = append(st.Watch, watched{ID: it.Wire.ID, Created: it.Created.Unix()})
		}
	}
	sortByTime(out)
	if first && len(items) == 0 {
		st.Cursor.Time = now.Add(-emptyMargin).Unix()
	}
	if !s.settings.IncludeComments {
		st.Watch = nil
		return out, nil
	}
	st.Watch = prune(st.Watch, now)
	var replies []post.Post
	kept := st.Watch[:0]
	for _, w := range st.Watch {
		comments, err := s.client.newComments(ctx, w.ID, w.Comments)
		var apiErr *graph.APIError
		switch {
		case errors.As(err, &apiErr) && apiErr.InvalidQuery():
			// The post is gone (or hidden from this token): stop following it.
			s.log.Info("facebook: post no longer readable; no longer following its comments", "post", w.ID, "err", err)
			continue
		case err != nil:
			return nil, err
		}
		for i := len(comments) - 1; i >= 0; i-- {
			c := comments[i]
			w.Comments.Advance(c.Created, c.Wire.ID)
			p, err := AdaptComment(c.Wire, c.Created, s.settings.ID, now)
			if err != nil {
				s.client.skip("comments of "+w.ID, err)
				continue
			}
			replies = append(replies, p)
		}
		kept = append(kept, w)
	}
	st.Watch = kept
	sortByTime(replies)
	return append(out, replies...), nil
}

// prune keeps the watched posts younger than commentsWindow, at most
// maxWatched of the newest, without repeats.
func prune(ws []watched, now time.Time) []watched {
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].Created > ws[j].Created })
	out := ws[:0]
	seen := map[string]bool{}
	for _, w := range ws {
		if seen[w.ID] || now.Sub(time.Unix(w.Created, 0)) > commentsWindow || len(out) >= maxWatched {
			continue
		}
		seen[w.ID] = true
		out = append(out, w)
	}
	return out
}

// Close does nothing: the source holds no connection.
func (s *Source) Close(context.Context) error { return nil }
