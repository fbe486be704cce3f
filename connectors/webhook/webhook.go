// Package webhook is the push source: integrators POST signed posts to
// /api/v1/ingest/{source}, and the call returns once the posts are stored.
// Calls are taken concurrently: those waiting while a batch is being
// stored are stored together in the next one, so many callers cost one
// publish round trip per batch, not one each.
package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/post"
)

// Settings of a webhook source.
type Settings struct {
	config.SourceBase `yaml:",inline"`
	// Secret signs every call (HMAC-SHA256). Required.
	Secret config.Secret `yaml:"secret"`
	// Network is given to posts that name none (default "webhook").
	Network string `yaml:"network"`
	// MaxAge is how far a call's timestamp may be from now (default 5m).
	MaxAge time.Duration `yaml:"max_age"`
	// MaxBodyBytes bounds a call's body (default 1 MiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxPosts bounds the posts in one call (default 500).
	MaxPosts int `yaml:"max_posts"`
}

// Source receives posts pushed over HTTP.
type Source struct {
	settings Settings
	now      func() time.Time
	log      *slog.Logger
	calls    chan call
	stopped  chan struct{}
	running  chan struct{}
}

var _ connectors.Push = (*Source)(nil)

// call is one accepted request waiting for its posts to be stored.
type call struct {
	posts  []post.Post
	result chan error
}

const (
	// queuedCalls bounds the calls waiting for the next batch; past it,
	// callers wait (until their request ends) for room.
	queuedCalls = 4096
	// batchPosts is about how many posts one batch stores at most: calls are
	// added while the batch has fewer.
	batchPosts = 5000
)

// New builds a webhook source from its config.
func New(spec config.Source, deps connectors.Deps) (connectors.Source, error) {
	s := Settings{Network: "webhook", MaxAge: 5 * time.Minute, MaxBodyBytes: 1 << 20, MaxPosts: 500}
	if err := spec.Decode(&s); err != nil {
		return nil, err
	}
	p := spec.Path()
	var errs []error
	if len(s.Secret.Reveal()) < 16 {
		errs = append(errs, fmt.Errorf("%s.secret: is required and must be at least 16 characters", p))
	}
	if !post.IsToken(s.Network) {
		errs = append(errs, fmt.Errorf("%s.network: %q must be 1-64 of a-z, 0-9, '-' and '_'", p, s.Network))
	}
	if s.MaxAge < 10*time.Second || s.MaxAge > time.Hour {
		errs = append(errs, fmt.Errorf("%s.max_age: %s must be between 10s and 1h", p, s.MaxAge))
	}
	if s.MaxBodyBytes < 1024 || s.MaxBodyBytes > 64<<20 {
		errs = append(errs, fmt.Errorf("%s.max_body_bytes: %d must be between 1024 and 67108864", p, s.MaxBodyBytes))
	}
	if s.MaxPosts < 1 || s.MaxPosts > 10000 {
		errs = append(errs, fmt.Errorf("%s.max_posts: %d must be between 1 and 10000", p, s.MaxPosts))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	deps = deps.WithDefaults()
	return &Source{settings: s, now: deps.Now, log: deps.Logger, calls: make(chan call, queuedCalls), stopped: make(chan struct{}), running: make(chan struct{})}, nil
}

// Pushed marks a webhook as a push source: every node takes its calls.
func (s *Source) Pushed() {}

// ID is the source's id.
func (s *Source) ID() string { return s.settings.ID }

// Connect marks the source ready to take calls.
func (s *Source) Connect(context.Context) error {
	select {
	case <-s.running:
	default:
		close(s.running)
	}
	return nil
}

// Read waits for the next accepted call and returns its posts together
// with those of every other call waiting then (about batchPosts at most),
// in the order they came. The acknowledgement answers each of those calls.
func (s *Source) Read(ctx context.Context) ([]post.Post, connectors.AckFunc, error) {
	var batch []call
	select {
	case c := <-s.calls:
		batch = append(batch, c)
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	n := len(batch[0].posts)
more:
	for n < batchPosts {
		select {
		case c := <-s.calls:
			batch = append(batch, c)
			n += len(c.posts)
		default:
			break more
		}
	}
	posts := batch[0].posts
	if len(batch) > 1 {
		posts = make([]post.Post, 0, n)
		for _, c := range batch {
			posts = append(posts, c.posts...)
		}
	}
	return posts, func(_ context.Context, err error) error {
		for _, c := range batch {
			c.result <- err
		}
		return nil
	}, nil
}

// Close refuses further calls.
func (s *Source) Close(context.Context) error {
	select {
	case <-s.stopped:
	default:
		close(s.stopped)
	}
	return nil
}

// Handle answers POST /api/v1/ingest/:source for this source: 401 for an
// unsigned, stale or badly signed call, 400 for a malformed body or a bad
// post (nothing from that call is stored), 413 for a body too large, 503
// when the posts could not be stored, 202 once they are.
func (s *Source) Handle(c echo.Context) error {
	r := c.Request()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, s.settings.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.refused(c, "body too large", "limit", s.settings.MaxBodyBytes)
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", s.settings.MaxBodyBytes))
		}
		return echo.NewHTTPError(http.StatusBadRequest, "could not read body")
	}
	now := s.now()
	if err := Verify([]byte(s.settings.Secret.Reveal()), r.Header.Get(TimestampHeader), r.Header.Get(SignatureHeader), body, now, s.settings.MaxAge); err != nil {
		s.refused(c, err.Error())
		return echo.NewHTTPError(http.StatusUnauthorized, err.Error())
	}
	posts, err := ParseBody(body, s.settings.Network, s.settings.ID, s.settings.MaxPosts, now)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	if err := s.deliver(r.Context(), posts); err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "posts not stored, try again: "+err.Error())
	}
	ids := make([]string, len(posts))
	for i, p := range posts {
		ids[i] = p.ID
	}
	return c.JSON(http.StatusAccepted, map[string]any{"accepted": len(posts), "ids": ids})
}

// refused logs a call turned away for its signature or size, with the
// calling address (echo's RealIP: the connection's, or a trusted proxy's
// word for it); the logger names the source.
func (s *Source) refused(c echo.Context, why string, attrs ...any) {
	s.log.Warn("webhook call refused", append([]any{"why", why, "remote", c.RealIP()}, attrs...)...)
}

// deliver hands posts to the runner and waits until they are stored.
func (s *Source) deliver(ctx context.Context, posts []post.Post) error {
	select {
	case <-s.running:
	default:
		return errors.New("source is starting")
	}
	select {
	case <-s.stopped:
		return connectors.ErrStopped
	default:
	}
	c := call{posts: posts, result: make(chan error, 1)}
	select {
	case s.calls <- c:
	case <-s.stopped:
		return connectors.ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	// In the cases below the posts may still be stored; a retry is absorbed
	// by the dedupe.
	select {
	case err := <-c.result:
		return err
	case <-s.stopped:
		return connectors.ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}
