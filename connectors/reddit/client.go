package reddit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/fetch"
)

// client calls Reddit's listing endpoints, anonymously against
// www.reddit.com or with an application-only OAuth token (client
// credentials grant) against oauth.reddit.com.
type client struct {
	http     *fetch.Client
	base     string
	tokenURL string
	id       string
	secret   string
	now      func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

// tokenError marks a refusal by the token endpoint: the credentials are
// wrong, not the query.
type tokenError struct{ err error }

func (e *tokenError) Error() string { return e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

// listing fetches one listing page: path without ".json" (e.g. "/r/golang/new"),
// with query parameters.
func (c *client) listing(ctx context.Context, path string, q url.Values) (*Listing, error) {
	u := c.base + path + ".json"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	for attempt := 0; ; attempt++ {
		h := http.Header{}
		if c.id != "" {
			tok, err := c.accessToken(ctx)
			if err != nil {
				return nil, err
			}
			h.Set("Authorization", "bearer "+tok)
		}
		resp, err := c.http.Get(ctx, u, h)
		var auth *connectors.AuthError
		if c.id != "" && attempt == 0 && errors.As(err, &auth) && auth.Status == http.StatusUnauthorized {
			// The token expired or was revoked early: fetch a new one once.
			c.dropToken()
			continue
		}
		if err != nil {
			return nil, err
		}
		l, err := parseListing(resp.Body)
		if err != nil {
			return nil, err
		}
		return l, nil
	}
}

func (c *client) dropToken() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = ""
}

// accessToken returns a valid application-only token, fetching a new one a
// minute before the old one expires.
func (c *client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.now().Before(c.expires) {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("reddit: token request: %w", err)
	}
	req.SetBasicAuth(c.id, c.secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		if fetch.IsAuth(err) {
			return "", &tokenError{fmt.Errorf("reddit: access token: %w", err)}
		}
		return "", fmt.Errorf("reddit: access token: %w", err)
	}
	var tr TokenResponse
	if err := json.Unmarshal(resp.Body, &tr); err != nil {
		return "", fmt.Errorf("reddit: access token: decode: %w", err)
	}
	if tr.AccessToken == "" {
		// Reddit answers 200 {"error": "invalid_grant"} for some refusals.
		return "", &tokenError{&connectors.AuthError{Status: http.StatusUnauthorized, Err: fmt.Errorf("reddit: access token refused: %q", tr.Error)}}
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	if life <= 0 {
		life = time.Hour
	}
	c.token = tr.AccessToken
	c.expires = c.now().Add(life - min(time.Minute, life/2))
	return c.token, nil
}
