// Package deploy holds what runs Chorus in production (docs/deploy.md): the
// systemd unit, the Kubernetes manifests and, at the repository's root, the
// Dockerfile. These tests check them against the code: the config they
// carry loads, every role is deployed with probes on /healthz and /readyz,
// nothing runs as root, and the binary the Dockerfile builds is static.
package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/chorus-wall/chorus/config"
)

// manifest is the part of a Kubernetes object the tests read.
type manifest struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Template struct {
			Spec struct {
				SecurityContext struct {
					RunAsNonRoot bool `yaml:"runAsNonRoot"`
					RunAsUser    int  `yaml:"runAsUser"`
				} `yaml:"securityContext"`
				Containers []struct {
					Image string   `yaml:"image"`
					Args  []string `yaml:"args"`
					Env   []struct {
						Name  string `yaml:"name"`
						Value string `yaml:"value"`
					} `yaml:"env"`
					ReadinessProbe *probe `yaml:"readinessProbe"`
					LivenessProbe  *probe `yaml:"livenessProbe"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

func readManifests(t *testing.T) []manifest {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	var out []manifest
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var m manifest
			err := dec.Decode(&m)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out = append(out, m)
		}
	}
	return out
}

// Every role runs in its own Deployment, as a user that is not root, with
// the readiness probe on /readyz and the liveness probe on /healthz, and the
// shared config loads with each Deployment's roles.
func TestKubernetesManifests(t *testing.T) {
	manifests := readManifests(t)
	var cfg string
	for _, m := range manifests {
		if m.Kind == "ConfigMap" && m.Metadata.Name == "chorus-config" {
			cfg = m.Data["chorus.yaml"]
		}
	}
	if cfg == "" {
		t.Fatal("no chorus-config ConfigMap with chorus.yaml")
	}
	cfgPath := filepath.Join(t.TempDir(), "chorus.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	deployed := map[string]bool{}
	for _, m := range manifests {
		if m.Kind != "Deployment" {
			continue
		}
		pod := m.Spec.Template.Spec
		if !pod.SecurityContext.RunAsNonRoot || pod.SecurityContext.RunAsUser == 0 {
			t.Errorf("%s: runs as root (securityContext %+v)", m.Metadata.Name, pod.SecurityContext)
		}
		if len(pod.Containers) != 1 {
			t.Fatalf("%s: %d containers", m.Metadata.Name, len(pod.Containers))
		}
		c := pod.Containers[0]
		if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
			t.Errorf("%s: readiness probe %+v, want GET /readyz", m.Metadata.Name, c.ReadinessProbe)
		}
		if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
			t.Errorf("%s: liveness probe %+v, want GET /healthz", m.Metadata.Name, c.LivenessProbe)
		}
		if !slices.Equal(c.Args, []string{"serve", "--config", "/etc/chorus/chorus.yaml"}) {
			t.Errorf("%s: args %q", m.Metadata.Name, c.Args)
		}
		roles := ""
		for _, e := range c.Env {
			if e.Name == "CHORUS_ROLES" {
				roles = e.Value
			}
		}
		if roles == "" {
			t.Errorf("%s: no CHORUS_ROLES", m.Metadata.Name)
			continue
		}
		t.Run(m.Metadata.Name, func(t *testing.T) {
			t.Setenv("CHORUS_ROLES", roles)
			t.Setenv("CHORUS_NODE", m.Metadata.Name+"-0")
			t.Setenv("CHORUS_ADMIN_TOKEN", "a-long-admin-token-0123456789")
			t.Setenv("CHORUS_BRAND_HOOK_SECRET", "a-long-webhook-secret-0123456789")
			c, err := config.Load(cfgPath)
			if err != nil {
				t.Fatalf("the ConfigMap's chorus.yaml with roles %s: %v", roles, err)
			}
			if c.NATS.Replicas != 3 || c.NATS.URL == "" {
				t.Errorf("nats: %+v, want a cluster URL and replicas 3", c.NATS)
			}
			for _, r := range c.Roles {
				deployed[r] = true
			}
		})
	}
	for _, r := range []string{config.RoleConnectors, config.RoleCuration, config.RoleIndex, config.RoleDisplay, config.RoleAPI} {
		if !deployed[r] {
			t.Errorf("no Deployment has the %s role", r)
		}
	}
}

// The unit runs chorus serve as its own user, stops it with SIGTERM (its
// work is handed over) and gives it long enough to.
func TestSystemdUnit(t *testing.T) {
	data, err := os.ReadFile("chorus.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := string(data)
	for _, want := range []string{"\nExecStart=/usr/local/bin/chorus serve --config /etc/chorus/chorus.yaml\n",
		"\nUser=chorus\n", "\nKillSignal=SIGTERM\n", "\nTimeoutStopSec=30\n", "\nRestart=on-failure\n", "\nWantedBy=multi-user.target\n"} {
		if !strings.Contains(unit, want) {
			t.Errorf("chorus.service lacks %q", strings.TrimSpace(want))
		}
	}
}

// The Dockerfile builds in one stage and runs in another as a user that is
// not root, with Go at least as new as go.mod asks, and its build command
// (cgo off) builds every package Chorus needs, so the binary is static.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var froms []string
	user := ""
	for _, l := range lines {
		switch f := strings.Fields(l); {
		case len(f) == 0:
		case f[0] == "FROM":
			froms = append(froms, l)
			user = ""
		case f[0] == "USER":
			user = f[1]
		}
	}
	if len(froms) < 2 || !strings.Contains(froms[0], " AS build") {
		t.Fatalf("not a multi-stage build: %q", froms)
	}
	if user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("the final stage runs as %q", user)
	}
	goMod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(goMod)
	image := regexp.MustCompile(`FROM golang:(\d+\.\d+)`).FindStringSubmatch(froms[0])
	if want == nil || image == nil || !versionAtLeast(image[1], string(want[1])) {
		t.Errorf("build stage %q; go.mod asks for go %s", froms[0], want[1])
	}
	if !strings.Contains(string(data), "CGO_ENABLED=0 go build -trimpath") || !strings.Contains(string(data), "./cmd/chorus") {
		t.Fatal("the build command changed; update this test's copy of it")
	}
	// CGO_ENABLED=0 links a static binary when every package builds
	// without cgo: listing them with cgo off finds one that needs it
	// (building the whole binary again would take minutes of CI).
	list := exec.Command("go", "list", "-deps", "-f", "{{if .Incomplete}}{{.ImportPath}}: {{.Error}}{{end}}{{if .CgoFiles}}{{.ImportPath}} uses cgo{{end}}", "./cmd/chorus")
	list.Dir = ".."
	list.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := list.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Fatalf("cmd/chorus without cgo: %v\n%s", err, out)
	}
}

func versionAtLeast(have, want string) bool {
	h := strings.SplitN(have, ".", 2)
	w := strings.SplitN(want, ".", 2)
	if h[0] != w[0] {
		return h[0] > w[0]
	}
	return len(h[1]) > len(w[1]) || len(h[1]) == len(w[1]) && h[1] >= w[1]
}
