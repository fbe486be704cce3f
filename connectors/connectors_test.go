package connectors_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/connectors"
)

func TestDepsWithDefaults(t *testing.T) {
	d := connectors.Deps{}.WithDefaults()
	if d.Now == nil || d.Logger == nil || d.Skipped == nil || d.UserAgent != connectors.DefaultUserAgent {
		t.Fatalf("defaults not filled: %+v", d)
	}
	d.Skipped.Inc() // usable though no registry exports it

	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	set := connectors.Deps{
		Now:       func() time.Time { return at },
		Logger:    slog.New(slog.DiscardHandler),
		Skipped:   prometheus.NewCounter(prometheus.CounterOpts{Name: "skipped"}),
		UserAgent: "Chorus/test",
		PublicURL: "https://wall.example",
	}
	got := set.WithDefaults()
	if !got.Now().Equal(at) || got.Logger != set.Logger || got.Skipped != set.Skipped || got.UserAgent != "Chorus/test" || got.PublicURL != set.PublicURL {
		t.Errorf("set fields changed: %+v", got)
	}
}
