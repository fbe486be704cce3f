package graph

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/fetch"
	"github.com/chorus-wall/chorus/post"
)

// Lookup outcomes of a single object, for the compliance sweep.
var (
	// ErrGone: the Graph API says the object does not exist (deleted).
	ErrGone = errors.New("graph: the object no longer exists")
	// ErrUnverifiable: the token may not read the object (another
	// account's media, a permission the app lacks), so nothing can be said.
	ErrUnverifiable = errors.New("graph: the object cannot be read with this token")
)

// subcodeMissing is the error subcode of "Object with ID ... does not
// exist, cannot be loaded due to missing permissions, or does not support
// this operation" (error 100): what a deleted post, comment or media gets.
const subcodeMissing = 33

// Lookup reads object id's fields into v. A deleted object is ErrGone, one
// the token may not read ErrUnverifiable; a rate limit or a refused token
// stays the error it is (the sweep stops and takes nothing down), and so
// does any other error 100 (a field the object lacks is not a deletion).
func (c *Client) Lookup(ctx context.Context, id, fields string, v any) error {
	err := c.Get(ctx, "/"+url.PathEscape(id), url.Values{"fields": {fields}}, "object "+id, v)
	var apiErr *APIError
	var status *fetch.StatusError
	var auth *connectors.AuthError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &apiErr) && apiErr.Code == 100 && apiErr.Subcode == subcodeMissing:
		return ErrGone
	case errors.As(err, &status) && (status.Status == http.StatusNotFound || status.Status == http.StatusGone):
		return ErrGone
	case errors.As(err, &auth) && errors.As(err, &apiErr) && apiErr.Permission():
		// A permission error about this one object, not the token.
		return ErrUnverifiable
	}
	return err
}

// Object is what CheckEach asks of each post: its id, and is_hidden where
// the fields ask for it (a Facebook Page hid it).
type Object struct {
	ID       string `json:"id"`
	IsHidden bool   `json:"is_hidden"`
}

// CheckEach asks the Graph API about each post of network, one Lookup each,
// for the compliance sweep: a deleted object is gone, a hidden one private,
// one the token may not read (or a post id of another network) unknown.
// Any other error stops the sweep and is returned, taking nothing down.
func (c *Client) CheckEach(ctx context.Context, network string, posts []post.Post, fields string) ([]connectors.Standing, error) {
	out := make([]connectors.Standing, 0, len(posts))
	for i := range posts {
		id := posts[i].ID
		native, ok := strings.CutPrefix(id, network+":")
		if !ok || native == "" {
			out = append(out, connectors.Standing{ID: id, Unknown: true})
			continue
		}
		var obj Object
		err := c.Lookup(ctx, native, fields, &obj)
		switch {
		case errors.Is(err, ErrGone):
			out = append(out, connectors.Standing{ID: id, Gone: post.GoneDeleted})
		case errors.Is(err, ErrUnverifiable):
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
