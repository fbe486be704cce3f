package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/chorus-wall/chorus/auth"
	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/config"
)

// The user and key commands act on the data directory when no Chorus runs
// on it (they take its lock), on the NATS cluster of nats.url, or, when a
// Chorus holds the data directory or --server is given, through that
// server's API with the admin token or an owner's API key.

// accounts is what the user and key commands do, wherever they do it.
type accounts interface {
	AddUser(ctx context.Context, name, password string, g auth.Grant) (auth.User, error)
	Users(ctx context.Context) ([]auth.User, error)
	RemoveUser(ctx context.Context, name string) error
	SetPassword(ctx context.Context, name, password string) error
	CreateKey(ctx context.Context, name string, g auth.Grant) (auth.Key, string, error)
	Keys(ctx context.Context) ([]auth.Key, error)
	RevokeKey(ctx context.Context, name string) error
}

// cliActor is who the record says made a change from the command line on
// the data directory.
const cliActor = "cli"

// open returns where the command acts and how to let go of it.
func (f targetFlags) open(e *env) (accounts, func(), error) {
	if f.Server != "" {
		return f.api(e)
	}
	cfg, err := config.Load(f.Config)
	if err != nil {
		return nil, nil, usageError{err}
	}
	if f.Data != "" {
		cfg.DataDir = f.Data
	}
	log := newLogger(e.stderr, "warn", cfg.LogFormat)
	var lock *dataDirLock
	if cfg.NATS.URL == "" {
		lock, err = lockDataDir(cfg.DataDir)
		var inUse *dirInUseError
		if errors.As(err, &inUse) {
			fmt.Fprintf(e.stderr, "a chorus (pid %s) runs on %s; asking it through its API\n", inUse.pid, cfg.DataDir)
			return f.api(e)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	conn, err := bus.Open(e.ctx, busOptions(cfg, "chorus-accounts", log))
	if err != nil {
		_ = lock.Unlock()
		return nil, nil, err
	}
	store := auth.NewStore(conn.Config, auth.Options{Logger: slog.New(slog.DiscardHandler)})
	return storeAccounts{store}, func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), 10*time.Second)
		defer cancel()
		_ = conn.Close(ctx)
		_ = lock.Unlock()
	}, nil
}

func (f targetFlags) api(*env) (accounts, func(), error) {
	base, token, err := f.target()
	if err != nil {
		return nil, nil, err
	}
	return apiAccounts{base: base, token: token}, func() {}, nil
}

// storeAccounts acts on the chorus_config bucket directly.
type storeAccounts struct{ store *auth.Store }

func (s storeAccounts) AddUser(ctx context.Context, name, password string, g auth.Grant) (auth.User, error) {
	return s.store.CreateUser(ctx, name, password, g, cliActor)
}
func (s storeAccounts) Users(ctx context.Context) ([]auth.User, error) { return s.store.Users(ctx) }
func (s storeAccounts) RemoveUser(ctx context.Context, name string) error {
	return s.store.RemoveUser(ctx, name, cliActor)
}
func (s storeAccounts) SetPassword(ctx context.Context, name, password string) error {
	return s.store.SetPassword(ctx, name, password, "", cliActor)
}
func (s storeAccounts) CreateKey(ctx context.Context, name string, g auth.Grant) (auth.Key, string, error) {
	return s.store.CreateKey(ctx, name, g, cliActor)
}
func (s storeAccounts) Keys(ctx context.Context) ([]auth.Key, error) { return s.store.Keys(ctx) }
func (s storeAccounts) RevokeKey(ctx context.Context, name string) error {
	return s.store.RevokeKey(ctx, name, cliActor)
}

// apiAccounts acts through a running server's API.
type apiAccounts struct{ base, token string }

func (a apiAccounts) call(ctx context.Context, method, path string, body, out any) error {
	return apiCall(ctx, a.base, a.token, method, "/api/v1"+path, body, out)
}

func grantBody(g auth.Grant) map[string]any {
	return map[string]any{"role": g.Role, "streams": g.Streams}
}

func (a apiAccounts) AddUser(ctx context.Context, name, password string, g auth.Grant) (auth.User, error) {
	body := grantBody(g)
	body["name"], body["password"] = name, password
	var u auth.User
	return u, a.call(ctx, http.MethodPost, "/users", body, &u)
}

func (a apiAccounts) Users(ctx context.Context) ([]auth.User, error) {
	var out struct{ Users []auth.User }
	return out.Users, a.call(ctx, http.MethodGet, "/users", nil, &out)
}

func (a apiAccounts) RemoveUser(ctx context.Context, name string) error {
	return a.call(ctx, http.MethodDelete, "/users/"+url.PathEscape(name), nil, nil)
}

func (a apiAccounts) SetPassword(ctx context.Context, name, password string) error {
	return a.call(ctx, http.MethodPut, "/users/"+url.PathEscape(name)+"/password", map[string]string{"password": password}, nil)
}

func (a apiAccounts) CreateKey(ctx context.Context, name string, g auth.Grant) (auth.Key, string, error) {
	body := grantBody(g)
	body["name"] = name
	var out struct {
		auth.Key
		Secret string `json:"secret"`
	}
	err := a.call(ctx, http.MethodPost, "/keys", body, &out)
	return out.Key, out.Secret, err
}

func (a apiAccounts) Keys(ctx context.Context) ([]auth.Key, error) {
	var out struct{ Keys []auth.Key }
	return out.Keys, a.call(ctx, http.MethodGet, "/keys", nil, &out)
}

func (a apiAccounts) RevokeKey(ctx context.Context, name string) error {
	return a.call(ctx, http.MethodDelete, "/keys/"+url.PathEscape(name), nil, nil)
}

// withAccounts runs fn on the accounts the flags name; errors of input
// (bad name, role, password) are usage errors.
func withAccounts(e *env, f targetFlags, fn func(accounts) error) error {
	acc, done, err := f.open(e)
	if err != nil {
		return err
	}
	defer done()
	err = fn(acc)
	if errors.Is(err, auth.ErrBadInput) {
		return usageError{errors.New(strings.TrimPrefix(err.Error(), auth.ErrBadInput.Error()+": "))}
	}
	return err
}

// grantFlags are a role and the streams it covers.
type grantFlags struct {
	Role    string   `required:"" enum:"viewer,moderator,manager,owner" help:"Role: viewer, moderator, manager or owner."`
	Streams []string `help:"Streams the role covers, comma-separated (default: every stream, including later ones)." sep:","`
}

func (g grantFlags) grant() auth.Grant {
	return auth.Grant{Role: auth.Role(g.Role), Streams: g.Streams}
}

type userCmd struct {
	Add    userAddCmd    `cmd:"" help:"Add a user; the password is read from standard input (asked twice on a terminal)."`
	List   userListCmd   `cmd:"" help:"List users."`
	Remove userRemoveCmd `cmd:"" help:"Remove a user; their sessions end."`
	Passwd userPasswdCmd `cmd:"" help:"Set a user's password, read from standard input; their sessions end."`
}

type userAddCmd struct {
	targetFlags
	grantFlags
	Name string `arg:"" help:"User name: 1-64 of a-z, 0-9, '.', '-' and '_'."`
}

func (c *userAddCmd) Run(e *env) error {
	password, err := readPassword(e, "password for "+c.Name)
	if err != nil {
		return err
	}
	return withAccounts(e, c.targetFlags, func(acc accounts) error {
		u, err := acc.AddUser(e.ctx, c.Name, password, c.grant())
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "user %s added: %s\n", u.Name, u.Grant)
		return nil
	})
}

type userListCmd struct {
	targetFlags
}

func (c *userListCmd) Run(e *env) error {
	return withAccounts(e, c.targetFlags, func(acc accounts) error {
		users, err := acc.Users(e.ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tROLE\tSTREAMS\tCREATED\tLAST SIGN-IN")
		for _, u := range users {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, streamsText(u.Grant), when(u.Created), when(u.LastLogin))
		}
		return w.Flush()
	})
}

type userRemoveCmd struct {
	targetFlags
	Name string `arg:"" help:"User name."`
}

func (c *userRemoveCmd) Run(e *env) error {
	return withAccounts(e, c.targetFlags, func(acc accounts) error {
		if err := acc.RemoveUser(e.ctx, c.Name); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "user %s removed\n", auth.NormalizeName(c.Name))
		return nil
	})
}

type userPasswdCmd struct {
	targetFlags
	Name string `arg:"" help:"User name."`
}

func (c *userPasswdCmd) Run(e *env) error {
	password, err := readPassword(e, "new password for "+c.Name)
	if err != nil {
		return err
	}
	return withAccounts(e, c.targetFlags, func(acc accounts) error {
		if err := acc.SetPassword(e.ctx, c.Name, password); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "password of %s changed; their sessions ended\n", auth.NormalizeName(c.Name))
		return nil
	})
}

type keyCmd struct {
	Create keyCreateCmd `cmd:"" help:"Create an API key; it is printed once, on standard output."`
	List   keyListCmd   `cmd:"" help:"List API keys (never their secrets)."`
	Revoke keyRevokeCmd `cmd:"" help:"Revoke an API key: the next call made with it is refused."`
}

type keyCreateCmd struct {
	targetFlags
	grantFlags
	Name string `arg:"" help:"Key name: 1-64 of a-z, 0-9, '.', '-' and '_'."`
}

func (c *keyCreateCmd) Run(e *env) error {
	return withAccounts(e, c.targetFlags, func(acc accounts) error {
		k, secret, err := acc.CreateKey(e.ctx, c.Name, c.grant())
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, secret)
		fmt.Fprintf(e.stderr, "key %s created: %s. Keep it now: it is not shown again. Use it as Authorization: Bearer <key>.\n", k.Name, k.Grant)
		return nil
	})
}

type keyListCmd struct {
	targetFlags
}

func (c *keyListCmd) Run(e *env) error {
	return withAccounts(e, c.targetFlags, func(acc accounts) error {
		keys, err := acc.Keys(e.ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tROLE\tSTREAMS\tCREATED\tCREATED BY\tLAST USED")
		for _, k := range keys {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", k.Name, k.Role, streamsText(k.Grant), when(k.Created), k.CreatedBy, when(k.LastUsed))
		}
		return w.Flush()
	})
}

type keyRevokeCmd struct {
	targetFlags
	Name string `arg:"" help:"Key name."`
}

func (c *keyRevokeCmd) Run(e *env) error {
	return withAccounts(e, c.targetFlags, func(acc accounts) error {
		if err := acc.RevokeKey(e.ctx, c.Name); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "key %s revoked\n", auth.NormalizeName(c.Name))
		return nil
	})
}

func streamsText(g auth.Grant) string {
	if g.AllStreams() {
		return "(all)"
	}
	return strings.Join(g.Streams, ",")
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format("2006-01-02 15:04")
}

// readPassword reads a password: on a terminal it asks twice without
// echo; from a pipe or file it takes the first line.
func readPassword(e *env, prompt string) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		read := func(prompt string) (string, error) {
			fmt.Fprint(e.stderr, prompt+": ")
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(e.stderr)
			return string(b), err
		}
		p1, err := read(prompt)
		if err != nil {
			return "", err
		}
		p2, err := read("again")
		if err != nil {
			return "", err
		}
		if p1 != p2 {
			return "", usageError{errors.New("the two passwords differ")}
		}
		return p1, nil
	}
	r := bufio.NewReaderSize(io.LimitReader(e.stdin, auth.MaxPasswordBytes+2), auth.MaxPasswordBytes+2)
	line, err := r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usageError{errors.New("no password on standard input: pipe it in (printf '%s\\n' \"$PASSWORD\" | chorus user add ...) or run on a terminal")}
	}
	return line, nil
}
