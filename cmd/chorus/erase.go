package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/chorus-wall/chorus/privacy"
)

// Erasures and exports read whole streams: they may take minutes on a
// large installation, and an export may be large.
var personalCall = callLimits{wait: 15 * time.Minute, answer: 1 << 30}

type eraseCmd struct {
	serverFlags
	Stream string `help:"Erase from this stream only (default: every stream, and the ban covers them all)."`
	Author string `arg:"" help:"Author key: network:handle or network:#id, e.g. mastodon:ana@social.example."`
}

func (c *eraseCmd) Run(e *env) error {
	if _, err := privacy.ParseAuthor(c.Author); err != nil {
		return usageError{err}
	}
	base, token, err := c.target()
	if err != nil {
		return err
	}
	path := "/api/v1/authors/" + url.PathEscape(c.Author) + "/erase"
	if c.Stream != "" {
		path = "/api/v1/streams/" + url.PathEscape(c.Stream) + "/authors/" + url.PathEscape(c.Author) + "/erase"
	}
	var rep privacy.Report
	if err := apiCallLimited(e.ctx, personalCall, base, token, http.MethodPost, path, map[string]string{"reason": c.Reason}, &rep); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "erased %s from %s in %s: %d posts; %d ingest messages and %d events erased; %d seen marks deleted; author hash %s\n",
		c.Author, rep.Scope, rep.Took, rep.Posts, rep.IngestDeleted, rep.EventsDeleted, rep.SeenDeleted, rep.Author)
	fmt.Fprintf(e.stdout, "their future posts are refused (%s); the audit of %s records the erasure (event %d)\n",
		rep.Scope, strings.Join(rep.Streams, ", "), rep.Seq)
	for _, s := range rep.SettingsChanged {
		fmt.Fprintf(e.stdout, "settings changed: %s\n", s)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(e.stdout, "warning: %s\n", w)
	}
	return nil
}

type exportCmd struct {
	serverFlags
	Stream string `help:"Export what this stream holds only (default: every stream)."`
	Output string `short:"o" help:"Write the export to this file (default: standard output)." type:"path"`
	Author string `arg:"" help:"Author key: network:handle or network:#id, e.g. mastodon:ana@social.example."`
}

func (c *exportCmd) Run(e *env) error {
	if _, err := privacy.ParseAuthor(c.Author); err != nil {
		return usageError{err}
	}
	base, token, err := c.target()
	if err != nil {
		return err
	}
	path := "/api/v1/authors/" + url.PathEscape(c.Author) + "/export"
	if c.Stream != "" {
		path = "/api/v1/streams/" + url.PathEscape(c.Stream) + "/authors/" + url.PathEscape(c.Author) + "/export"
	}
	var raw json.RawMessage
	if err := apiCallLimited(e.ctx, personalCall, base, token, http.MethodGet, path, nil, &raw); err != nil {
		return err
	}
	raw = append(raw, '\n')
	if c.Output == "" {
		_, err := e.stdout.Write(raw)
		return err
	}
	if err := os.WriteFile(c.Output, raw, 0o600); err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	var out privacy.Export
	_ = json.Unmarshal(raw, &out)
	fmt.Fprintf(e.stdout, "wrote %s: %d posts of %s\n", c.Output, len(out.Posts), c.Author)
	return nil
}
