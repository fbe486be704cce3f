package facebook

import (
	"context"
	"errors"
	"strings"

	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/facebook/graph"
	"github.com/chorus-wall/chorus/post"
)

// Facebook sends a Page's deletions only to webhooks, which a polling
// source does not get, so the compliance sweep asks the Graph API again
// about each post or comment shown (GET /{id}?fields=id,is_hidden): one
// that no longer exists is gone; one the Page hid is private; one the
// token may not read cannot be said of.

// complianceRate is the default lookups per minute: the Graph API allows
// a Page 4800 calls a day per engaged user, and polling needs its share.
const complianceRate = 30

var _ connectors.Checker = (*Source)(nil)

// Compliance returns the source's compliance settings.
func (s *Source) Compliance() connectors.Compliance { return s.settings.Compliance }

// Check asks the Graph API about posts, one call each.
func (s *Source) Check(ctx context.Context, posts []post.Post) ([]connectors.Standing, error) {
	out := make([]connectors.Standing, 0, len(posts))
	for i := range posts {
		id := posts[i].ID
		native, ok := strings.CutPrefix(id, Network+":")
		if !ok || native == "" {
			out = append(out, connectors.Standing{ID: id, Unknown: true})
			continue
		}
		var obj struct {
			ID       string `json:"id"`
			IsHidden bool   `json:"is_hidden"`
		}
		err := s.client.graph.Lookup(ctx, native, "id,is_hidden", &obj)
		switch {
		case errors.Is(err, graph.ErrGone):
			out = append(out, connectors.Standing{ID: id, Gone: post.GoneDeleted})
		case errors.Is(err, graph.ErrUnverifiable):
			out = append(out, connectors.Standing{ID: id, Unknown: true})
		case err != nil:
			return nil, err
		case obj.IsHidden:
			out = append(out, connectors.Standing{ID: id, Gone: post.GonePrivate})
		default:
			out = append(out, connectors.Standing{ID: id})
		}
	}
	return out, nil
}
