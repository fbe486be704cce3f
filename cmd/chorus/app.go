package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/chorus-wall/chorus/access"
	"github.com/chorus-wall/chorus/auth"
	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/cluster"
	"github.com/chorus-wall/chorus/compliance"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/console"
	"github.com/chorus-wall/chorus/curation"
	"github.com/chorus-wall/chorus/curation/enrich"
	"github.com/chorus-wall/chorus/display"
	"github.com/chorus-wall/chorus/index"
	"github.com/chorus-wall/chorus/media"
	"github.com/chorus-wall/chorus/privacy"
	"github.com/chorus-wall/chorus/retention"
	"github.com/chorus-wall/chorus/rights"
)

// App is one running Chorus: bus, curation, index, display, connectors and
// the HTTP server, started in that order and stopped in reverse.
type App struct {
	cfg     *config.Config
	log     *slog.Logger
	reg     *prometheus.Registry
	sources map[string]connectors.Source
	remake  func(id string) (connectors.Source, error)
	token   string

	lock    *dataDirLock
	conn    *bus.Conn
	cluster *cluster.Cluster
	lists   *curation.Lists
	streams *curation.Streams
	// curator is set once curation has its language models (settle.go).
	curator   atomic.Pointer[curation.Curator]
	store     *curation.Store
	index     *index.Index
	hub       *display.Hub
	runner    *connectors.Runner
	moderator *curation.Moderator
	decorator *console.Decorator
	figures   *console.FigureSource
	feed      *console.Feed
	accounts  *auth.Store
	guard     *auth.Guard
	signIn    *auth.Handlers
	media     *media.Proxy
	access    *access.Policy
	bans      *privacy.Bans
	// rights are the open requests for the right to use a post.
	rights  *rights.Book
	sweeper *retention.Sweeper
	// compliance re-checks polled sources' posts at their network.
	compliance *compliance.Sweeper
	// gate stands before the ingest stream for sources and the compliance
	// sweep: erased authors' posts are refused there.
	gate *privacy.Gate
	// now is the sweeps' clock; nil means time.Now (tests set it).
	now      func() time.Time
	eraser   *privacy.Eraser
	exporter *privacy.Exporter
	server   *http.Server
	listener net.Listener

	// metricsServer serves /metrics on metrics.listen, when set.
	metricsServer   *http.Server
	metricsListener net.Listener

	// enricher detects languages and sentiment for curation. When nil, the
	// curation stage builds it (see curate); tests that start many Apps in
	// one process set one they share.
	enricher *enrich.Enricher

	// proxies are server.trusted_proxies, parsed.
	proxies []*net.IPNet

	webhookLimit *limiter
	adminLimit   *limiter

	// Each stage runs under its own context so Stop can end them in order.
	stages []*stage

	stopOnce sync.Once
	stopErr  error
}

// stage is a set of goroutines that stop together.
type stage struct {
	name   string
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	errs   []error
}

// NewApp builds the configured sources (reporting every bad setting by its
// key) and the metrics registry; nothing runs until Start.
func NewApp(cfg *config.Config, registry connectors.Registry, log *slog.Logger) (*App, error) {
	a := &App{cfg: cfg, log: log, reg: prometheus.NewRegistry()}
	proxies, err := cfg.Server.ProxyNets()
	if err != nil {
		return nil, err
	}
	a.proxies = proxies
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	refused := refusedCalls(a.reg)
	a.webhookLimit = newLimiter("webhook", cfg.Limits.Webhook, log, refused)
	a.adminLimit = newLimiter("admin", cfg.Limits.Admin, log, refused)
	unparsed := connectors.NewUnparsed()
	a.reg.MustRegister(unparsed)
	deps := connectors.Deps{
		Cursors: cursors{a}, Logger: log, PublicURL: cfg.Server.PublicURL, Now: time.Now,
		Unparsed: unparsed, UserAgent: userAgent(),
	}
	sources, err := registry.Build(cfg.Sources, deps)
	if err != nil {
		return nil, err
	}
	a.sources, a.remake = sources, registry.Remake(cfg.Sources, deps)
	// Check every stream's rules now, so a bad expression stops the start
	// with its key named, like any other config error.
	a.lists = curation.NewLists()
	for i, st := range cfg.Streams {
		if _, err := curation.Compile(st, a.lists, fmt.Sprintf("streams[%d]", i)); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Start opens the bus and index, starts every stage and begins serving.
// On error everything already started is stopped.
func (a *App) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_ = a.Stop(stopCtx)
		}
	}()
	// First, so a second Chorus on the same directory stops here at once
	// instead of waiting on the first one's files.
	if a.lock, err = lockDataDir(a.cfg.DataDir); err != nil {
		return err
	}
	busOpts := busOptions(a.cfg, "chorus "+a.cfg.Node, a.log)
	busOpts.Listen = a.cfg.NATS.Listen
	if a.conn, err = bus.Open(ctx, busOpts); err != nil {
		return err
	}
	if err := a.joinCluster(ctx); err != nil {
		return err
	}
	token, tokenPath, err := adminToken(ctx, a.cfg, a.conn.Config, a.log)
	if err != nil {
		return err
	}
	a.token = token
	if tokenPath != "" {
		a.log.Info("admin token (no admin_token in the config)", "file", tokenPath)
	}
	if a.has(config.RoleIndex) {
		if a.index, err = index.Open(filepath.Join(a.cfg.DataDir, "index"), a.log, a.reg); err != nil {
			return err
		}
	}
	if a.media, err = a.openMedia(ctx); err != nil {
		return err
	}
	a.streams = curation.NewStreams(a.lists)
	viewerKey, err := bus.SharedSecret(ctx, a.conn.Config, "viewer")
	if err != nil {
		return err
	}
	tokens, err := access.NewTokens(viewerKey, nil)
	if err != nil {
		return err
	}
	a.access = &access.Policy{Streams: a.streams, Tokens: tokens}
	sourceIDs := make([]string, 0, len(a.cfg.Sources))
	for _, s := range a.cfg.Sources {
		sourceIDs = append(sourceIDs, s.ID)
	}
	a.store = curation.NewStore(a.conn.Config, a.streams, sourceIDs, a.log)
	// The config file declares streams and the API amends them; a start
	// without a file only adds what it declares (the demo stream).
	seed := a.store.Seed
	if a.cfg.File == "" {
		seed = a.store.Ensure
	}
	if err := seed(ctx, a.cfg.Streams); err != nil {
		return err
	}
	loaded := make(chan struct{})
	a.run(ctx, "settings", func(ctx context.Context) error { return a.store.Watch(ctx, func() { close(loaded) }) })
	select {
	case <-loaded:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := a.startPrivacy(ctx); err != nil {
		return err
	}
	a.hub = display.NewHub(display.Options{Streams: a.streams, Log: a.log, Registry: a.reg, Show: a.media.Post,
		AuthorHash: a.bans.Hasher().Hash, Banned: a.bans.Banned})
	if a.has(config.RoleAPI) {
		a.moderator = curation.NewModerator(a.conn, a.streams, a.index, a.store)
		a.moderator.Paused = a.paused
		a.moderator.Broadcast = broadcastView{a.hub}
		a.moderator.RightsBook = a.rights
	}
	a.gate = privacy.NewGate(a.conn, a.bans, a.reg)
	a.runner = connectors.NewRunner(a.sources, a.gate, a.log, a.reg)
	a.runner.Leases, a.runner.Remake = a.cluster, a.remake
	a.startErasure()
	if err := a.startAccounts(ctx); err != nil {
		return err
	}

	// The display state also backs the console's figures and the pause
	// button's answers on api nodes.
	if a.has(config.RoleDisplay) || a.has(config.RoleAPI) {
		a.run(ctx, "display", func(ctx context.Context) error { return a.hub.Run(ctx, a.conn) })
	}
	if a.has(config.RoleAPI) {
		a.startConsole(ctx)
	}
	if a.has(config.RoleIndex) {
		a.run(ctx, "index", func(ctx context.Context) error { return a.index.Run(ctx, a.conn) })
		a.startRetention(ctx)
		if a.has(config.RoleConnectors) {
			a.startCompliance(ctx)
		}
	}
	if a.has(config.RoleCuration) {
		a.run(ctx, "curation", a.curate)
	}
	// Webhooks run on every node; polled sources on connectors nodes.
	a.run(ctx, "connectors", a.runner.Run)
	a.run(ctx, "settle", a.settle)

	a.listener, err = net.Listen("tcp", a.cfg.Server.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (server.addr): %w", a.cfg.Server.Addr, err)
	}
	if a.cfg.Metrics.Listen != "" {
		if a.metricsListener, err = net.Listen("tcp", a.cfg.Metrics.Listen); err != nil {
			return fmt.Errorf("listen on %s (metrics.listen): %w", a.cfg.Metrics.Listen, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.metricsHandler())
		a.metricsServer = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
		a.run(ctx, "metrics", func(ctx context.Context) error {
			if err := a.metricsServer.Serve(a.metricsListener); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("metrics: %w", err)
			}
			return nil
		})
	}
	e := a.routes()
	a.server = &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.run(ctx, "http", func(ctx context.Context) error {
		if err := a.server.Serve(a.listener); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	})
	a.log.Info("chorus is serving", "addr", a.listener.Addr().String(), "public_url", a.cfg.Server.PublicURL,
		"node", a.cfg.Node, "roles", a.cfg.Roles.String(),
		"streams", len(a.cfg.Streams), "sources", len(a.sources), "nats", natsMode(a.cfg), "metrics", a.MetricsAddr())
	return nil
}

// curate builds the language detector, then decides posts until ctx ends.
// Building it reads the embedded language models (about 0.2 s of CPU, ten
// times that under the race detector), so it happens here rather than in
// Start: screens are served and pushes accepted meanwhile, and what is
// pushed waits in the ingest stream, where nothing is lost. /readyz does not
// wait for it, since everything a load balancer sends here works already.
func (a *App) curate(ctx context.Context) error {
	enricher := a.enricher
	if enricher == nil {
		var err error
		if enricher, err = a.loadEnricher(ctx); err != nil {
			return err
		}
	}
	c := curation.NewCurator(a.conn, a.streams, enricher, a.log, a.reg)
	c.Leases = a.cluster
	c.Bans = a.bans
	c.Consent, c.RightsBook = a.rights, a.rights
	a.curator.Store(c)
	return c.Run(ctx)
}

// loadEnricher builds the detector, or gives up when ctx ends first: a
// stop must not wait for the models (on a busy machine they take seconds).
// The abandoned build has nothing to clean up and ends by itself.
func (a *App) loadEnricher(ctx context.Context) (*enrich.Enricher, error) {
	type built struct {
		e   *enrich.Enricher
		err error
	}
	done := make(chan built, 1)
	start := time.Now()
	go func() {
		e, err := enrich.New(enrich.Options{})
		done <- built{e, err}
	}()
	select {
	case b := <-done:
		if b.err == nil {
			a.log.Info("language models loaded; curating", "took", time.Since(start).Round(time.Millisecond))
		}
		return b.e, b.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// openMedia starts the media proxy with the signing key every node shares.
func (a *App) openMedia(ctx context.Context) (*media.Proxy, error) {
	key, err := bus.SharedSecret(ctx, a.conn.Config, "media")
	if err != nil {
		return nil, err
	}
	m := a.cfg.Media
	return media.New(key, media.Options{
		Dir: filepath.Join(a.cfg.DataDir, "media"), CacheBytes: int64(m.CacheMB) << 20, MaxBytes: int64(m.MaxImageMB) << 20,
		FreshFor: m.FreshFor, PublicURL: a.cfg.Server.PublicURL, UserAgent: userAgent(), Logger: a.log, Registerer: a.reg,
	})
}

// run starts fn as its own stage. A stage that fails is logged; the rest
// keep running, since a broken source must not take the wall down.
func (a *App) run(ctx context.Context, name string, fn func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &stage{name: name, cancel: cancel}
	a.stages = append(a.stages, s)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("stage stopped", "stage", name, "err", err)
			s.mu.Lock()
			s.errs = append(s.errs, err)
			s.mu.Unlock()
		}
	}()
}

// Addr is the address the HTTP server listens on.
func (a *App) Addr() string {
	if a.listener == nil {
		return ""
	}
	return a.listener.Addr().String()
}

// MetricsAddr is the address /metrics is served on without a token, or
// "" when metrics.listen is not set.
func (a *App) MetricsAddr() string {
	if a.metricsListener == nil {
		return ""
	}
	return a.metricsListener.Addr().String()
}

// Stop shuts down in reverse order: screens are told "going away", HTTP
// stops, then connectors, curation, the index (flushed) and the display,
// and finally the bus is drained. It is safe to call twice and returns when
// ctx ends even if a part hangs. The data directory is unlocked last.
func (a *App) Stop(ctx context.Context) error {
	a.stopOnce.Do(func() {
		var errs []error
		if a.hub != nil {
			if err := a.hub.Close(ctx); err != nil {
				errs = append(errs, fmt.Errorf("display: %w", err))
			}
		}
		if a.feed != nil {
			if err := a.feed.Close(ctx); err != nil {
				errs = append(errs, fmt.Errorf("console feed: %w", err))
			}
		}
		if a.server != nil {
			if err := a.server.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("http: %w", err))
			}
		}
		if a.metricsServer != nil {
			if err := a.metricsServer.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("metrics: %w", err))
			}
		} else if a.metricsListener != nil {
			a.metricsListener.Close()
		}
		for i := len(a.stages) - 1; i >= 0; i-- {
			s := a.stages[i]
			s.cancel()
			done := make(chan struct{})
			go func() { s.wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-ctx.Done():
				errs = append(errs, fmt.Errorf("%s: did not stop in time", s.name))
			}
			errs = append(errs, s.errs...)
		}
		if a.index != nil {
			errs = append(errs, a.index.Close())
		}
		if a.conn != nil {
			errs = append(errs, a.conn.Close(ctx))
		}
		errs = append(errs, a.lock.Unlock())
		a.stopErr = errors.Join(errs...)
	})
	return a.stopErr
}

// paused says whether a stream's screens are paused, once the display has
// caught up with the events stream.
func (a *App) paused(stream string) (paused, known bool) {
	snap, ok := a.hub.Posts(stream, 0)
	return snap.Paused, ok
}

func natsMode(cfg *config.Config) string {
	if cfg.NATS.URL != "" {
		return "external"
	}
	return "embedded"
}

// cursors gives sources the chorus_cursors bucket; sources are built before
// the bus is open and only use their cursors once running.
type cursors struct{ app *App }

func (c cursors) Get(ctx context.Context, key string) ([]byte, error) {
	return c.app.conn.GetCursor(ctx, key)
}

func (c cursors) Put(ctx context.Context, key string, value []byte) error {
	return c.app.conn.PutCursor(ctx, key, value)
}

// broadcastView answers the moderator's on-air questions from the display.
type broadcastView struct{ hub *display.Hub }

func (b broadcastView) Shown(stream, postID string) (bool, bool) { return b.hub.Shown(stream, postID) }

func (b broadcastView) OnAir(ctx context.Context, stream string, seq uint64) json.RawMessage {
	data, err := json.Marshal(b.hub.OnAir(ctx, stream, seq))
	if err != nil {
		return json.RawMessage("null")
	}
	return data
}
