package instagram

import (
	"context"

	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/post"
)

// Instagram sends no deletion notices to a polling source, so the
// compliance sweep asks the Graph API again about each media shown (GET
// /{ig-media-id}?fields=id): one that no longer exists is gone. Media of
// other accounts found by hashtag can be read only while they are in the
// hashtag's recent media; beyond that the API refuses them to the token,
// and the sweep counts them as unverifiable (they age out with the
// stream's retention).

// complianceRate is the default lookups per minute, within the Instagram
// Graph API's 200 calls an hour per user and polling's share.
const complianceRate = 2

var _ connectors.Checker = (*Source)(nil)

// Compliance returns the source's compliance settings.
func (s *Source) Compliance() connectors.Compliance { return s.settings.Compliance }

// Check asks the Graph API about posts, one call each.
func (s *Source) Check(ctx context.Context, posts []post.Post) ([]connectors.Standing, error) {
	return s.client.graph.CheckEach(ctx, Network, posts, "id")
}
