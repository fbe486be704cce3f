package config

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/chorus-wall/chorus/post"
)

// The roles a process can take in a cluster. A process has every role
// unless the config (roles:) or the command line (--roles) narrows them.
const (
	// RoleConnectors runs the polled sources this node holds a lease on.
	RoleConnectors = "connectors"
	// RoleCuration decides posts: the curation partitions this node holds.
	RoleCuration = "curation"
	// RoleIndex keeps the node's own search index.
	RoleIndex = "index"
	// RoleDisplay serves screens: walls, widgets, overlays, feeds and cards.
	RoleDisplay = "display"
	// RoleAPI serves the admin API, the console and sign-in.
	RoleAPI = "api"
)

// AllRoles lists every role, in the order the docs give them.
var AllRoles = []string{RoleConnectors, RoleCuration, RoleIndex, RoleDisplay, RoleAPI}

// Roles are what one process does in a cluster.
type Roles []string

// Has reports whether role is among r.
func (r Roles) Has(role string) bool { return slices.Contains(r, role) }

// String lists the roles, comma-separated.
func (r Roles) String() string { return strings.Join(r, ",") }

// ParseRoles reads a comma-separated list ("display,api"), as the
// --roles flag and CHORUS_ROLES give it. Blanks are dropped; what is left is
// checked by Validate.
func ParseRoles(s string) Roles {
	var r Roles
	for _, one := range strings.Split(s, ",") {
		if one = strings.TrimSpace(one); one != "" {
			r = append(r, strings.ToLower(one))
		}
	}
	return r
}

// Defaults of the cluster settings.
const (
	// DefaultLeaseTTL is how long a node holds a source or a curation
	// partition without renewing it: the longest a dead node's work waits.
	DefaultLeaseTTL = 15 * time.Second
	MinLeaseTTL     = 3 * time.Second
	MaxLeaseTTL     = 5 * time.Minute
	// MaxReplicas is the most copies JetStream keeps of a stream.
	MaxReplicas = 5
)

// defaultNode names this process when the config does not: the host name
// and the HTTP port, which tells apart several processes on one machine and
// stays the same across restarts. A port picked at random (0) gets a random
// name.
func defaultNode(addr string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "chorus"
	}
	if i := strings.IndexByte(host, '.'); i > 0 {
		host = host[:i]
	}
	port := portOf(addr)
	if _, p, err := net.SplitHostPort(addr); err == nil && p == "0" {
		b := make([]byte, 3)
		_, _ = rand.Read(b)
		port = hex.EncodeToString(b)
	}
	return NodeName(host + "-" + port)
}

// NodeName turns s into a valid node name: lowercase letters, digits, '-'
// and '_', at most 64 of them.
func NodeName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
		if b.Len() == 64 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

func (c *Config) applyClusterDefaults() {
	if c.Node == "" || c.nodeDefaulted {
		c.Node = defaultNode(c.Server.Addr)
		c.nodeDefaulted = true
	}
	if c.Roles == nil {
		c.Roles = slices.Clone(AllRoles)
	}
	if c.NATS.Replicas == 0 {
		c.NATS.Replicas = 1
	}
	if c.NATS.LeaseTTL == 0 {
		c.NATS.LeaseTTL = DefaultLeaseTTL
	}
}

// validateCluster checks node, roles, nats.replicas and nats.lease_ttl.
func (c *Config) validateCluster(bad func(key, format string, args ...any)) {
	if !post.IsToken(c.Node) {
		bad("node", "%q must be 1-64 of a-z, 0-9, '-' and '_'", c.Node)
	}
	if len(c.Roles) == 0 {
		bad("roles", "is empty; give at least one of %s", strings.Join(AllRoles, ", "))
	}
	seen := map[string]bool{}
	for i, r := range c.Roles {
		switch {
		case !slices.Contains(AllRoles, r):
			bad(fmt.Sprintf("roles[%d]", i), "%q is not a role; the roles are %s", r, strings.Join(AllRoles, ", "))
		case seen[r]:
			bad(fmt.Sprintf("roles[%d]", i), "%q is listed twice", r)
		}
		seen[r] = true
	}
	if seen[RoleAPI] && !seen[RoleIndex] {
		bad("roles", "api needs index on the same node: the queue, search and audit read this node's index; add index")
	}
	if c.NATS.Replicas < 1 || c.NATS.Replicas > MaxReplicas {
		bad("nats.replicas", "%d must be between 1 and %d", c.NATS.Replicas, MaxReplicas)
	} else if c.NATS.Replicas > 1 && c.NATS.URL == "" {
		bad("nats.replicas", "%d needs a NATS cluster (nats.url): the embedded server keeps one copy", c.NATS.Replicas)
	}
	if c.NATS.LeaseTTL < MinLeaseTTL || c.NATS.LeaseTTL > MaxLeaseTTL {
		bad("nats.lease_ttl", "%s must be between %s and %s", c.NATS.LeaseTTL, MinLeaseTTL, MaxLeaseTTL)
	}
}

// HostPort is server.addr with a host a neighbour can dial: the machine's
// name for an address that listens on every interface.
func (c *Config) HostPort() string {
	host, port, err := net.SplitHostPort(c.Server.Addr)
	if err != nil {
		return c.Server.Addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		if host, err = os.Hostname(); err != nil {
			host = "localhost"
		}
	}
	return net.JoinHostPort(host, port)
}
