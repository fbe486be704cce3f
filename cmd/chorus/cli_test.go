package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Moderator commands given --config find the server (public_url, else
// server.addr) and the admin token (admin_token, else data_dir's file)
// there, and say when a stream already is as asked.
func TestModeratorCommandsReadTheConfig(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig)
	wall := app.dial(t, "wall", "")
	next(t, wall)

	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tokenDir := filepath.Join(dir, "data")
	if err := os.MkdirAll(tokenDir, 0o700); err != nil {
		t.Fatal(err)
	}
	write("data/admin-token", testToken+"\n")
	byAddr := write("addr.yaml", "server: {addr: '"+app.Addr()+"'}\nadmin_token: "+testToken+"\n")
	byPublicURL := write("public.yaml", "server: {addr: '127.0.0.1:1', public_url: '"+app.base+"/'}\ndata_dir: "+tokenDir+"\n")
	unspecified := strings.Replace(app.Addr(), "127.0.0.1", "0.0.0.0", 1)
	byAnyAddr := write("any.yaml", "server: {addr: '"+unspecified+"'}\ndata_dir: "+tokenDir+"\n")

	cli := func(args ...string) (int, string) {
		t.Helper()
		var out strings.Builder
		code := run(t.Context(), args, &out, &out)
		return code, out.String()
	}
	for _, tt := range []struct {
		args []string
		out  string
		msg  string
	}{
		{[]string{"pause", "wall", "--config", byAddr}, "done", "control pause"},
		{[]string{"pause", "wall", "--config", byPublicURL}, "stream wall is already paused; nothing changed", "control pause"},
		{[]string{"resume", "wall", "-c", byAnyAddr}, "done", "control resume"},
		{[]string{"resume", "wall", "-c", byAddr}, "stream wall is already running; nothing changed", "control resume"},
	} {
		code, out := cli(tt.args...)
		if code != 0 || !strings.Contains(out, tt.out) {
			t.Fatalf("%v: exit %d %q, want %q", tt.args, code, out, tt.out)
		}
		expect(t, wall, tt.msg)
	}
	if !strings.Contains(mustBody(t, app, "/api/v1/streams/wall/posts"), `"paused":false`) {
		t.Fatal("the stream did not end running")
	}

	// The flags still win over the file, and a bad --server is named.
	code, out := cli("pause", "wall", "--config", byAddr, "--server", "http://127.0.0.1:1")
	if code != exitFailed || !strings.Contains(out, "cannot reach http://127.0.0.1:1") {
		t.Fatalf("--server over --config: exit %d %q", code, out)
	}
	code, out = cli("pause", "wall", "--server", "localhost:8080", "--token", testToken)
	if code != exitUsage || !strings.Contains(out, `--server: "localhost:8080" is not an http(s) URL`) {
		t.Fatalf("bad --server: exit %d %q", code, out)
	}
	code, out = cli("pause", "wall", "--config", write("bad.yaml", "server: {adr: x}\n"))
	if code != exitUsage || !strings.Contains(out, "server.adr (line 1): unknown key") {
		t.Fatalf("bad --config: exit %d %q", code, out)
	}
	if code, body := app.admin(t, http.MethodGet, "/api/v1/streams/wall/audit?event=pause"); code != http.StatusOK || strings.Count(body, `"event":"pause"`) != 2 {
		t.Fatalf("audit of both pauses: %d %s", code, body)
	}
}
