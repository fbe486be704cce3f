package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// serverFlags say which running Chorus a moderator command talks to.
type serverFlags struct {
	Server string `help:"URL of the running Chorus." default:"http://localhost:8080" env:"CHORUS_SERVER"`
	Token  string `help:"Admin token (default: CHORUS_ADMIN_TOKEN, else <data>/admin-token)." env:"CHORUS_ADMIN_TOKEN"`
	Data   string `help:"Data directory holding a generated admin token." default:"data" type:"path"`
	Reason string `help:"Why, for the audit trail." short:"r"`
}

func (f serverFlags) token() (string, error) {
	if f.Token != "" {
		return f.Token, nil
	}
	data, err := os.ReadFile(filepath.Join(f.Data, "admin-token"))
	if err != nil {
		return "", usageError{errors.New("no admin token: pass --token, set CHORUS_ADMIN_TOKEN, or run where <data>/admin-token is readable")}
	}
	return strings.TrimSpace(string(data)), nil
}

// post sends an admin action and prints the answer.
func (f serverFlags) post(e *env, path string) error {
	token, err := f.token()
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"reason": f.Reason})
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(f.Server, "/")+path, strings.NewReader(string(body)))
	if err != nil {
		return usageError{fmt.Errorf("--server: %w", err)}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach %s: %w", f.Server, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var msg struct{ Error string }
		if json.Unmarshal(data, &msg) == nil && msg.Error != "" {
			return fmt.Errorf("%s: %s", resp.Status, msg.Error)
		}
		return fmt.Errorf("%s", resp.Status)
	}
	var out struct {
		Changed bool   `json:"changed"`
		Status  string `json:"status"`
		Seq     uint64 `json:"seq"`
	}
	_ = json.Unmarshal(data, &out)
	if out.Changed {
		fmt.Fprintf(e.stdout, "done (event %d)\n", out.Seq)
	} else {
		fmt.Fprintf(e.stdout, "nothing to change (already %s)\n", out.Status)
	}
	return nil
}

type banCmd struct {
	serverFlags
	Stream string `help:"Stream id." required:""`
	Author string `arg:"" help:"Author key: network:handle, e.g. mastodon:troll@example.social."`
	Undo   bool   `help:"Unban instead."`
}

func (c *banCmd) Run(e *env) error {
	action := "ban"
	if c.Undo {
		action = "unban"
	}
	return c.post(e, "/api/v1/streams/"+url.PathEscape(c.Stream)+"/authors/"+url.PathEscape(c.Author)+"/"+action)
}

type removeCmd struct {
	serverFlags
	Stream string `help:"Stream id." required:""`
	Post   string `arg:"" help:"Post id, e.g. mastodon:109876."`
}

func (c *removeCmd) Run(e *env) error {
	return c.post(e, "/api/v1/streams/"+url.PathEscape(c.Stream)+"/posts/"+url.PathEscape(c.Post)+"/remove")
}

type controlCmd struct {
	serverFlags
	Stream string `arg:"" help:"Stream id."`
}

type pauseCmd struct{ controlCmd }

func (c *pauseCmd) Run(e *env) error {
	return c.post(e, "/api/v1/streams/"+url.PathEscape(c.Stream)+"/pause")
}

type resumeCmd struct{ controlCmd }

func (c *resumeCmd) Run(e *env) error {
	return c.post(e, "/api/v1/streams/"+url.PathEscape(c.Stream)+"/resume")
}
