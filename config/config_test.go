package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bytes"
)

// Each file in testdata/bad is one error case; the error must name the key,
// and a file with several problems reports every one of them.
func TestLoadRejects(t *testing.T) {
	want := map[string][]string{
		"unknown-top-key.yaml":          {"listen (line 3): unknown key"},
		"unknown-nested-key.yaml":       {"server.adr (line 2): unknown key"},
		"unknown-stream-key.yaml":       {"streams[0].moderaton (line 7): unknown key"},
		"bad-addr.yaml":                 {"server.addr: \"8080\" is not host:port"},
		"bad-moderation.yaml":           {"streams[0].moderation: \"sometimes\" must be auto or manual"},
		"bad-stream-id.yaml":            {"streams[0].id: \"Main Stream\" must be"},
		"unknown-source-ref.yaml":       {"streams[0].sources[0]: no source has id \"nowhere\""},
		"duplicate-source.yaml":         {"sources[1].id: \"a\" is used by another source"},
		"bad-origin.yaml":               {"streams[0].allowed_origins[0]"},
		"bad-duration.yaml":             {"nats.retention (line 2): \"forever\" is not a duration like \"30s\""},
		"duration-not-a-duration.yaml":  {"streams[0].delay (line 3): \"soon\" is not a duration like \"30s\" or \"5m\""},
		"duration-bare-number.yaml":     {"streams[0].delay (line 3): 15 has no unit; write \"15s\" for seconds or \"15m\" for minutes"},
		"duration-bare-number-std.yaml": {"nats.retention (line 2): 720 has no unit"},
		"bad-type.yaml":                 {"streams[0].display_limit (line 3): \"many\" is not a whole number"},
		"missing-env.yaml":              {"admin_token (line 1): environment variable CHORUS_TEST_SURELY_UNSET is not set"},
		"list-for-mapping.yaml":         {"server (line 2): expected a mapping, got a list"},
		"bad-media-size.yaml":           {"media.max_image_mb: 500 must be between 1 and 100"},
		"bad-viewer-token.yaml":         {"streams[0].viewer_token: \"yes\" must be \"required\" or left out"},
		"bad-nats-url.yaml":             {"nats.url"},
		"source-without-type.yaml":      {"sources[0].type: is required"},
		"bad-yaml.yaml":                 {"yaml:"},
		"oidc-no-roles.yaml":            {"auth.oidc.roles: is empty"},
		"oidc-bad-role.yaml":            {"auth.oidc.roles[0].role: \"admin\" must be viewer, moderator, manager or owner"},
		"oidc-http-issuer.yaml":         {"auth.oidc.issuer: \"http://id.brand.example\" must be https"},
		"oidc-redirect-path.yaml":       {"auth.oidc.redirect_url: \"https://wall.brand.example/callback\" must end in /api/v1/oidc/callback"},
		"session-max-age.yaml":          {"auth.session_max_age: 1h0m0s is shorter than auth.session_idle"},
		"bad-log-format.yaml":           {`log_format: "xml" must be text or json`},
		"display-limit-over-wall.yaml":  {"streams[0].display_limit: 500 must be between 1 and 200 (the most a wall shows)"},
		"bad-metrics-listen.yaml":       {`metrics.listen: "9090" is not host:port`},
		"bad-roles.yaml":                {`roles[1]: "search" is not a role; the roles are connectors, curation, index, display, api`, `roles[2]: "display" is listed twice`},
		"no-roles.yaml":                 {"roles: is empty; give at least one of connectors, curation, index, display, api"},
		"api-without-index.yaml":        {"roles: api needs index on the same node"},
		"replicas-embedded.yaml":        {"nats.replicas: 3 needs a NATS cluster (nats.url)"},
		"bad-replicas.yaml":             {"nats.replicas: 7 must be between 1 and 5", "nats.lease_ttl: 1s must be between 3s and 5m0s"},
		"bad-node.yaml":                 {`node: "Chorus A" must be 1-64 of a-z, 0-9, '-' and '_'`},
		"bad-trusted-proxy.yaml":        {`server.trusted_proxies[1]: "10.0.0.300/24" is not a CIDR (for example 10.0.0.0/8) or an IP address`},
		"bad-limits.yaml": {
			"limits.webhook.per_second: -1 must be above 0",
			`limits.admin.burst (line 3): "0.5" is not a whole number`,
			"limits.admin_body_bytes: 100 must be between 1024 and 67108864",
		},
		"many-problems.yaml": {
			"7 problems:",
			"server.adr (line 2): unknown key",
			"nats.retention (line 4): 30 has no unit",
			"streams[0].display_limit (line 11): \"many\" is not a whole number",
			"streams[0].delay (line 12): \"soon\" is not a duration",
			"streams[0].filters.spam.duplicate_window (line 14): 600 has no unit",
			"streams[0].sources[1]: no source has id \"nowhere\"",
			"streams[0].moderation: \"sometimes\" must be auto or manual",
		},
	}
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			substrs, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			_, err := Load(f)
			if err == nil {
				t.Fatal("loaded without error")
			}
			for _, substr := range substrs {
				if !strings.Contains(err.Error(), substr) {
					t.Errorf("error %q does not contain %q", err, substr)
				}
			}
			if !strings.Contains(err.Error(), f) {
				t.Errorf("error %q does not name the file", err)
			}
			if strings.Contains(err.Error(), "time.Duration") {
				t.Errorf("error %q shows Go's internals", err)
			}
		})
	}
	if len(files) != len(want) {
		t.Errorf("%d files, %d expectations", len(files), len(want))
	}
}

// Durations carry a unit everywhere, in YAML and JSON alike; zero needs none.
func TestDurations(t *testing.T) {
	cfg, err := Parse([]byte("nats: {retention: 48h}\nstreams: [{id: s, delay: 1m30s}, {id: t, delay: 0}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NATS.Retention != 48*time.Hour || cfg.Streams[0].Delay.D() != 90*time.Second || cfg.Streams[1].Delay != 0 {
		t.Fatalf("decoded %s %s %s", cfg.NATS.Retention, cfg.Streams[0].Delay, cfg.Streams[1].Delay)
	}
	for _, tt := range []struct {
		json string
		want time.Duration
		err  string
	}{
		{json: `"20s"`, want: 20 * time.Second},
		{json: `0`, want: 0},
		{json: `"0"`, want: 0},
		{json: `15`, err: `15 has no unit`},
		{json: `"15"`, err: `15 has no unit`},
		{json: `"soon"`, err: `"soon" is not a duration`},
		{json: `true`, err: `must be a duration`},
	} {
		var d Duration
		err := json.Unmarshal([]byte(tt.json), &d)
		if tt.err == "" && (err != nil || d.D() != tt.want) || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: got %s, %v; want %s, %q", tt.json, d, err, tt.want, tt.err)
		}
	}
}

func TestExampleLoads(t *testing.T) {
	t.Setenv("CHORUS_WEBHOOK_SECRET", "an-example-secret-of-enough-length")
	cfg, err := Load("chorus.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Streams) == 0 || len(cfg.Sources) == 0 {
		t.Fatalf("example declares nothing: %+v", cfg)
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Addr != ":8080" || cfg.Server.PublicURL != "http://localhost:8080" || cfg.DataDir != "data" ||
		cfg.NATS.Retention != DefaultRetention || cfg.LogLevel != "info" {
		t.Fatalf("defaults: %+v", cfg)
	}
	cfg, err = Parse([]byte("server: {addr: '127.0.0.1:9999'}\nstreams: [{id: s}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Streams[0]
	if cfg.Server.PublicURL != "http://localhost:9999" || s.Moderation != ModerationAuto || s.Title != "s" || s.DisplayLimit != DefaultDisplayLimit {
		t.Fatalf("defaults: %+v %+v", cfg.Server, s)
	}
	cfg.SetAddr("127.0.0.1:7070")
	if cfg.Server.PublicURL != "http://localhost:7070" {
		t.Fatalf("public url did not follow --addr: %s", cfg.Server.PublicURL)
	}
	explicit, err := Parse([]byte("server: {public_url: 'https://wall.example'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	explicit.SetAddr(":9090")
	if explicit.Server.PublicURL != "https://wall.example" {
		t.Fatalf("explicit public url changed: %s", explicit.Server.PublicURL)
	}
}

func TestAuthDefaults(t *testing.T) {
	cfg, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth.SessionIdle != DefaultSessionIdle || cfg.Auth.SessionMaxAge != DefaultSessionMaxAge || cfg.Auth.OIDC != nil {
		t.Fatalf("auth defaults: %+v", cfg.Auth)
	}
	cfg, err = Parse([]byte(`
auth:
  oidc:
    issuer: http://127.0.0.1:5556/dex
    client_id: chorus
    client_secret: a-client-secret
    scopes: [email, groups]
    roles:
      - {claim: groups, value: mods, role: moderator, streams: [summit]}
`))
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Auth.OIDC
	if o.Label != "Single sign-on" || o.UsernameClaim != "email" || strings.Join(o.Scopes, " ") != "openid email groups" || o.RedirectURL != "" {
		t.Fatalf("oidc defaults: %+v", o)
	}
}

func TestEnvironment(t *testing.T) {
	t.Setenv("CHORUS_TEST_TOKEN", "from-env-123")
	t.Setenv("CHORUS_DATA_DIR", "/tmp/chorus-env")
	cfg, err := Parse([]byte("admin_token: ${CHORUS_TEST_TOKEN}\nlog_level: ${CHORUS_TEST_UNSET_LEVEL:-warn}\nserver: {public_url: 'https://wall.example/'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AdminToken.Reveal() != "from-env-123" || cfg.LogLevel != "warn" || cfg.DataDir != "/tmp/chorus-env" {
		t.Fatalf("env not applied: token set %v, level %q, data %q", cfg.AdminToken.IsSet(), cfg.LogLevel, cfg.DataDir)
	}
	if cfg.Server.PublicURL != "https://wall.example" {
		t.Fatalf("public url %q", cfg.Server.PublicURL)
	}
	// A value from the environment is never parsed as YAML.
	t.Setenv("CHORUS_TEST_TITLE", "{evil: [yaml]}")
	cfg, err = Parse([]byte("streams: [{id: s, title: '${CHORUS_TEST_TITLE}'}]\n"))
	if err != nil || cfg.Streams[0].Title != "{evil: [yaml]}" {
		t.Fatalf("title %q, err %v", cfg.Streams[0].Title, err)
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	const token = "super-secret-token-value"
	cfg, err := Parse([]byte("admin_token: " + token + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "cfg", cfg, "token", cfg.AdminToken)
	js, _ := json.Marshal(cfg)
	for name, out := range map[string]string{
		"%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg), "%#v": fmt.Sprintf("%#v", cfg),
		"%s": fmt.Sprintf("%s", cfg.AdminToken), "json": string(js), "slog": logs.String(),
	} {
		if strings.Contains(out, token) {
			t.Errorf("%s prints the secret: %s", name, out)
		}
	}
	if cfg.AdminToken.Reveal() != token {
		t.Fatal("Reveal lost the value")
	}
}

func TestSourceDecode(t *testing.T) {
	type settings struct {
		SourceBase `yaml:",inline"`
		Rate       float64       `yaml:"rate"`
		Every      time.Duration `yaml:"every"`
	}
	cfg, err := Parse([]byte("sources:\n  - id: a\n    type: t\n    rate: 2\n    every: 3s\n  - id: b\n    type: t\n    rat: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	var s settings
	if err := cfg.Sources[0].Decode(&s); err != nil {
		t.Fatal(err)
	}
	if s.ID != "a" || s.Rate != 2 || s.Every != 3*time.Second {
		t.Fatalf("decoded %+v", s)
	}
	err = cfg.Sources[1].Decode(&settings{})
	if err == nil || !strings.Contains(err.Error(), "sources[1].rat (line 8): unknown key") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Fatalf("err = %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// A process takes every role unless told otherwise, is named after its
// host and port (following --addr), and keeps one copy of everything.
func TestClusterDefaults(t *testing.T) {
	cfg, err := Parse([]byte("server: {addr: '127.0.0.1:9999'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if want := NodeName(strings.SplitN(host, ".", 2)[0] + "-9999"); cfg.Node != want {
		t.Fatalf("node %q, want %q", cfg.Node, want)
	}
	if cfg.Roles.String() != "connectors,curation,index,display,api" || cfg.NATS.Replicas != 1 || cfg.NATS.LeaseTTL != DefaultLeaseTTL {
		t.Fatalf("defaults: roles %v, replicas %d, lease %s", cfg.Roles, cfg.NATS.Replicas, cfg.NATS.LeaseTTL)
	}
	cfg.SetAddr(":7070")
	if !strings.HasSuffix(cfg.Node, "-7070") {
		t.Fatalf("node did not follow --addr: %s", cfg.Node)
	}
	named, err := Parse([]byte("node: wall-1\nroles: [display]\nnats: {url: 'nats://a:4222', replicas: 3, lease_ttl: 5s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	named.SetAddr(":7070")
	if named.Node != "wall-1" || !named.Roles.Has(RoleDisplay) || named.Roles.Has(RoleAPI) || named.NATS.Replicas != 3 || named.NATS.LeaseTTL != 5*time.Second {
		t.Fatalf("explicit: %q %v %+v", named.Node, named.Roles, named.NATS)
	}
	t.Setenv("CHORUS_ROLES", " Display , curation,")
	t.Setenv("CHORUS_NODE", "wall-2")
	env, err := Parse([]byte("roles: [api, index]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if env.Roles.String() != "display,curation" || env.Node != "wall-2" {
		t.Fatalf("environment: %v %q", env.Roles, env.Node)
	}
	if got := NodeName("Wall.Host_1:8080"); got != "wall-host_1-8080" {
		t.Fatalf("NodeName: %q", got)
	}
}

// TestProxyNets: CIDRs and single addresses (v4 and v6) are accepted; a
// single address trusts that address only.
func TestProxyNets(t *testing.T) {
	s := Server{TrustedProxies: []string{"10.0.0.0/8", " 192.0.2.7 ", "fd00::/8", "2001:db8::1"}}
	nets, err := s.ProxyNets()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range nets {
		got = append(got, n.String())
	}
	if want := "10.0.0.0/8 192.0.2.7/32 fd00::/8 2001:db8::1/128"; strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
	if nets[1].Contains(net.ParseIP("192.0.2.8")) || !nets[1].Contains(net.ParseIP("192.0.2.7")) {
		t.Error("a single address trusts more or less than itself")
	}
	if nets, err := (Server{}).ProxyNets(); err != nil || len(nets) != 0 {
		t.Errorf("no proxies: %v, %v", nets, err)
	}
}
