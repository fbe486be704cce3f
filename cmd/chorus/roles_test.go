package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Nodes that share one NATS share one admin token: the first node makes it
// (keeping the token its data directory already had), every other node
// accepts it and writes it to its own data directory for the command line.
func TestNodesShareOneAdminToken(t *testing.T) {
	ns := startNATS(t, -1, t.TempDir())
	cfg := strings.Replace(testConfig, "admin_token: "+testToken+"\n", "", 1) + "nats: {url: \"" + ns.ClientURL() + "\"}\n"
	if strings.Contains(cfg, "admin_token") {
		t.Fatal("the test config still sets admin_token")
	}
	// Node a was a single node before: its data directory has its token.
	dirA, dirB := t.TempDir(), t.TempDir()
	const own = "a-token-made-before-the-cluster-0123456789"
	if err := os.WriteFile(filepath.Join(dirA, "admin-token"), []byte(own+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, dirA, cfg)
	b := startApp(t, dirB, cfg)
	call := func(node *testApp, token string) int {
		req := mustReq(http.MethodGet, node.base+"/api/v1/sources")
		req.Header.Set("Authorization", "Bearer "+token)
		code, _ := do(t, req)
		return code
	}
	if code := call(a, own); code != http.StatusOK {
		t.Fatalf("node a refused its own token: %d", code)
	}
	if code := call(b, own); code != http.StatusOK {
		t.Fatalf("node b refused node a's token: %d", code)
	}
	written, err := os.ReadFile(filepath.Join(dirB, "admin-token"))
	if err != nil || strings.TrimSpace(string(written)) != own {
		t.Fatalf("node b's admin-token file: %q %v", written, err)
	}
}

// A node serves what its roles say: a display node serves screens and
// takes webhooks, and refuses the admin API with 421 naming its roles; its
// readiness waits for no search index. Posts pushed to either node reach
// the display node's screens.
func TestRoles(t *testing.T) {
	ns := startNATS(t, -1, t.TempDir())
	cfg := testConfig + "nats: {url: \"" + ns.ClientURL() + "\"}\n"
	full := startApp(t, t.TempDir(), cfg)
	screens := startApp(t, t.TempDir(), cfg+"roles: [display]\n")
	if screens.index != nil {
		t.Fatal("a display node opened a search index")
	}
	code, body := do(t, mustReq(http.MethodGet, screens.base+"/readyz"))
	var ready struct {
		Status string   `json:"status"`
		Roles  []string `json:"roles"`
		Node   string   `json:"node"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &ready) != nil || strings.Join(ready.Roles, ",") != "display" || ready.Node == "" {
		t.Fatalf("display node's readyz: %d %s", code, body)
	}
	code, body = screens.admin(t, http.MethodGet, "/api/v1/sources")
	if code != http.StatusMisdirectedRequest || !strings.Contains(body, "needs the api role") || !strings.Contains(body, "roles are display") {
		t.Fatalf("admin API on a display node: %d %s", code, body)
	}
	wall := screens.dial(t, "wall", "")
	next(t, wall)
	if code, body := full.push(t, `{"id":"1","text":"pushed to the full node"}`); code != http.StatusAccepted {
		t.Fatalf("push to the full node: %d %s", code, body)
	}
	expect(t, wall, "add webhook:1")
	if code, body := screens.push(t, `{"id":"2","text":"pushed to the display node"}`); code != http.StatusAccepted {
		t.Fatalf("push to the display node: %d %s", code, body)
	}
	expect(t, wall, "add webhook:2")

	// The sources list, on the node with the api role, names who runs what.
	code, body = full.admin(t, http.MethodGet, "/api/v1/sources")
	var list struct {
		Sources []struct {
			ID        string `json:"id"`
			Node      string `json:"node"`
			EveryNode bool   `json:"every_node"`
		} `json:"sources"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &list) != nil || len(list.Sources) != 1 ||
		!list.Sources[0].EveryNode || list.Sources[0].Node != full.cfg.Node {
		t.Fatalf("sources: %d %s", code, body)
	}
}

func TestServedBy(t *testing.T) {
	for _, tt := range []struct {
		method, path, want string
	}{
		{"GET", "/healthz", ""},
		{"GET", "/readyz", ""},
		{"GET", "/metrics", ""},
		{"GET", "/", ""},
		{"GET", "/assets/wall.js", ""},
		{"GET", "/media/sig/url", ""},
		{"POST", "/api/v1/ingest/hook", ""},
		{"GET", "/api/v1/streams", ""},
		{"GET", "/api/v1/streams/wall", ""},
		{"GET", "/wall/wall", "display"},
		{"GET", "/ws/streams/wall", "display"},
		{"GET", "/feeds/wall.atom", "display,api"},
		{"GET", "/embed.js", "display"},
		{"GET", "/overlay/wall", "display"},
		{"GET", "/api/v1/streams/wall/posts", "display,api"},
		{"OPTIONS", "/api/v1/streams/wall/posts", "display,api"},
		{"GET", "/api/v1/streams/wall/cards.html", "display,api"},
		{"GET", "/api/v1/streams/wall/profiles/default", "display,api"},
		{"PUT", "/api/v1/streams/wall/profiles/default", "api"},
		{"GET", "/api/v1/streams/wall/profiles", "api"},
		{"GET", "/api/v1/streams/wall/queue", "api"},
		{"POST", "/api/v1/streams/wall/pause", "api"},
		{"GET", "/api/v1/sources", "api"},
		{"POST", "/api/v1/session", "api"},
		{"GET", "/login", "api"},
		{"GET", "/console", "api"},
		{"GET", "/ws/console", "api"},
		{"GET", "/debug/pprof/heap", "api"},
	} {
		if got := strings.Join(servedBy(tt.method, tt.path), ","); got != tt.want {
			t.Errorf("%s %s: served by %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

// --roles overrides the file and is checked like it: a role that does not
// exist stops the start with exit 2, naming it.
func TestRolesFlag(t *testing.T) {
	var out strings.Builder
	code := run(t.Context(), []string{"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--roles", "display,search"}, &out, &out)
	if code != exitUsage || !strings.Contains(out.String(), `roles[1]: "search" is not a role`) {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	out.Reset()
	code = run(t.Context(), []string{"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--roles", "api"}, &out, &out)
	if code != exitUsage || !strings.Contains(out.String(), "roles: api needs index on the same node") {
		t.Fatalf("exit %d: %s", code, out.String())
	}
}
