package main

import (
	"bytes"
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

// targetFlags say which running Chorus a command talks to, and with what
// credential.
type targetFlags struct {
	Server string `help:"URL of the running Chorus (default: public_url, else server.addr, of --config; else http://localhost:8080)." env:"CHORUS_SERVER"`
	Config string `short:"c" help:"Config file of the running Chorus: its address, admin token and data directory." type:"path" env:"CHORUS_CONFIG"`
	Token  string `help:"Admin token or API key (default: CHORUS_ADMIN_TOKEN, else admin_token of --config, else <data>/admin-token)." env:"CHORUS_ADMIN_TOKEN"`
	Data   string `help:"Data directory holding a generated admin token (default: data_dir of --config, else data)." type:"path"`
}

// serverFlags are the targetFlags of a moderator action, with its reason.
type serverFlags struct {
	targetFlags
	Reason string `help:"Why, for the audit trail." short:"r"`
}

// defaultServer is where a moderator command looks without --server or
// --config: the default server.addr.
const defaultServer = "http://localhost:8080"

// target returns the server's base URL and the admin token, from the flags
// first, then the config file, then the defaults.
func (f targetFlags) target() (base, token string, err error) {
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
	var raw json.RawMessage
	if err := apiCall(e.ctx, base, token, http.MethodPost, path, body, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// apiCall sends a JSON call to the running server with a bearer
// credential and decodes the answer into out (when not nil). An error
// answer becomes an error with its status and message.
func apiCall(ctx context.Context, base, token, method, path string, body, out any) error {
	return apiCallLimited(ctx, callLimits{wait: 30 * time.Second, answer: 1 << 20}, base, token, method, path, body, out)
}

// callLimits bound one call: how long to wait, how large an answer to read.
type callLimits struct {
	wait   time.Duration
	answer int64
}

// apiCallLimited is apiCall within other limits (a long erasure, a large
// export).
func apiCallLimited(ctx context.Context, lim callLimits, base, token, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	ctx, cancel := context.WithTimeout(ctx, lim.wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return usageError{fmt.Errorf("--server: %w", err)}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach %s: %w", base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, lim.answer+1))
	if err != nil {
		return fmt.Errorf("%s%s: reading the answer: %w", base, path, err)
	}
	if int64(len(data)) > lim.answer {
		return fmt.Errorf("%s%s answered more than %d bytes", base, path, lim.answer)
	}
	if resp.StatusCode/100 != 2 {
		var msg struct{ Error string }
		if json.Unmarshal(data, &msg) == nil && msg.Error != "" {
			return fmt.Errorf("%s: %s", resp.Status, msg.Error)
		}
		return fmt.Errorf("%s", resp.Status)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s answered %s%s with something that is not JSON: %w", base, method, path, err)
		}
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
