// Package instagram is the source of public Instagram media tagged with
// hashtags, read with Meta's Graph API hashtag search on behalf of an
// Instagram business (or creator) account.
//
// Hashtag search returns no author: posts carry the name "Instagram" and
// no handle. It polls; media deleted after they were read cannot be seen,
// so this source sends no takedowns.
package instagram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/facebook/graph"
	"github.com/chorus-wall/chorus/post"
)

// Settings of an instagram source.
type Settings struct {
	connectors.Common `yaml:",inline"`
	// Compliance: how often the posts shown are checked again.
	connectors.Compliance `yaml:",inline"`
	// BusinessAccountID is the Instagram business or creator account the
	// searches are made for (its IG User id). Required.
	BusinessAccountID string `yaml:"business_account_id"`
	// AccessToken is a user access token of someone with a task on the
	// Facebook Page linked to the account, with instagram_basic and the
	// Instagram Public Content Access feature. Required.
	AccessToken config.Secret `yaml:"access_token"`
	// AppSecret is the Meta app's secret, optional: with it every call
	// carries appsecret_proof, which apps set to "Require App Secret"
	// demand.
	AppSecret config.Secret `yaml:"app_secret"`
}

// Defaults and limits.
const (
	DefaultPollInterval = 5 * time.Minute
	// MaxHashtags is Instagram's limit of unique hashtags an account may
	// search within 7 days.
	MaxHashtags = 30
	// emptyMargin is how far before the first poll of a hashtag without
	// media its cursor starts.
	emptyMargin = 10 * time.Minute
)

var accountID = regexp.MustCompile(`^[0-9]{1,32}$`)

// Validate checks the settings; every error names its key under path.
func (s *Settings) Validate(path string) error {
	errs := s.Common.Validate(path, false)
	errs = append(errs, s.Compliance.Validate(path)...)
	if len(s.Keywords) > 0 {
		errs = append(errs, fmt.Errorf("%s.keywords: not supported by instagram sources (Instagram searches hashtags only)", path))
	}
	if len(s.Accounts) > 0 {
		errs = append(errs, fmt.Errorf("%s.accounts: not supported by instagram sources (hashtag search only)", path))
	}
	if len(s.Hashtags) == 0 {
		errs = append(errs, fmt.Errorf("%s.hashtags: is required (the hashtags to search, without '#')", path))
	}
	seen := map[string]bool{}
	for i, h := range s.Hashtags {
		key := strings.ToLower(h)
		switch {
		case !validTag(h):
			errs = append(errs, fmt.Errorf("%s.hashtags[%d]: %q is not a hashtag Instagram can search (letters, digits and '_', with a letter; no emoji or spaces)", path, i, h))
		case seen[key]:
			errs = append(errs, fmt.Errorf("%s.hashtags[%d]: %q is listed twice", path, i, h))
		}
		seen[key] = true
	}
	if len(seen) > MaxHashtags {
		errs = append(errs, fmt.Errorf("%s.hashtags: %d hashtags, at most %d (Instagram allows an account %d unique hashtags per 7 days)", path, len(seen), MaxHashtags, MaxHashtags))
	}
	if !accountID.MatchString(s.BusinessAccountID) {
		errs = append(errs, fmt.Errorf("%s.business_account_id: is required (the numeric id of the Instagram business account)", path))
	}
	if !s.AccessToken.IsSet() {
		errs = append(errs, fmt.Errorf("%s.access_token: is required (a user access token with instagram_basic)", path))
	}
	return errors.Join(errs...)
}

func validTag(h string) bool {
	letter := false
	for _, r := range h {
		switch {
		case unicode.IsLetter(r):
			letter = true
		case r == '_' || unicode.IsMark(r) || unicode.IsNumber(r):
		default:
			return false
		}
	}
	return letter && len([]rune(h)) <= 100
}

// Source polls the recent media of each hashtag.
type Source struct {
	settings Settings
	tags     []string // lowercased
	client   *client
	cursors  connectors.Cursors
	log      *slog.Logger
	now      func() time.Time
	pace     connectors.Pacer // the next poll; at once after Connect

	mu    sync.Mutex
	state map[string]tagState // committed, by hashtag
	ids   map[string]string   // hashtag ids looked up, not yet stored
}

var _ connectors.Source = (*Source)(nil)

// tagState is what is stored under a hashtag's cursor key: its hashtag id
// (looked up once: every lookup of a new tag counts against the account's
// weekly limit) and how far its media were read.
type tagState struct {
	HashtagID string `json:"hashtag_id,omitempty"`
	graph.Cursor
}

// New builds an instagram source from its config; it is a
// connectors.Factory.
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
	tags := make([]string, len(s.Hashtags))
	for i, h := range s.Hashtags {
		tags[i] = strings.ToLower(h)
	}
	return &Source{
		settings: s,
		tags:     tags,
		client: &client{
			graph:   graph.NewClient(Network, deps.UserAgent, s.BaseURL, s.AccessToken.Reveal(), s.AppSecret.Reveal()),
			account: s.BusinessAccountID,
			log:     deps.Logger,
			skipped: deps.Skipped,
		},
		cursors: deps.Cursors,
		log:     deps.Logger,
		now:     deps.Now,
		pace:    connectors.Pacer{Now: deps.Now},
		state:   map[string]tagState{},
		ids:     map[string]string{},
	}, nil
}

// CursorKey is where a source keeps a hashtag's cursor and hashtag id.
func CursorKey(source, tag string) string {
	return "instagram." + source + "." + graph.KeyPart(strings.ToLower(tag))
}

// Connect loads the stored cursors.
func (s *Source) Connect(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tag := range s.tags {
		if s.cursors == nil {
			break
		}
		key := CursorKey(s.settings.ID, tag)
		var st tagState
		unreadable, err := connectors.LoadCursor(ctx, s.cursors, key, &st)
		if err != nil {
			return fmt.Errorf("instagram: load cursor %s: %w", key, err)
		}
		if unreadable != nil {
			s.log.Warn("instagram: unreadable cursor; starting over", "key", key, "err", unreadable)
			st = tagState{}
		}
		s.state[tag] = st
	}
	s.pace.Schedule(time.Time{})
	return nil
}

// Read polls every hashtag once (waiting for poll_interval after the
// previous successful poll) and returns the new media, each hashtag's
// oldest first; media tagged with several of the hashtags come once. The
// cursors move in the AckFunc.
//
// A rate limit or a refused token fails the whole poll; an error about
// one hashtag (unknown, refused as sensitive) is logged and that hashtag
// skipped, and the poll fails only when every hashtag failed.
func (s *Source) Read(ctx context.Context) ([]post.Post, connectors.AckFunc, error) {
	if err := s.pace.Wait(ctx); err != nil {
		return nil, nil, err
	}
	start := s.now()
	var (
		out     []post.Post
		pending = map[string]tagState{}
		failed  []error
		seen    = map[string]bool{}
	)
	for _, tag := range s.tags {
		s.mu.Lock()
		st := s.state[tag]
		st.Cursor = st.Cursor.Clone()
		if st.HashtagID == "" {
			st.HashtagID = s.ids[tag]
		}
		s.mu.Unlock()
		posts, err := s.poll(ctx, tag, &st, start)
		if err != nil {
			if graph.Fatal(ctx, err) {
				return nil, nil, err
			}
			s.log.Error("instagram: hashtag failed; skipping it this poll", "hashtag", tag, "err", err)
			failed = append(failed, err)
			continue
		}
		for _, p := range posts {
			if !seen[p.ID] {
				seen[p.ID] = true
				out = append(out, p)
			}
		}
		pending[tag] = st
	}
	if len(pending) == 0 && len(failed) > 0 {
		return nil, nil, errors.Join(failed...)
	}
	s.pace.Schedule(start.Add(s.settings.PollInterval))
	return out, s.ack(pending), nil
}

// poll reads one hashtag's new media, looking its id up first if needed.
func (s *Source) poll(ctx context.Context, tag string, st *tagState, now time.Time) ([]post.Post, error) {
	if st.HashtagID == "" {
		id, err := s.client.hashtagID(ctx, tag)
		if err != nil {
			return nil, err
		}
		st.HashtagID = id
		s.mu.Lock()
		s.ids[tag] = id // kept even if this poll fails: no second lookup
		s.mu.Unlock()
	}
	items, err := s.client.newMedia(ctx, tag, st.HashtagID, st.Cursor)
	if err != nil {
		return nil, err
	}
	first := st.Cursor.IsZero()
	sort.SliceStable(items, func(i, j int) bool {
		if !items[i].Created.Equal(items[j].Created) {
			return items[i].Created.Before(items[j].Created)
		}
		return items[i].Wire.ID < items[j].Wire.ID
	})
	out := make([]post.Post, 0, len(items))
	for _, it := range items {
		st.Cursor.Advance(it.Created, it.Wire.ID)
		p, err := AdaptMedia(it.Wire, it.Created, s.settings.ID, now)
		if err != nil {
			s.client.skip(fmt.Sprintf("hashtag %q", tag), err)
			continue
		}
		out = append(out, p)
	}
	if first && len(items) == 0 {
		st.Cursor.Time = now.Add(-emptyMargin).Unix()
	}
	return out, nil
}

// ack stores the hashtags' new states once their posts are on the bus.
func (s *Source) ack(pending map[string]tagState) connectors.AckFunc {
	return func(ctx context.Context, err error) error {
		if err != nil {
			return nil
		}
		var errs []error
		for tag, st := range pending {
			key := CursorKey(s.settings.ID, tag)
			if err := connectors.StoreCursor(ctx, s.cursors, key, st); err != nil {
				errs = append(errs, fmt.Errorf("instagram: store cursor %s: %w", key, err))
				continue
			}
			s.mu.Lock()
			s.state[tag] = st
			s.mu.Unlock()
		}
		return errors.Join(errs...)
	}
}

// Close does nothing: the source holds no connection.
func (s *Source) Close(context.Context) error { return nil }
