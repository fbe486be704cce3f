package main

import (
	"context"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/auth"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/curation"
)

// sweepEvery is how often expired sessions, setup codes and sign-ins in
// progress are deleted from the bucket.
const sweepEvery = 10 * time.Minute

// startAccounts opens the accounts in the config bucket, the guard every
// admin route goes through and the sign-in handlers, and starts the
// sweeper and, while no user exists, the setup code.
func (a *App) startAccounts(ctx context.Context) error {
	a.accounts = auth.NewStore(a.conn.Config, auth.Options{
		IdleTimeout: a.cfg.Auth.SessionIdle, MaxAge: a.cfg.Auth.SessionMaxAge, Logger: a.log,
		Connected: a.conn.NC.IsConnected,
	})
	var sso *auth.SSO
	if o := a.cfg.Auth.OIDC; o != nil {
		var err error
		if sso, err = auth.NewSSO(a.accounts, *o, a.cfg.Server.PublicURL, nil); err != nil {
			return usageError{err}
		}
	}
	a.signIn = &auth.Handlers{
		Store:     a.accounts,
		Throttle:  auth.NewThrottle(auth.DefaultUserLimit, auth.DefaultAddressLimit, nil),
		SSO:       sso,
		PublicURL: a.cfg.Server.PublicURL,
		Log:       a.log,
	}
	a.guard = &auth.Guard{
		Store:        a.accounts,
		AdminToken:   a.token,
		ActorKey:     curation.ActorKey,
		StreamExists: func(id string) bool { _, ok := a.streams.Get(id); return ok },
		Admit:        a.admit,
		Refused:      a.refused,
	}
	// Sign-in is served by api nodes: they sweep and show the setup code.
	if a.has(config.RoleAPI) {
		a.run(ctx, "accounts", func(ctx context.Context) error { return a.accounts.RunSweeper(ctx, sweepEvery) })
		a.run(ctx, "setup", func(ctx context.Context) error { return a.accounts.RunSetup(ctx, a.showSetupCode) })
	}
	return nil
}

// showSetupCode prints the code that makes the first owner.
func (a *App) showSetupCode(code string, until time.Time) {
	a.log.Warn("no accounts yet: open "+a.cfg.Server.PublicURL+"/login and create the first owner with this setup code",
		"code", code, "valid_until", until.Format(time.RFC3339))
}

// visibleSources keeps the sources a caller may see: all of them for a
// grant on every stream, else those feeding the caller's streams.
func (a *App) visibleSources(c echo.Context, all []connectors.Status) []connectors.Status {
	p, ok := auth.From(c)
	if !ok || p.AllStreams() {
		return all
	}
	feeds := map[string]bool{}
	for _, id := range p.Streams {
		if s, ok := a.streams.Get(id); ok {
			for _, src := range s.Sources {
				feeds[src] = true
			}
		}
	}
	out := []connectors.Status{}
	for _, s := range all {
		if feeds[s.ID] {
			out = append(out, s)
		}
	}
	return out
}
