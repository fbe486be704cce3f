package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/chorus-wall/chorus/access"
)

// viewerTokenCmd mints a viewer token for a private stream's screens.
type viewerTokenCmd struct {
	serverFlags
	Stream string        `arg:"" help:"Stream id."`
	TTL    time.Duration `help:"How long the token opens the stream (at most 8784h)." default:"24h"`
}

func (c *viewerTokenCmd) Run(e *env) error {
	if c.TTL <= 0 || c.TTL > access.MaxTokenTTL {
		return usageError{fmt.Errorf("--ttl: %s must be more than 0 and at most %s", c.TTL, access.MaxTokenTTL)}
	}
	data, err := c.call(e, "/api/v1/streams/"+url.PathEscape(c.Stream)+"/viewer-tokens", map[string]string{"ttl": c.TTL.String()})
	if err != nil {
		return err
	}
	var out access.TokenResponse
	if err := json.Unmarshal(data, &out); err != nil || out.Token == "" {
		return fmt.Errorf("unexpected answer from the server: %.200s", data)
	}
	fmt.Fprintf(e.stdout, "%s\nexpires %s; add ?token=%s to the stream's wall, embed, posts, cards, feed and websocket URLs\n",
		out.Token, out.ExpiresAt.Format(time.RFC3339), out.Token)
	return nil
}
