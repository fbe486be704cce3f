package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime/debug"
	"slices"
	"time"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/bluesky"
	"github.com/chorus-wall/chorus/connectors/demo"
	"github.com/chorus-wall/chorus/connectors/facebook"
	"github.com/chorus-wall/chorus/connectors/instagram"
	"github.com/chorus-wall/chorus/connectors/mastodon"
	"github.com/chorus-wall/chorus/connectors/reddit"
	"github.com/chorus-wall/chorus/connectors/rss"
	twitternative "github.com/chorus-wall/chorus/connectors/twitter_native"
	"github.com/chorus-wall/chorus/connectors/webhook"
	"github.com/chorus-wall/chorus/connectors/x"
	"github.com/chorus-wall/chorus/connectors/youtube"
	"github.com/chorus-wall/chorus/curation"
	"github.com/chorus-wall/chorus/index"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// sourceTypes is every kind of source chorus can run, by config `type`.
func sourceTypes() connectors.Registry {
	return connectors.Registry{
		"demo":           demo.New,
		"webhook":        webhook.New,
		"mastodon":       mastodon.New,
		"bluesky":        bluesky.New,
		"facebook":       facebook.New,
		"instagram":      instagram.New,
		"rss":            rss.New,
		"reddit":         reddit.New,
		"youtube":        youtube.New,
		"x":              x.New,
		"twitter_native": twitternative.New,
	}
}

// configFlags are the flags every command that reads the config shares.
type configFlags struct {
	Config    string `short:"c" help:"Config file (YAML). Without one, Chorus runs the demo." type:"path" env:"CHORUS_CONFIG"`
	Data      string `help:"Data directory (overrides data_dir)." type:"path"`
	LogFormat string `help:"Log format: text or json (overrides log_format and CHORUS_LOG_FORMAT)." enum:"text,json," default:""`
}

// load reads the config with the flags applied. adjust (may be nil) applies
// the command's own flags and check (may be nil) adds its own problems, all
// reported at once.
func (f configFlags) load(adjust func(*config.Config), check func(*config.Config) error) (*config.Config, error) {
	cfg, err := config.LoadWith(f.Config, config.LoadOptions{
		Adjust: func(c *config.Config) {
			if f.Data != "" {
				c.DataDir = f.Data
			}
			if f.LogFormat != "" {
				c.LogFormat = f.LogFormat
			}
			if adjust != nil {
				adjust(c)
			}
		},
		Check: check,
	})
	if err != nil {
		return nil, usageError{err}
	}
	return cfg, nil
}

type serveCmd struct {
	configFlags
	Demo  bool   `help:"Add the demo source and a stream 'demo' (the default without --config)."`
	Addr  string `help:"Listen address host:port (overrides server.addr)."`
	Roles string `help:"What this process does, comma-separated: connectors, curation, index, display, api (overrides roles and CHORUS_ROLES; default every role)."`
	Node  string `help:"This process's name in the cluster (overrides node and CHORUS_NODE)."`
}

func (s *serveCmd) Run(e *env) error {
	var (
		app *App
		log *slog.Logger
	)
	cfg, err := s.load(func(cfg *config.Config) {
		if s.Addr != "" {
			cfg.SetAddr(s.Addr)
		}
		if s.Roles != "" {
			cfg.Roles = config.ParseRoles(s.Roles)
		}
		if s.Node != "" {
			cfg.Node = s.Node
		}
		if s.Demo || s.Config == "" {
			addDemo(cfg)
		}
	}, func(cfg *config.Config) (err error) {
		// Building the app checks every source's settings and every rule.
		log = newLogger(e.stderr, cfg.LogLevel, cfg.LogFormat)
		app, err = NewApp(cfg, sourceTypes(), log)
		return err
	})
	if err != nil {
		return err
	}
	if err := app.Start(e.ctx); err != nil {
		if errors.Is(err, curation.ErrBadInput) { // the file's streams do not fit what the API made of them
			return usageError{err}
		}
		return err
	}
	log.Info("open the wall", "url", cfg.Server.PublicURL+"/")
	<-e.ctx.Done()
	log.Info("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return app.Stop(ctx)
}

// addDemo adds the demo source and stream unless the config has them.
func addDemo(cfg *config.Config) {
	if _, ok := cfg.Stream("demo"); ok {
		return
	}
	for _, s := range cfg.Sources {
		if s.ID == "demo" {
			return
		}
	}
	cfg.Sources = append(cfg.Sources, config.NewSource("demo", "demo", "demo source"))
	cfg.Streams = append(cfg.Streams, config.Stream{
		ID:           "demo",
		Title:        "Chorus Live (demo)",
		Sources:      []string{"demo"},
		Moderation:   config.ModerationAuto,
		BlockedWords: slices.Clone(demo.BlockedWords),
		Filters:      config.Filters{MinFollowers: demo.MinFollowers},
		DisplayLimit: config.DefaultDisplayLimit,
	})
}

type indexCmd struct {
	Rebuild rebuildCmd `cmd:"" help:"Rebuild the search index from the events stream (stop 'chorus serve' on this data directory first)."`
}

type rebuildCmd struct {
	configFlags
}

func (r *rebuildCmd) Run(e *env) error {
	cfg, err := r.load(nil, nil)
	if err != nil {
		return err
	}
	// A running serve owns the index: rebuilding under it would delete the
	// index it is serving from.
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	log := newLogger(e.stderr, cfg.LogLevel, cfg.LogFormat)
	conn, err := bus.Open(e.ctx, busOptions(cfg, "chorus-index-rebuild", log))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(e.ctx))
	last, err := conn.LastEventSeq(e.ctx)
	if err != nil {
		return err
	}
	path := filepath.Join(cfg.DataDir, "index")
	if err := index.Remove(path); err != nil {
		return err
	}
	idx, err := index.Open(path, log, nil)
	if err != nil {
		return err
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	err = conn.TailEvents(ctx, 1, index.BatchSize, nil, func(b bus.Batch) error {
		if err := idx.Apply(b); err != nil {
			return err
		}
		if b.LastSeq >= last {
			cancel()
		}
		return nil
	})
	if cerr := idx.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if e.ctx.Err() != nil {
		return errors.New("index rebuild interrupted; run it again")
	}
	fmt.Fprintf(e.stdout, "index rebuilt from %d events in %s\n", last, time.Since(start).Round(time.Millisecond))
	return nil
}

// busOptions are how every command reaches NATS: the same copies and lease
// time as the server, so a command never changes them.
func busOptions(cfg *config.Config, name string, log *slog.Logger) bus.Options {
	return bus.Options{
		URL: cfg.NATS.URL, Credentials: cfg.NATS.Credentials, DataDir: cfg.DataDir,
		Retention: cfg.NATS.Retention, Replicas: cfg.NATS.Replicas, LeaseTTL: cfg.NATS.LeaseTTL, Name: name, Logger: log,
	}
}

// userAgent names Chorus and its version to the networks it calls.
func userAgent() string {
	return "Chorus/" + version + " (self-hosted social wall; +https://github.com/chorus-wall/chorus)"
}

type versionCmd struct{}

func (versionCmd) Run(e *env) error {
	v := version
	if info, ok := debug.ReadBuildInfo(); ok && v == "dev" {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += "+" + s.Value[:12]
			}
		}
	}
	fmt.Fprintln(e.stdout, "chorus", v)
	return nil
}

// newLogger logs at level ("info", ...) in format: "json" gives one JSON
// object per line, anything else logfmt-style text.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
