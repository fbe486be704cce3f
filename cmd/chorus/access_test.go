package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/auth"
)

// need is what a route requires, written here from the policy and
// apart from routes.go, so the test checks the routes against it.
type need struct {
	role auth.Role
	// stream: the grant must cover the stream in the path.
	stream bool
	// create: the role needed when that stream does not exist yet.
	create auth.Role
	// everywhere: the grant must cover every stream.
	everywhere bool
}

var (
	self        = need{role: auth.Viewer}
	ownerOnly   = need{role: auth.Owner}
	readStream  = need{role: auth.Viewer, stream: true}
	modStream   = need{role: auth.Moderator, stream: true}
	manageIt    = need{role: auth.Manager, stream: true}
	createIt    = need{role: auth.Manager, stream: true, create: auth.Owner}
	ownerStream = need{role: auth.Owner, stream: true}
)

// policy is every guarded route and what it needs.
var policy = map[string]need{
	"GET /api/v1/session":                              self,
	"DELETE /api/v1/session":                           self,
	"PUT /api/v1/session/password":                     self,
	"GET /api/v1/sessions":                             self,
	"DELETE /api/v1/sessions":                          self,
	"DELETE /api/v1/sessions/:session":                 self,
	"GET /api/v1/users":                                ownerOnly,
	"POST /api/v1/users":                               ownerOnly,
	"GET /api/v1/users/:name":                          ownerOnly,
	"PATCH /api/v1/users/:name":                        ownerOnly,
	"DELETE /api/v1/users/:name":                       ownerOnly,
	"PUT /api/v1/users/:name/password":                 ownerOnly,
	"DELETE /api/v1/users/:name/sessions":              ownerOnly,
	"GET /api/v1/keys":                                 ownerOnly,
	"POST /api/v1/keys":                                ownerOnly,
	"DELETE /api/v1/keys/:name":                        ownerOnly,
	"GET /api/v1/streams/:id/queue":                    readStream,
	"GET /api/v1/streams/:id/search":                   readStream,
	"GET /api/v1/streams/:id/audit":                    readStream,
	"POST /api/v1/streams/:id/posts/:post/alt":         modStream,
	"POST /api/v1/streams/:id/posts/:post/rights":      modStream,
	"POST /api/v1/streams/:id/posts/:post/:action":     modStream,
	"POST /api/v1/streams/:id/authors/:author/:action": modStream,
	"POST /api/v1/streams/:id/bulk":                    modStream,
	"PUT /api/v1/streams/:id/pins":                     modStream,
	"POST /api/v1/streams/:id/pause":                   modStream,
	"POST /api/v1/streams/:id/resume":                  modStream,
	"GET /api/v1/streams/:id/air":                      readStream,
	"POST /api/v1/streams/:id/air":                     modStream,
	"POST /api/v1/streams/:id/air/next":                modStream,
	"POST /api/v1/streams/:id/air/clear":               modStream,
	"GET /api/v1/streams/:id/settings":                 readStream,
	"PUT /api/v1/streams/:id/settings":                 createIt,
	"PATCH /api/v1/streams/:id/settings":               createIt,
	"DELETE /api/v1/streams/:id":                       ownerStream,
	"GET /api/v1/streams/:id/rules":                    readStream,
	"PUT /api/v1/streams/:id/rules":                    manageIt,
	"POST /api/v1/streams/:id/rules/dry-run":           manageIt,
	"GET /api/v1/streams/:id/filters":                  readStream,
	"PUT /api/v1/streams/:id/filters":                  manageIt,
	"PATCH /api/v1/streams/:id/filters":                manageIt,
	"POST /api/v1/streams/:id/viewer-tokens":           manageIt,
	"GET /api/v1/streams/:id/profiles":                 readStream,
	"PUT /api/v1/streams/:id/profiles/:name":           manageIt,
	"DELETE /api/v1/streams/:id/profiles/:name":        manageIt,
	"GET /api/v1/sources":                              {role: auth.Viewer},
	"GET /api/v1/overview":                             {role: auth.Viewer},
	"GET /api/v1/streams/:id/facets":                   readStream,
	"GET /debug/pprof/*":                               ownerOnly,
	"POST /debug/pprof/symbol":                         ownerOnly,
	"GET /metrics":                                     {role: auth.Viewer, everywhere: true},
	"POST /api/v1/authors/:author/erase":               {role: auth.Manager, everywhere: true},
	"GET /api/v1/authors/:author/export":               {role: auth.Manager, everywhere: true},
	"POST /api/v1/streams/:id/authors/:author/erase":   manageIt,
	"GET /api/v1/streams/:id/authors/:author/export":   manageIt,
	"GET /api/v1/retention":                            {role: auth.Viewer, everywhere: true},
	"GET /api/v1/compliance":                           {role: auth.Viewer, everywhere: true},
	"POST /api/v1/compliance/:source/sweep":            {role: auth.Manager, everywhere: true},
}

// public routes need no credential.
var public = []string{
	"GET /", "GET /wall/:id", "GET /embed/:id", "GET /embed.js", "GET /overlay/:id", "GET /assets/*", "GET /media/:sig/:url", "GET /demo/media/*",
	"GET /healthz", "GET /readyz", "GET /ws/streams/:id",
	"GET /api/v1/streams", "GET /api/v1/streams/:id", "GET /api/v1/streams/:id/posts",
	"GET /api/v1/streams/:id/cards.html", "GET /feeds/:file", "GET /api/v1/streams/:id/profiles/:name",
	"POST /api/v1/ingest/:source",
	"GET /api/v1/login-options", "POST /api/v1/session", "POST /api/v1/setup",
	"GET /api/v1/oidc/login", "GET /api/v1/oidc/callback",
	// The sign-in page and the console's page: markup and scripts only;
	// everything they show comes from the guarded API.
	"GET /login", "GET /console", "GET /console/*",
}

// ownAuth routes authenticate the caller themselves (a websocket): without
// a credential they answer 401.
var ownAuth = []string{"GET /ws/console"}

// routeKey names a route; HEAD stands for its GET.
func routeKey(method, path string) string {
	if method == http.MethodHead {
		method = http.MethodGet
	}
	return method + " " + path
}

// TestRoleMatrix calls every route the server has, as every role, on a
// stream inside the caller's grant and one outside it: a route the policy
// does not name fails the test, so none can be added unguarded.
func TestRoleMatrix(t *testing.T) {
	// Hundreds of calls in a second: lift the admin rate limit.
	app := startApp(t, t.TempDir(), testConfig+"limits: {admin: {per_second: 100000}}\n")
	e := app.server.Handler.(*echo.Echo)
	owner := app.newKey(t, "owner", "owner")
	callers := []struct {
		name  string
		key   string
		grant auth.Grant
	}{
		{"owner", owner, auth.Grant{Role: auth.Owner}},
		{"manager-all", app.newKey(t, "manager-all", "manager"), auth.Grant{Role: auth.Manager}},
		{"manager-wall", app.newKey(t, "manager-wall", "manager", "wall"), auth.Grant{Role: auth.Manager, Streams: []string{"wall"}}},
		{"moderator-wall", app.newKey(t, "moderator-wall", "moderator", "wall"), auth.Grant{Role: auth.Moderator, Streams: []string{"wall"}}},
		{"viewer-wall", app.newKey(t, "viewer-wall", "viewer", "wall"), auth.Grant{Role: auth.Viewer, Streams: []string{"wall"}}},
		{"viewer-all", app.newKey(t, "viewer-all", "viewer"), auth.Grant{Role: auth.Viewer}},
	}
	original := map[string]any{}
	for _, id := range []string{"wall", "mod"} {
		st, _ := app.streams.Get(id)
		original[id] = st
	}
	restore := func() {
		for _, id := range []string{"wall", "mod"} {
			if _, ok := app.streams.Get(id); !ok {
				st, _ := json.Marshal(original[id])
				if code, body := app.adminJSON(t, http.MethodPut, "/api/v1/streams/"+id+"/settings", string(st)); code != http.StatusOK {
					t.Fatalf("restore %s: %d %s", id, code, body)
				}
			}
		}
	}

	seen := map[string]bool{}
	checked := 0
	for _, r := range e.Routes() {
		if !slices.Contains([]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}, r.Method) {
			continue
		}
		key := routeKey(r.Method, r.Path)
		seen[key] = true
		if slices.Contains(public, key) {
			continue
		}
		if slices.Contains(ownAuth, key) {
			if code, body := call(t, app, r.Method, r.Path, ""); code != http.StatusUnauthorized {
				t.Errorf("%s %s without a credential: %d %s", r.Method, r.Path, code, body)
			}
			continue
		}
		want, ok := policy[key]
		if !ok {
			t.Errorf("route %s %s is in no policy: add what it needs to the policy in access_test.go (and guard it)", r.Method, r.Path)
			continue
		}
		targets := []string{""}
		if want.stream {
			targets = []string{"wall", "mod"}
			if want.create != "" {
				targets = append(targets, "brand-new")
			}
		}
		for _, target := range targets {
			path := fillPath(r.Path, target)
			// Without a credential: 401, always.
			if code, body := call(t, app, r.Method, path, ""); code != http.StatusUnauthorized {
				t.Errorf("%s %s without a credential: %d %s", r.Method, path, code, body)
			}
			for _, c := range callers {
				restore()
				allowed := c.grant.Role.AtLeast(want.role)
				if want.stream {
					exists := target != "brand-new"
					if !exists && !c.grant.Role.AtLeast(want.create) {
						allowed = false
					}
					if !c.grant.Covers(target) {
						allowed = false
					}
				}
				if want.everywhere && !c.grant.AllStreams() {
					allowed = false
				}
				code, body := call(t, app, r.Method, path, c.key)
				checked++
				switch {
				case allowed && (code == http.StatusUnauthorized || code == http.StatusForbidden):
					t.Errorf("%s %s as %s: refused %d %s, want allowed", r.Method, path, c.name, code, body)
				case !allowed && code != http.StatusForbidden:
					t.Errorf("%s %s as %s: %d %s, want 403", r.Method, path, c.name, code, body)
				case !allowed && r.Method != http.MethodHead && !regexp.MustCompile(`needs the \w+ role|is not among|grant on every stream`).MatchString(body):
					t.Errorf("%s %s as %s: 403 not from the guard: %s", r.Method, path, c.name, body)
				}
			}
		}
	}
	for key := range policy {
		if !seen[key] {
			t.Errorf("the policy names %s, which the server does not have", key)
		}
	}
	// Every guarded route is in the guard's own list too.
	for _, r := range app.guard.Routes() {
		if _, ok := policy[routeKey(r.Method, r.Path)]; !ok {
			t.Errorf("guarded route %s %s missing from the policy", r.Method, r.Path)
		}
	}
	t.Logf("%d calls checked", checked)
}

// fillPath puts stream into :id and harmless values into the other
// parameters (names nobody has, so nothing is removed).
func fillPath(path, stream string) string {
	values := map[string]string{
		"id": stream, "post": "hook:none", "action": "approve", "author": "webhook:nobody",
		"name": "nobody", "session": strings.Repeat("0", 64),
	}
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if name, ok := strings.CutPrefix(p, ":"); ok {
			parts[i] = values[name]
		} else if p == "*" {
			parts[i] = "x"
		}
	}
	return strings.Join(parts, "/")
}

// call sends a request with a bearer key ("" for none). A change gets a
// body that is not JSON, so an allowed call is refused by its handler
// (400) and changes nothing.
func call(t *testing.T, app *testApp, method, path, key string) (int, string) {
	t.Helper()
	var body *strings.Reader
	if method != http.MethodGet && method != http.MethodHead && method != http.MethodDelete {
		body = strings.NewReader("{")
	} else {
		body = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, app.base+path, body)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// newKey makes an API key with the admin token and returns its secret.
func (a *testApp) newKey(t *testing.T, name, role string, streams ...string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "role": role, "streams": streams})
	code, out := a.adminJSON(t, http.MethodPost, "/api/v1/keys", string(body))
	if code != http.StatusCreated {
		t.Fatalf("create key %s: %d %s", name, code, out)
	}
	var k struct{ Secret string }
	_ = json.Unmarshal([]byte(out), &k)
	return k.Secret
}

// A person signs in, acts with the CSRF token, and the audit names them;
// a key's actions name the key.
func TestSignedInModeratorInTheAudit(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig)
	if code, body := app.adminJSON(t, http.MethodPost, "/api/v1/users",
		`{"name":"ana","password":"`+cliPassword+`","role":"moderator","streams":["wall"]}`); code != http.StatusCreated {
		t.Fatalf("create ana: %d %s", code, body)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	send := func(method, path, csrf, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, app.base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if csrf != "" {
			req.Header.Set(auth.CSRFHeader, csrf)
		}
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	code, body := send(http.MethodPost, "/api/v1/session", "", `{"username":"ana","password":"`+cliPassword+`"}`)
	if code != http.StatusOK {
		t.Fatalf("sign in: %d %s", code, body)
	}
	var who auth.SessionView
	_ = json.Unmarshal([]byte(body), &who)

	if code, body := send(http.MethodPost, "/api/v1/streams/wall/pause", "", `{"reason":"fire drill"}`); code != http.StatusForbidden {
		t.Fatalf("pause without the CSRF token: %d %s", code, body)
	}
	if code, body := send(http.MethodPost, "/api/v1/streams/wall/pause", who.CSRFToken, `{"reason":"fire drill"}`); code != http.StatusOK {
		t.Fatalf("pause: %d %s", code, body)
	}
	if code, _ := send(http.MethodPost, "/api/v1/streams/mod/pause", who.CSRFToken, ``); code != http.StatusForbidden {
		t.Fatalf("pause outside the grant: %d", code)
	}
	bot := app.newKey(t, "stage-bot", "moderator", "wall")
	if code, body := call(t, app, http.MethodPost, "/api/v1/streams/wall/resume", bot); code != http.StatusBadRequest {
		t.Fatalf("resume with a broken body: %d %s", code, body)
	}
	req, _ := http.NewRequest(http.MethodPost, app.base+"/api/v1/streams/wall/resume", nil)
	req.Header.Set("Authorization", "Bearer "+bot)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("resume with the key: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()

	_, audit := send(http.MethodGet, "/api/v1/streams/wall/audit", "", "")
	for _, want := range []string{`"actor":"ana"`, `"actor":"key:stage-bot"`} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit lacks %s: %s", want, audit)
		}
	}
	if strings.Contains(audit, `"actor":"admin"`) {
		t.Errorf("audit says admin: %s", audit)
	}
}

// Users made on the command line while the server runs go through its
// API (the data directory is locked), and can sign in at once.
func TestAccountCommandsAgainstTheServer(t *testing.T) {
	dir := t.TempDir()
	app := startApp(t, dir, testConfig)
	cfgFile := writeFile(t, "server: {addr: '"+app.Addr()+"'}\nadmin_token: "+testToken+"\ndata_dir: "+dir+"\n")
	code, out, errOut := cliRun(t, cliPassword+"\n", "user", "add", "ben", "--role", "manager", "--streams", "wall", "--config", cfgFile)
	if code != exitOK || !strings.Contains(errOut, "asking it through its API") || out != "user ben added: manager on wall\n" {
		t.Fatalf("user add: exit %d %q %q", code, out, errOut)
	}
	code, out, _ = cliRun(t, "", "key", "create", "ci", "--role", "viewer", "--config", cfgFile)
	key := strings.TrimSpace(out)
	if code != exitOK || !strings.HasPrefix(key, "chorus_ci_") {
		t.Fatalf("key create: exit %d %q", code, out)
	}
	// The key works at once, and a key (not only the admin token) can run
	// the commands when its role allows.
	if code, body := call(t, app, http.MethodGet, "/api/v1/streams/wall/queue", key); code != http.StatusOK {
		t.Fatalf("new key: %d %s", code, body)
	}
	code, _, errOut = cliRun(t, "", "user", "list", "--server", app.base, "--token", key)
	if code != exitFailed || !strings.Contains(errOut, "needs the owner role") {
		t.Fatalf("user list with a viewer key: exit %d %q", code, errOut)
	}
	code, out, _ = cliRun(t, "", "user", "list", "--server", app.base, "--token", testToken)
	if code != exitOK || !regexp.MustCompile(`(?m)^ben\s+manager\s+wall\s`).MatchString(out) {
		t.Fatalf("user list: exit %d %q", code, out)
	}
	if code, _, errOut := cliRun(t, "", "key", "revoke", "ci", "--config", cfgFile); code != exitOK {
		t.Fatalf("key revoke: %q", errOut)
	}
	if code, _ := call(t, app, http.MethodGet, "/api/v1/streams/wall/queue", key); code != http.StatusUnauthorized {
		t.Fatalf("revoked key: %d", code)
	}
	if code, _, errOut := cliRun(t, "", "user", "remove", "nobody", "--config", cfgFile); code != exitFailed || !strings.Contains(errOut, "no user named") {
		t.Fatalf("remove nobody: exit %d %q", code, errOut)
	}
}

// writeFile writes a config file in a temporary directory.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "chorus.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
