// Package connectors holds the contract every source of posts fulfils, the
// runner that drives sources and hands their posts to the bus, and the small
// pieces the sources share: their dependencies' defaults (Deps.WithDefaults),
// JSON cursors (LoadCursor, StoreCursor) and the pace of polls (Pacer).
package connectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

// Source is one configured origin of posts. The runner calls Connect once,
// then Read in a loop, then Close. Read blocks until it has posts (or ctx
// ends) and returns them with an AckFunc that the runner calls once the posts
// are stored on the bus (err nil) or could not be (err set). A source moves
// its cursor only in the AckFunc, so a crash between Read and the store
// repeats posts (absorbed by the message-id dedupe) and never loses them.
type Source interface {
	Connect(ctx context.Context) error
	Read(ctx context.Context) ([]post.Post, AckFunc, error)
	Close(ctx context.Context) error
}

// Push is a source whose posts are pushed to the node (webhooks): every node
// runs it at once, since each takes the calls that reach it. Every other
// source polls or streams from a network, and on a cluster runs on one node
// at a time.
type Push interface {
	Source
	// Pushed marks the source as a push source.
	Pushed()
}

// AckFunc reports the fate of one Read's posts back to its source.
type AckFunc func(ctx context.Context, err error) error

// Cursors stores each source's resume point durably (the chorus_cursors
// bucket). Get returns nil and no error when nothing is stored yet.
type Cursors interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, value []byte) error
}

// Deps are what a factory may give the source it builds.
type Deps struct {
	Cursors   Cursors
	Logger    *slog.Logger
	PublicURL string
	Now       func() time.Time
	// Skipped counts payloads the source could not parse and skipped. Build
	// sets it for each source from Unparsed; it is never nil in a source.
	Skipped prometheus.Counter
	// Unparsed is the counter vector Build takes Skipped from (by source).
	Unparsed *prometheus.CounterVec
	// UserAgent names Chorus honestly to the networks.
	UserAgent string
}

// WithDefaults returns d with its unset fields filled, so that a factory
// called outside Build (a test, a tool) has all it needs: Now is time.Now,
// Logger discards, Skipped is a counter of its own that no registry
// exports, and UserAgent is DefaultUserAgent. Cursors, PublicURL and
// Unparsed are left as they are.
func (d Deps) WithDefaults() Deps {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Skipped == nil {
		d.Skipped = prometheus.NewCounter(prometheus.CounterOpts{Name: "unregistered"})
	}
	if d.UserAgent == "" {
		d.UserAgent = DefaultUserAgent
	}
	return d
}

// NewUnparsed returns the counter of skipped payloads, by source.
func NewUnparsed() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "chorus_source_unparsed_total",
		Help: "Payloads (items, pages, stream messages) a source could not parse and skipped.",
	}, []string{"source"})
}

// DefaultUserAgent is sent to networks when the binary sets no other.
const DefaultUserAgent = "Chorus/dev (self-hosted social wall; +https://github.com/chorus-wall/chorus)"

// Factory builds a source from its config; it decodes the source's own
// settings strictly (spec.Decode) and returns errors that name the key.
type Factory func(spec config.Source, deps Deps) (Source, error)

// Registry maps a source type (the config's `type`) to its factory. It is
// built explicitly in cmd/chorus.
type Registry map[string]Factory

// Build makes every configured source, reporting all bad ones at once.
func (r Registry) Build(specs []config.Source, deps Deps) (map[string]Source, error) {
	sources := make(map[string]Source, len(specs))
	var errs []error
	for _, spec := range specs {
		s, err := r.build(spec, deps)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sources[spec.ID] = s
	}
	return sources, errors.Join(errs...)
}

// Remake returns a function that builds a fresh source from its config by
// id, as Build did: a node that takes a source over from another starts it
// from its stored cursor, with nothing left from an earlier run.
func (r Registry) Remake(specs []config.Source, deps Deps) func(id string) (Source, error) {
	return func(id string) (Source, error) {
		for _, spec := range specs {
			if spec.ID == id {
				return r.build(spec, deps)
			}
		}
		return nil, fmt.Errorf("no source has id %q", id)
	}
}

func (r Registry) build(spec config.Source, deps Deps) (Source, error) {
	f, ok := r[spec.Type]
	if !ok {
		return nil, fmt.Errorf("%s.type: unknown source type %q (known: %s)", spec.Path(), spec.Type, r.types())
	}
	d := deps
	// Each source counts its own skips; WithDefaults gives one that
	// is not exported when there is no vector to take it from.
	d.Skipped = nil
	if deps.Unparsed != nil {
		d.Skipped = deps.Unparsed.WithLabelValues(spec.ID)
	}
	d = d.WithDefaults()
	d.Logger = d.Logger.With("source", spec.ID)
	return f(spec, d)
}

func (r Registry) types() string {
	names := make([]string, 0, len(r))
	for k := range r {
		names = append(names, k)
	}
	sort.Strings(names)
	return fmt.Sprint(names)
}
