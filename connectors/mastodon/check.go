package mastodon

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

// Mastodon has no deletion notices outside its streaming API, so the
// compliance sweep asks again: GET /api/v1/statuses/:id on the server that
// fetched the status. A status deleted, or no longer visible to the public
// (Mastodon answers 404 for both), is gone; one turned private (an
// authenticated client still sees it) is private; one that gained a
// content warning or the sensitive flag is sensitive; one edited since is
// an edit, judged again by curation.

// complianceRate is the default checks per minute: Mastodon allows 300
// requests per 5 minutes per client, and polling needs its share.
const complianceRate = 30

var _ connectors.Checker = (*Source)(nil)

// Compliance returns the source's compliance settings.
func (s *Source) Compliance() connectors.Compliance { return s.settings.Compliance }

// Check asks the servers about posts (one request each).
func (s *Source) Check(ctx context.Context, posts []post.Post) ([]connectors.Standing, error) {
	out := make([]connectors.Standing, 0, len(posts))
	for i := range posts {
		p := &posts[i]
		server, local, ok := s.locate(p.ID)
		if !ok {
			out = append(out, connectors.Standing{ID: p.ID, Unknown: true})
			continue
		}
		st, err := s.clients[server].status(ctx, local)
		switch {
		case errors.Is(err, errGone):
			out = append(out, connectors.Standing{ID: p.ID, Gone: post.GoneDeleted})
		case errors.Is(err, errUnverifiable):
			out = append(out, connectors.Standing{ID: p.ID, Unknown: true})
		case err != nil:
			return nil, err
		default:
			out = append(out, s.standing(p, st))
		}
	}
	return out, nil
}

// standing compares a status as the server has it now with the post shown.
func (s *Source) standing(p *post.Post, st *Status) connectors.Standing {
	shown := st
	if st.Reblog != nil {
		shown = st.Reblog
	}
	switch {
	case !public(st.Visibility) || !public(shown.Visibility):
		return connectors.Standing{ID: p.ID, Gone: post.GonePrivate}
	case (shown.Sensitive || strings.TrimSpace(shown.SpoilerText) != "") && !p.Sensitive:
		return connectors.Standing{ID: p.ID, Gone: post.GoneSensitive}
	case shown.EditedAt != nil && shown.EditedAt.After(p.EditedAt):
		np, err := Adapt(st, p.Source, s.now())
		if err != nil || np.ID != p.ID {
			return connectors.Standing{ID: p.ID} // stands; the new version cannot be read
		}
		return connectors.Standing{ID: p.ID, Edit: &np}
	}
	return connectors.Standing{ID: p.ID}
}

func public(visibility string) bool {
	return visibility == "" || visibility == "public" || visibility == "unlisted"
}

// locate finds the server to ask about a post and the status's id there:
// the server that fetched it, when this process remembers; else the
// status's own server when it is one of the source's servers (its id is
// then in the post id).
func (s *Source) locate(id string) (server, local string, ok bool) {
	s.mu.Lock()
	where, found := s.where.Get(id)
	s.mu.Unlock()
	if found {
		server, local, ok = strings.Cut(where, "\x00")
		return server, local, ok && s.clients[server] != nil
	}
	hostPath, ok := strings.CutPrefix(id, Network+":")
	if !ok {
		return "", "", false
	}
	host, local, ok := strings.Cut(hostPath, "/")
	if !ok || local == "" || strings.ContainsFunc(local, func(r rune) bool { return r < '0' || r > '9' }) {
		return "", "", false
	}
	for server := range s.clients {
		if u, err := url.Parse(server); err == nil && strings.EqualFold(u.Host, host) && (u.Path == "" || u.Path == "/") {
			return server, local, true
		}
	}
	return "", "", false
}

// errGone is a status the server no longer shows; errUnverifiable one it
// will not say anything about (it requires sign-in).
var (
	errGone         = errors.New("mastodon: status gone")
	errUnverifiable = errors.New("mastodon: the server will not say")
)

// status fetches GET /api/v1/statuses/:id.
func (c *client) status(ctx context.Context, local string) (*Status, error) {
	var st Status
	_, err := c.api.GetJSON(ctx, c.server+"/api/v1/statuses/"+url.PathEscape(local), c.header(), &st)
	var se *fetch.StatusError
	var ae *connectors.AuthError
	switch {
	case errors.As(err, &se) && (se.Status == http.StatusNotFound || se.Status == http.StatusGone):
		return nil, errGone
	case errors.As(err, &ae):
		return nil, errUnverifiable
	case err != nil:
		return nil, fmt.Errorf("mastodon: check status %s: %w", local, err)
	}
	return &st, nil
}
