package graph

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/fetch"
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
