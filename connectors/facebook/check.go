package facebook

import (
	"context"

	"github.com/chorus-wall/chorus/connectors"
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
	return s.client.graph.CheckEach(ctx, Network, posts, "id,is_hidden")
}
