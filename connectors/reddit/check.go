package reddit

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/post"
)

// Reddit sends no deletion notices, so the compliance sweep asks again:
// GET /api/info?id=t3_a,t3_b,... (up to 100 posts a request). A post
// missing from the answer, deleted by its author or removed by moderators
// or Reddit is gone; one from a subreddit gone private (Reddit answers
// 403 for the subreddit's posts, or leaves them out) is private; one newly
// marked NSFW or spoiler is sensitive. A self post whose text changed is
// an edit, judged again by curation.

// Compliance defaults: Reddit allows 100 requests a minute with OAuth and
// far fewer anonymously; polling needs its share.
const (
	complianceRate  = 10
	complianceBatch = 100
)

var _ connectors.Checker = (*Source)(nil)

// Compliance returns the source's compliance settings.
func (s *Source) Compliance() connectors.Compliance { return s.settings.Compliance }

// Check asks Reddit about up to 100 posts with one request.
func (s *Source) Check(ctx context.Context, posts []post.Post) ([]connectors.Standing, error) {
	names := make([]string, 0, len(posts))
	for _, p := range posts {
		if id, ok := strings.CutPrefix(p.ID, Network+":"); ok && id != "" {
			names = append(names, "t3_"+id)
		}
	}
	now := map[string]*Link{}
	if len(names) > 0 {
		l, err := s.client.listing(ctx, "/api/info", url.Values{"id": {strings.Join(names, ",")}, "raw_json": {"1"}})
		if err != nil {
			return nil, fmt.Errorf("reddit: check posts: %w", err)
		}
		for _, t := range l.Data.Children {
			if link, err := parseLink(t); err == nil {
				now[PostID(link)] = link
			}
		}
	}
	out := make([]connectors.Standing, 0, len(posts))
	for i := range posts {
		p := &posts[i]
		if !strings.HasPrefix(p.ID, Network+":") {
			out = append(out, connectors.Standing{ID: p.ID, Unknown: true})
			continue
		}
		out = append(out, s.standing(p, now[p.ID]))
	}
	return out, nil
}

// standing compares a post as Reddit has it now (nil: not in the answer)
// with the post shown.
func (s *Source) standing(p *post.Post, l *Link) connectors.Standing {
	switch {
	case l == nil || Removed(l):
		return connectors.Standing{ID: p.ID, Gone: post.GoneDeleted}
	case l.SubredditType == "private":
		return connectors.Standing{ID: p.ID, Gone: post.GonePrivate}
	case (bool(l.Over18) || bool(l.Spoiler)) && !p.Sensitive:
		return connectors.Standing{ID: p.ID, Gone: post.GoneSensitive}
	}
	edited := Created(&Link{CreatedUTC: Number(l.Edited)})
	if edited.IsZero() || !edited.After(p.EditedAt) {
		return connectors.Standing{ID: p.ID}
	}
	np, err := Adapt(l, p.Source, s.now())
	if err != nil || np.Text == p.Text {
		return connectors.Standing{ID: p.ID}
	}
	np.EditedAt = edited
	return connectors.Standing{ID: p.ID, Edit: &np}
}
