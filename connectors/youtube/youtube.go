// Package youtube is the YouTube source: videos found by search.list
// (keywords, hashtags, channels) through the Data API v3 with an API key,
// and the messages of one live chat (liveChatMessages.list).
package youtube

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
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/fetch"
	"github.com/chorus-wall/chorus/post"
)

// Settings of a youtube source.
type Settings struct {
	connectors.Common `yaml:",inline"`
	// APIKey is a Google Cloud API key with the YouTube Data API v3 on.
	APIKey config.Secret `yaml:"api_key"`
	// LiveChatID is the live chat to read; LiveVideoID is a live video
	// whose active chat to read. At most one.
	LiveChatID  string `yaml:"live_chat_id"`
	LiveVideoID string `yaml:"live_video_id"`
	// Statistics adds a videos.list call (1 quota unit per 50 videos) for
	// counts, the full description, language and age restriction.
	Statistics *bool `yaml:"statistics"`
	// Lookback is how far before the newest video seen a search looks
	// again, for videos that reach search late.
	Lookback time.Duration `yaml:"lookback"`
	// ChatMinInterval is the least wait between chat polls, above the
	// pollingIntervalMillis YouTube asks for.
	ChatMinInterval time.Duration `yaml:"chat_min_interval"`
	// Compliance: how often the videos shown are checked again.
	connectors.Compliance `yaml:",inline"`
}

// Defaults and limits.
const (
	DefaultBaseURL      = "https://www.googleapis.com"
	DefaultPollInterval = 15 * time.Minute
	DefaultLookback     = time.Hour
	// maxSearchPages bounds the search.list pages (100 units each) one
	// query reads per poll.
	maxSearchPages = 4
	// seenLimit bounds the video ids a search remembers.
	seenLimit = 500
	// minChatWait and maxChatWait bound the wait between chat polls.
	minChatWait = time.Second
	maxChatWait = time.Minute
)

var (
	channelID = regexp.MustCompile(`^UC[A-Za-z0-9_-]{22}$`)
	videoID   = regexp.MustCompile(`^[A-Za-z0-9_-]{11}$`)
)

// Source reads YouTube searches and a live chat.
type Source struct {
	settings Settings
	client   *client
	searches []*search
	chat     *chat
	cursors  connectors.Cursors
	log      *slog.Logger
	now      func() time.Time
	skipped  prometheus.Counter

	mu         sync.Mutex
	searchDue  time.Time
	chatDue    time.Time
	idleDue    time.Time
	bansSeen   int64
	ignoredMsg int64
}

var _ connectors.Source = (*Source)(nil)

// search is one search.list query with its committed cursor.
type search struct {
	name   string
	key    string
	params url.Values

	mu     sync.Mutex
	cursor searchCursor
}

// searchCursor: the newest publishedAt seen and the ids of the videos
// already handled, newest first.
type searchCursor struct {
	Newest time.Time `json:"newest,omitzero"`
	Seen   []string  `json:"seen,omitempty"`
}

// chat is the live chat followed, with its committed cursor.
type chat struct {
	key string

	mu     sync.Mutex
	cursor chatCursor
}

// chatCursor: the chat and the page token to read it from; Ended once the
// chat went offline.
type chatCursor struct {
	LiveChatID string `json:"live_chat_id,omitempty"`
	PageToken  string `json:"page_token,omitempty"`
	Ended      bool   `json:"ended,omitempty"`
}

// New builds a youtube source from its config; it is a connectors.Factory.
func New(spec config.Source, deps connectors.Deps) (connectors.Source, error) {
	var s Settings
	if err := spec.Decode(&s); err != nil {
		return nil, err
	}
	s.ID, s.Type = spec.ID, spec.Type
	path := spec.Path()
	s.Common.Normalize(DefaultBaseURL, DefaultPollInterval)
	s.Compliance.Normalize(complianceRate, complianceBatch)
	if s.Statistics == nil {
		yes := true
		s.Statistics = &yes
	}
	if s.Lookback == 0 {
		s.Lookback = DefaultLookback
	}
	var errs []error
	if !s.APIKey.IsSet() {
		errs = append(errs, fmt.Errorf("%s.api_key: is required", path))
	}
	if len(s.Keywords)+len(s.Hashtags)+len(s.Accounts) == 0 && s.LiveChatID == "" && s.LiveVideoID == "" {
		errs = append(errs, fmt.Errorf("%s: set at least one of keywords, hashtags, accounts, live_chat_id or live_video_id", path))
	}
	errs = append(errs, s.Common.Validate(path, false)...)
	errs = append(errs, s.Compliance.Validate(path)...)
	for i, a := range s.Accounts {
		if !channelID.MatchString(a) {
			errs = append(errs, fmt.Errorf("%s.accounts[%d]: %q is not a channel id (UC and 22 characters)", path, i, a))
		}
	}
	if s.LiveChatID != "" && s.LiveVideoID != "" {
		errs = append(errs, fmt.Errorf("%s.live_video_id: set live_chat_id or live_video_id, not both", path))
	}
	if s.LiveVideoID != "" && !videoID.MatchString(s.LiveVideoID) {
		errs = append(errs, fmt.Errorf("%s.live_video_id: %q is not a video id (11 characters)", path, s.LiveVideoID))
	}
	if s.Lookback < 0 || s.Lookback > 7*24*time.Hour {
		errs = append(errs, fmt.Errorf("%s.lookback: %s must be between 0 and 168h", path, s.Lookback))
	}
	if s.ChatMinInterval < 0 || s.ChatMinInterval > maxChatWait {
		errs = append(errs, fmt.Errorf("%s.chat_min_interval: %s must be between 0 and %s", path, s.ChatMinInterval, maxChatWait))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	deps = deps.WithDefaults()
	hc := fetch.New(Network, deps.UserAgent)
	hc.Now = deps.Now
	src := &Source{
		settings: s,
		client:   &client{http: hc, base: s.BaseURL, key: s.APIKey.Reveal(), now: deps.Now},
		cursors:  deps.Cursors,
		log:      deps.Logger,
		now:      deps.Now,
		skipped:  deps.Skipped,
	}
	add := func(name, sub string, params url.Values) {
		sum := sha256.Sum256([]byte(sub))
		src.searches = append(src.searches, &search{name: name, key: "youtube." + s.ID + ".search." + hex.EncodeToString(sum[:6]), params: params})
	}
	for _, k := range s.Keywords {
		add("search "+k, "q:"+k, url.Values{"q": {k}})
	}
	for _, h := range s.Hashtags {
		add("search #"+h, "q:#"+h, url.Values{"q": {"#" + h}})
	}
	for _, c := range s.Accounts {
		add("channel "+c, "channel:"+c, url.Values{"channelId": {c}})
	}
	if s.LiveChatID != "" || s.LiveVideoID != "" {
		src.chat = &chat{key: "youtube." + s.ID + ".chat"}
	}
	return src, nil
}

// Settings returns the source's settings after defaults.
func (s *Source) Settings() Settings { return s.settings }

// Connect loads the cursors.
func (s *Source) Connect(ctx context.Context) error {
	for _, q := range s.searches {
		var c searchCursor
		if err := s.load(ctx, q.key, &c); err != nil {
			return err
		}
		q.mu.Lock()
		q.cursor = c
		q.mu.Unlock()
	}
	if s.chat != nil {
		var c chatCursor
		if err := s.load(ctx, s.chat.key, &c); err != nil {
			return err
		}
		if s.settings.LiveChatID != "" && c.LiveChatID != s.settings.LiveChatID {
			c = chatCursor{LiveChatID: s.settings.LiveChatID}
		}
		s.chat.mu.Lock()
		s.chat.cursor = c
		s.chat.mu.Unlock()
	}
	return nil
}

func (s *Source) load(ctx context.Context, key string, v any) error {
	unreadable, err := connectors.LoadCursor(ctx, s.cursors, key, v)
	if err != nil {
		return fmt.Errorf("youtube: load cursor %s: %w", key, err)
	}
	if unreadable != nil {
		s.log.Warn("youtube: unreadable cursor; starting afresh", "key", key, "err", unreadable)
	}
	return nil
}

// Close releases nothing.
func (s *Source) Close(context.Context) error { return nil }

// commit is one cursor to store once a Read's posts are stored.
type commit func(ctx context.Context) error

// Read waits until the searches or the chat are due (both at once on the
// first Read), polls what is due and returns the posts, oldest first.
// Searches poll every poll_interval; the chat as often as YouTube's
// pollingIntervalMillis asks (at least chat_min_interval).
func (s *Source) Read(ctx context.Context) ([]post.Post, connectors.AckFunc, error) {
	doSearch, doChat, err := s.wait(ctx)
	if err != nil {
		return nil, nil, err
	}
	var posts []post.Post
	var commits []commit
	if doSearch {
		s.mu.Lock()
		s.searchDue = s.now().Add(s.settings.PollInterval)
		s.mu.Unlock()
		for _, q := range s.searches {
			got, c, err := s.pollSearch(ctx, q)
			if err != nil {
				return nil, nil, err
			}
			posts = append(posts, got...)
			commits = append(commits, c)
		}
	}
	if doChat {
		got, c, wait, err := s.pollChat(ctx)
		s.mu.Lock()
		s.chatDue = s.now().Add(wait)
		s.mu.Unlock()
		if err != nil {
			return nil, nil, err
		}
		posts = append(posts, got...)
		if c != nil {
			commits = append(commits, c)
		}
	}
	return posts, func(ctx context.Context, err error) error {
		if err != nil {
			return nil
		}
		var errs []error
		for _, c := range commits {
			if cerr := c(ctx); cerr != nil {
				errs = append(errs, cerr)
			}
		}
		return errors.Join(errs...)
	}, nil
}

// wait blocks until the searches or the chat are due and says which.
func (s *Source) wait(ctx context.Context) (doSearch, doChat bool, err error) {
	for {
		now := s.now()
		s.mu.Lock()
		chatActive := s.chat != nil && !s.chatEnded()
		due := time.Time{}
		pick := func(t time.Time) {
			if due.IsZero() || t.Before(due) {
				due = t
			}
		}
		if len(s.searches) > 0 {
			pick(s.searchDue)
		}
		if chatActive {
			pick(s.chatDue)
		}
		idle := len(s.searches) == 0 && !chatActive
		if idle {
			if s.idleDue.IsZero() {
				s.idleDue = now.Add(s.settings.PollInterval)
			}
			due = s.idleDue
		}
		s.mu.Unlock()
		if d := due.Sub(now); d > 0 {
			if err := connectors.Sleep(ctx, d); err != nil {
				return false, false, err
			}
			continue
		}
		if idle {
			// Nothing left to read (the chat is over): an empty poll now
			// and then keeps the source's status fresh.
			s.mu.Lock()
			s.idleDue = time.Time{}
			s.mu.Unlock()
			return false, false, nil
		}
		s.mu.Lock()
		doSearch = len(s.searches) > 0 && !s.searchDue.After(now)
		doChat = chatActive && !s.chatDue.After(now)
		s.mu.Unlock()
		return doSearch, doChat, nil
	}
}

func (s *Source) chatEnded() bool {
	s.chat.mu.Lock()
	defer s.chat.mu.Unlock()
	return s.chat.cursor.Ended
}

// pollSearch reads one query's videos published since its cursor, less
// the lookback, and keeps those not seen before. Without a cursor it
// reads the newest page only.
func (s *Source) pollSearch(ctx context.Context, q *search) ([]post.Post, commit, error) {
	q.mu.Lock()
	cur := q.cursor
	q.mu.Unlock()
	seen := make(map[string]bool, len(cur.Seen))
	for _, id := range cur.Seen {
		seen[id] = true
	}
	params := url.Values{"part": {"snippet"}, "type": {"video"}, "order": {"date"}, "maxResults": {"50"}}
	for k, v := range q.params {
		params[k] = v
	}
	if !cur.Newest.IsZero() {
		params.Set("publishedAfter", cur.Newest.Add(-s.settings.Lookback).UTC().Format(time.RFC3339))
	}
	var hits []videoParts // newest first
	newest := cur.Newest
	pages := 1
	if !cur.Newest.IsZero() {
		pages = maxSearchPages
	}
	for range pages {
		resp, err := s.client.search(ctx, params)
		if err != nil {
			return nil, nil, fmt.Errorf("youtube: %s: %w", q.name, err)
		}
		known := false
		for _, raw := range resp.Items {
			r, err := parseSearchResult(raw)
			if err == nil {
				var v videoParts
				if v, err = fromSearch(r); err == nil {
					if t, perr := time.Parse(time.RFC3339, v.publishedAt); perr == nil && t.After(newest) {
						newest = t
					}
					if seen[v.id] {
						known = true
						continue
					}
					seen[v.id] = true
					hits = append(hits, v)
					continue
				}
			}
			s.skipped.Inc()
			s.log.Warn("youtube: skipped a search result", "query", q.name, "err", err)
		}
		if known || resp.NextPageToken == "" {
			break
		}
		params.Set("pageToken", resp.NextPageToken)
	}
	if *s.settings.Statistics && len(hits) > 0 {
		byID, err := s.videoDetails(ctx, hits)
		if err != nil {
			return nil, nil, fmt.Errorf("youtube: %s: %w", q.name, err)
		}
		for i := range hits {
			hits[i] = hits[i].withVideo(byID[hits[i].id])
		}
	}
	now := s.now()
	var posts []post.Post
	ids := make([]string, 0, len(hits))
	for i := len(hits) - 1; i >= 0; i-- {
		ids = append(ids, hits[i].id)
		p, err := adaptVideo(hits[i], s.settings.ID, now)
		if err != nil {
			s.skipped.Inc()
			s.log.Warn("youtube: skipped a video", "query", q.name, "err", err)
			continue
		}
		posts = append(posts, p)
	}
	slices.Reverse(ids)
	next := searchCursor{Newest: newest, Seen: append(ids, cur.Seen...)}
	if len(next.Seen) > seenLimit {
		next.Seen = next.Seen[:seenLimit]
	}
	return posts, func(ctx context.Context) error {
		q.mu.Lock()
		changed := !q.cursor.Newest.Equal(next.Newest) || !slices.Equal(q.cursor.Seen, next.Seen)
		q.cursor = next
		q.mu.Unlock()
		if !changed {
			return nil
		}
		return s.store(ctx, q.key, next)
	}, nil
}

// videoDetails fetches the video resources of hits, 50 ids a call.
func (s *Source) videoDetails(ctx context.Context, hits []videoParts) (map[string]*Video, error) {
	out := make(map[string]*Video, len(hits))
	for start := 0; start < len(hits); start += 50 {
		var ids []string
		for _, h := range hits[start:min(start+50, len(hits))] {
			ids = append(ids, h.id)
		}
		resp, err := s.client.videos(ctx, "snippet,statistics,contentDetails", ids)
		if err != nil {
			return nil, err
		}
		for i := range resp.Items {
			out[resp.Items[i].ID] = &resp.Items[i]
		}
	}
	return out, nil
}

// pollChat reads the chat's next page. It returns the wait before the
// next chat poll.
func (s *Source) pollChat(ctx context.Context) ([]post.Post, commit, time.Duration, error) {
	c := s.chat
	c.mu.Lock()
	cur := c.cursor
	c.mu.Unlock()
	idle := s.settings.PollInterval
	if cur.LiveChatID == "" {
		id, over, err := s.resolveChat(ctx)
		if err != nil {
			return nil, nil, idle, err
		}
		if id == "" && !over {
			s.log.Info("youtube: the live video has no active chat yet", "video", s.settings.LiveVideoID)
			return nil, nil, idle, nil
		}
		cur = chatCursor{LiveChatID: id, Ended: over}
		if over {
			s.log.Info("youtube: the live video's broadcast is over; its chat is not read", "video", s.settings.LiveVideoID)
			return nil, s.chatCommit(cur), idle, nil
		}
	}
	resp, err := s.client.chatMessages(ctx, cur.LiveChatID, cur.PageToken)
	if errors.Is(err, errChatOver) {
		s.log.Info("youtube: live chat ended", "chat", cur.LiveChatID, "reason", err)
		cur.Ended = true
		return nil, s.chatCommit(cur), idle, nil
	}
	if err != nil {
		return nil, nil, s.chatWait(0), err
	}
	videoURL := ""
	if s.settings.LiveVideoID != "" {
		videoURL = WatchURL(s.settings.LiveVideoID)
	}
	now := s.now()
	var posts []post.Post
	for _, raw := range resp.Items {
		m, err := parseChatMessage(raw)
		if err != nil {
			s.skipped.Inc()
			s.log.Warn("youtube: skipped a chat item", "err", err)
			continue
		}
		p, outcome, err := adaptChat(m, videoURL, s.settings.ID, now)
		switch {
		case err != nil:
			s.skipped.Inc()
			s.log.Warn("youtube: skipped a chat item", "id", m.ID, "err", err)
		case outcome == chatIgnored:
			s.mu.Lock()
			if m.Snippet.Type == "userBannedEvent" {
				s.bansSeen++
			} else {
				s.ignoredMsg++
			}
			s.mu.Unlock()
			if m.Snippet.Type == "chatEndedEvent" {
				cur.Ended = true
			}
		default:
			posts = append(posts, p)
		}
	}
	if resp.NextPageToken != "" {
		cur.PageToken = resp.NextPageToken
	}
	if resp.OfflineAt != "" {
		s.log.Info("youtube: live chat went offline", "chat", cur.LiveChatID, "offline_at", resp.OfflineAt)
		cur.Ended = true
	}
	wait := s.chatWait(resp.PollingIntervalMillis)
	if cur.Ended {
		wait = idle
	}
	return posts, s.chatCommit(cur), wait, nil
}

// chatWait is the wait before the next chat poll: what YouTube asked for,
// at least chat_min_interval, within [1s, 1m].
func (s *Source) chatWait(millis int64) time.Duration {
	wait := time.Duration(millis) * time.Millisecond
	wait = max(wait, s.settings.ChatMinInterval, minChatWait)
	return min(wait, maxChatWait)
}

func (s *Source) chatCommit(next chatCursor) commit {
	return func(ctx context.Context) error {
		c := s.chat
		c.mu.Lock()
		changed := c.cursor != next
		c.cursor = next
		c.mu.Unlock()
		if !changed {
			return nil
		}
		return s.store(ctx, c.key, next)
	}
}

// resolveChat finds the active chat: live_chat_id as set, or the
// activeLiveChatId of live_video_id. over reports a broadcast that has
// ended.
func (s *Source) resolveChat(ctx context.Context) (id string, over bool, err error) {
	if s.settings.LiveChatID != "" {
		return s.settings.LiveChatID, false, nil
	}
	resp, err := s.client.videos(ctx, "liveStreamingDetails", []string{s.settings.LiveVideoID})
	if err != nil {
		return "", false, fmt.Errorf("youtube: resolve live chat of %s: %w", s.settings.LiveVideoID, err)
	}
	if len(resp.Items) == 0 {
		return "", false, fmt.Errorf("youtube: live video %s not found", s.settings.LiveVideoID)
	}
	d := resp.Items[0].LiveStreamingDetails
	switch {
	case d == nil:
		return "", false, fmt.Errorf("youtube: video %s is not a live broadcast", s.settings.LiveVideoID)
	case d.ActiveLiveChatID != "":
		return d.ActiveLiveChatID, false, nil
	case d.ActualEndTime != "":
		return "", true, nil
	}
	return "", false, nil
}

func (s *Source) store(ctx context.Context, key string, v any) error {
	if err := connectors.StoreCursor(ctx, s.cursors, key, v); err != nil {
		return fmt.Errorf("youtube: store cursor %s: %w", key, err)
	}
	return nil
}
