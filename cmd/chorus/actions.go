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

	"github.com/chorus-wall/chorus/config"
)

// serverFlags say which running Chorus a moderator command talks to.
type serverFlags struct {
	Server string `help:"URL of the running Chorus (default: public_url, else server.addr, of --config; else http://localhost:8080)." env:"CHORUS_SERVER"`
	Config string `short:"c" help:"Config file of the running Chorus: its address, admin token and data directory." type:"path" env:"CHORUS_CONFIG"`
	Token  string `help:"Admin token (default: CHORUS_ADMIN_TOKEN, else admin_token of --config, else <data>/admin-token)." env:"CHORUS_ADMIN_TOKEN"`
	Data   string `help:"Data directory holding a generated admin token (default: data_dir of --config, else data)." type:"path"`
	Reason string `help:"Why, for the audit trail." short:"r"`
}

// defaultServer is where a moderator command looks without --server or
// --config: the default server.addr.
const defaultServer = "http://localhost:8080"

// target returns the server's base URL and the admin token, from the flags
// first, then the config file, then the defaults.
func (f serverFlags) target() (base, token string, err error) {
	var cfg *config.Config
	if f.Config != "" {
		if cfg, err = config.Load(f.Config); err != nil {
			return "", "", usageError{err}
		}
	}
	base = f.Server
	if base == "" {
		base = defaultServer
		if cfg != nil {
			base = cfg.ServerURL()
		}
	}
	if u, perr := url.Parse(base); perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", usageError{fmt.Errorf("--server: %q is not an http(s) URL like http://localhost:8080", base)}
	}
	token = f.Token
	if token == "" && cfg != nil && cfg.AdminToken.IsSet() {
		token = cfg.AdminToken.Reveal()
	}
	if token == "" {
		data := f.Data
		if data == "" && cfg != nil {
			data = cfg.DataDir
		}
		if data == "" {
			data = config.DefaultDataDir
		}
		raw, err := os.ReadFile(filepath.Join(data, "admin-token"))
		if err != nil {
			return "", "", usageError{errors.New("no admin token: pass --token or --config, set CHORUS_ADMIN_TOKEN, or run where <data>/admin-token is readable")}
		}
		token = strings.TrimSpace(string(raw))
	}
	return strings.TrimRight(base, "/"), token, nil
}

// post sends an admin action and prints the answer.
func (f serverFlags) post(e *env, path string) error {
	data, err := f.call(e, path, map[string]string{"reason": f.Reason})
	if err != nil {
		return err
	}
	var out struct {
		Stream  string `json:"stream"`
		Action  string `json:"action"`
		Changed bool   `json:"changed"`
		Status  string `json:"status"`
		Seq     uint64 `json:"seq"`
	}
	_ = json.Unmarshal(data, &out)
	switch {
	case out.Changed:
		fmt.Fprintf(e.stdout, "done (event %d)\n", out.Seq)
	case out.Action == "pause" || out.Action == "resume":
		fmt.Fprintf(e.stdout, "stream %s is already %s; nothing changed\n", out.Stream, out.Status)
	default:
		fmt.Fprintf(e.stdout, "nothing to change (already %s)\n", out.Status)
	}
	return nil
}

// call POSTs body as JSON to the server's admin API at path and returns the
// answer's body, or an error carrying the server's message.
func (f serverFlags) call(e *env, path string, body any) ([]byte, error) {
	base, token, err := f.target()
	if err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(string(raw)))
	if err != nil {
		return nil, usageError{fmt.Errorf("--server: %w", err)}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach %s: %w", base, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var msg struct{ Error string }
		if json.Unmarshal(data, &msg) == nil && msg.Error != "" {
			return nil, fmt.Errorf("%s: %s", resp.Status, msg.Error)
		}
		return nil, fmt.Errorf("%s", resp.Status)
	}
	return data, nil
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
