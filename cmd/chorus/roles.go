package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/cluster"
	"github.com/chorus-wall/chorus/config"
)

// A process has roles (config roles, --roles): what it runs and what it
// serves. Every node serves the probes, metrics, assets, media, the public
// list of streams and webhooks; display nodes serve screens; api nodes the
// admin API and the console (see README, Running several nodes).

// has reports whether this node has role.
func (a *App) has(role string) bool { return a.cfg.Roles.Has(role) }

// joinCluster makes this node a live member of the cluster (one node alone
// is a cluster too), or fails the start when another running process uses
// its name.
func (a *App) joinCluster(ctx context.Context) error {
	a.cluster = cluster.New(a.conn.Leases, a.conn.LeaseTTL, cluster.Options{
		Name: a.cfg.Node, Roles: a.cfg.Roles, URL: a.cfg.Server.PublicURL, Version: version, Logger: a.log,
		Connected: a.conn.NC.IsConnected,
	})
	failed := make(chan error, 1)
	a.run(ctx, "cluster", func(ctx context.Context) error {
		err := a.cluster.Run(ctx)
		failed <- err
		return err
	})
	select {
	case <-a.cluster.Joined():
		return nil
	case err := <-failed:
		if err == nil {
			err = ctx.Err()
		}
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// notReady names the parts of this node's roles not ready yet; empty means
// ready.
func (a *App) notReady() []string {
	var missing []string
	if a.conn == nil || !a.conn.NC.IsConnected() {
		missing = append(missing, "nats")
	}
	loading := map[string]<-chan struct{}{}
	if a.index != nil {
		loading["index"] = a.index.Ready()
	}
	if a.has(config.RoleDisplay) || a.has(config.RoleAPI) {
		loading["display"] = a.hub.Ready()
	}
	for _, name := range []string{"index", "display"} {
		ch, ok := loading[name]
		if !ok {
			continue
		}
		select {
		case <-ch:
		default:
			missing = append(missing, name)
		}
	}
	return missing
}

// servedBy names the roles of which this node needs one to answer a
// request (none: every node answers it). Screens (websockets and the pages
// that open them) need display; a stream's public reads (snapshot, cards,
// feeds, profiles) need display or api, which both hold the display state;
// the rest of the API and the console need api.
func servedBy(method, path string) []string {
	screens := []string{config.RoleDisplay}
	reads := []string{config.RoleDisplay, config.RoleAPI}
	admin := []string{config.RoleAPI}
	switch {
	case strings.HasPrefix(path, "/wall/"), strings.HasPrefix(path, "/ws/streams/"),
		strings.HasPrefix(path, "/embed"), strings.HasPrefix(path, "/overlay/"):
		return screens
	case strings.HasPrefix(path, "/feeds/"):
		return reads
	case path == "/login", path == "/console", strings.HasPrefix(path, "/console/"), path == "/ws/console",
		strings.HasPrefix(path, "/debug/pprof"):
		return admin
	}
	rest, ok := strings.CutPrefix(path, "/api/v1/")
	if !ok || rest == "streams" || strings.HasPrefix(rest, "ingest/") {
		return nil
	}
	// A stream's public reads: /streams/{id}, /streams/{id}/posts,
	// /cards.html and /profiles/{name} (reading; changing one is admin).
	parts := strings.Split(rest, "/")
	public := method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
	if parts[0] == "streams" && public {
		switch {
		case len(parts) == 2:
			return nil
		case len(parts) == 3 && (parts[2] == "posts" || parts[2] == "cards.html"),
			len(parts) == 4 && parts[2] == "profiles":
			return reads
		}
	}
	return admin
}

// serveRoles answers 421 Misdirected Request, naming this node's roles,
// when a request needs a role this node does not have: the load balancer
// sent it to the wrong kind of node.
func (a *App) serveRoles(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		need := servedBy(r.Method, r.URL.Path)
		if len(need) == 0 || slices.ContainsFunc(need, a.has) {
			return next(c)
		}
		return echo.NewHTTPError(http.StatusMisdirectedRequest,
			fmt.Sprintf("this node (%s) does not serve this: it needs the %s role, and this node's roles are %s",
				a.cfg.Node, strings.Join(need, " or "), a.cfg.Roles.String()))
	}
}
