package rss

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/fetch"
	"github.com/chorus-wall/chorus/post"
)

// Feeds send no deletion notices, and an item leaving a feed says nothing
// (feeds keep only their newest items), so the compliance sweep asks the
// item's own page: HEAD (GET where HEAD is refused) of its permalink. 404
// or 410 means deleted; 401 means private (behind a sign-in). Only pages on
// a feed's own host are asked: a feed's item cannot send Chorus to an
// address the operator did not list.

// complianceRate is the default checks per minute: one page a request, on
// the publishers' own sites.
const complianceRate = 30

var _ connectors.Checker = (*Source)(nil)

// Compliance returns the source's compliance settings.
func (s *Source) Compliance() connectors.Compliance { return s.settings.Compliance }

// Check asks the page of each post (one request each).
func (s *Source) Check(ctx context.Context, posts []post.Post) ([]connectors.Standing, error) {
	out := make([]connectors.Standing, 0, len(posts))
	for i := range posts {
		p := &posts[i]
		f := s.feedOf(p.URL)
		if f == nil {
			out = append(out, connectors.Standing{ID: p.ID, Unknown: true})
			continue
		}
		gone, known, err := page(ctx, f.client, p.URL)
		if err != nil {
			return nil, err
		}
		out = append(out, connectors.Standing{ID: p.ID, Gone: gone, Unknown: !known})
	}
	return out, nil
}

// feedOf returns the feed on the host of link, nil when none is.
func (s *Source) feedOf(link string) *feed {
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil
	}
	for _, f := range s.feeds {
		if fu, err := url.Parse(f.url); err == nil && strings.EqualFold(fu.Host, u.Host) {
			return f
		}
	}
	return nil
}

// page asks for link and says whether it is gone and why, and whether the
// answer says anything (a 403 may be a bot wall, not the page).
func page(ctx context.Context, c *fetch.Client, link string) (gone string, known bool, err error) {
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		req, rerr := http.NewRequestWithContext(ctx, method, link, nil)
		if rerr != nil {
			return "", false, nil
		}
		req.Header.Set("Accept", "text/html,*/*")
		_, err = c.Do(req)
		var se *fetch.StatusError
		var ae *connectors.AuthError
		switch {
		case err == nil:
			return "", true, nil
		case errors.As(err, &se) && (se.Status == http.StatusNotFound || se.Status == http.StatusGone):
			return post.GoneDeleted, true, nil
		case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
			return post.GonePrivate, true, nil
		case errors.As(err, &ae):
			return "", false, nil
		case errors.As(err, &se) && method == http.MethodHead && (se.Status == http.StatusMethodNotAllowed || se.Status == http.StatusNotImplemented):
			continue // ask again with GET
		}
		return "", false, fmt.Errorf("rss: check %s: %w", link, err)
	}
	return "", false, fmt.Errorf("rss: check %s: %w", link, err)
}
