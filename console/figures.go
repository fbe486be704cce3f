package console

import (
	"context"
	"time"

	"github.com/chorus-wall/chorus/config"
)

// Figures are one stream's numbers on the console's overview.
type Figures struct {
	ID         string            `json:"id"`
	Title      string            `json:"title"`
	Moderation config.Moderation `json:"moderation"`
	Delay      config.Duration   `json:"delay"`
	Paused     bool              `json:"paused"`
	// Held is how many posts wait for a moderator.
	Held uint64 `json:"held"`
	// ApprovedLastHour counts the posts approved in the last hour (by a
	// rule, the mode or a person) that are still approved.
	ApprovedLastHour uint64 `json:"approved_last_hour"`
	// Screens is how many walls, widgets and overlays this node serves the
	// stream to now.
	Screens int `json:"screens"`
}

// Display tells the figures what screens show.
type Display interface {
	// Screens is how many screens are connected to a stream.
	Screens(stream string) int
	// Paused says whether a stream's screens are paused, and whether that
	// is known yet (the display has loaded its state).
	Paused(stream string) (paused, known bool)
}

// FigureSource computes streams' figures.
type FigureSource struct {
	Index   Index
	Streams Streams
	Display Display
	Now     func() time.Time
}

// All returns the figures of every stream, in the streams' order.
func (f *FigureSource) All(ctx context.Context) ([]Figures, error) {
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	hourAgo := now().Add(-time.Hour)
	out := []Figures{}
	for _, s := range f.Streams.All() {
		fig := Figures{ID: s.ID, Title: s.Title, Moderation: s.Moderation, Delay: s.Delay, Screens: f.Display.Screens(s.ID)}
		fig.Paused, _ = f.Display.Paused(s.ID)
		var err error
		if fig.Held, err = f.Index.CountPosts(ctx, s.ID, "held", time.Time{}); err != nil {
			return nil, err
		}
		if fig.ApprovedLastHour, err = f.Index.CountPosts(ctx, s.ID, "approved", hourAgo); err != nil {
			return nil, err
		}
		out = append(out, fig)
	}
	return out, nil
}
