// Package config loads Chorus's one YAML file, applies environment overrides,
// rejects unknown keys and validates, with errors that name the key.
package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/chorus-wall/chorus/post"
)

// Config is the whole configuration of one Chorus process.
type Config struct {
	Server  Server `yaml:"server"`
	DataDir string `yaml:"data_dir"`
	// Node names this process in a cluster (leases, the sources list).
	Node string `yaml:"node"`
	// Roles are what this process does; every role by default.
	Roles      Roles    `yaml:"roles"`
	NATS       NATS     `yaml:"nats"`
	Media      Media    `yaml:"media"`
	AdminToken Secret   `yaml:"admin_token"`
	Auth       Auth     `yaml:"auth"`
	LogLevel   string   `yaml:"log_level"`
	LogFormat  string   `yaml:"log_format"`
	Metrics    Metrics  `yaml:"metrics"`
	Limits     Limits   `yaml:"limits"`
	Privacy    Privacy  `yaml:"privacy"`
	Sources    []Source `yaml:"sources"`
	Streams    []Stream `yaml:"streams"`

	// File is the path the configuration was read from; empty when Chorus
	// runs without one. Only a file declares streams authoritatively: a
	// stream that leaves the file is deleted, while a start without a file
	// deletes nothing.
	File string `yaml:"-"`

	// publicURLDefaulted is true when public_url was derived from addr.
	publicURLDefaulted bool
	// nodeDefaulted is true when node was derived from addr.
	nodeDefaulted bool
}

// Server is the HTTP side.
type Server struct {
	// Addr is the listen address, host:port.
	Addr string `yaml:"addr"`
	// PublicURL is how browsers reach this server; it names the same origin
	// for websocket checks and absolute links.
	PublicURL string `yaml:"public_url"`
	// TrustedProxies lists the reverse proxies (CIDRs, or single IP
	// addresses) whose X-Forwarded-For and X-Real-IP headers name the
	// client. Empty: the client is the TCP peer, whatever the headers say.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// ProxyNets parses TrustedProxies; a single address is a network of one.
// The error names the first entry that is neither a CIDR nor an address.
func (s Server) ProxyNets() ([]*net.IPNet, error) {
	nets := make([]*net.IPNet, 0, len(s.TrustedProxies))
	for i, entry := range s.TrustedProxies {
		n, err := parseNet(entry)
		if err != nil {
			return nil, fmt.Errorf("server.trusted_proxies[%d]: %w", i, err)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

func parseNet(entry string) (*net.IPNet, error) {
	entry = strings.TrimSpace(entry)
	if _, n, err := net.ParseCIDR(entry); err == nil {
		return n, nil
	}
	if ip := net.ParseIP(entry); ip != nil {
		bits := 128
		if ip4 := ip.To4(); ip4 != nil {
			ip, bits = ip4, 32
		}
		return &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}, nil
	}
	return nil, fmt.Errorf("%q is not a CIDR (for example 10.0.0.0/8) or an IP address", entry)
}

// Metrics says where Prometheus reads /metrics.
type Metrics struct {
	// Listen, when set, serves /metrics without a token on this host:port
	// (a private address for the scraper). The main address serves it only
	// with the admin token.
	Listen string `yaml:"listen"`
}

// Limits protect the server from floods and runaway scripts. A call over a
// rate limit is answered 429 with Retry-After.
type Limits struct {
	// Webhook limits the calls to each webhook source.
	Webhook Rate `yaml:"webhook"`
	// Admin limits admin calls per credential, and refused credentials per
	// client address.
	Admin Rate `yaml:"admin"`
	// AdminBodyBytes caps the body of an admin call (413 above it).
	AdminBodyBytes int64 `yaml:"admin_body_bytes"`
}

// Rate is a token bucket: PerSecond calls on average, Burst at once
// (default: twice PerSecond).
type Rate struct {
	PerSecond float64 `yaml:"per_second"`
	Burst     int     `yaml:"burst"`
}

// withDefaults fills what r leaves out from def.
func (r Rate) withDefaults(def Rate) Rate {
	if r.PerSecond == 0 {
		r.PerSecond = def.PerSecond
	}
	if r.Burst == 0 {
		r.Burst = max(1, int(math.Ceil(2*r.PerSecond)))
	}
	return r
}

// NATS says where the bus is.
type NATS struct {
	// URL of an existing NATS cluster; empty starts an embedded server.
	URL string `yaml:"url"`
	// Credentials is a .creds file for an external cluster.
	Credentials string `yaml:"credentials"`
	// Listen, when set, lets the embedded server accept NATS clients on this
	// host:port (for integrators and the nats CLI); empty keeps it in-process.
	Listen string `yaml:"listen"`
	// Retention is how long ingested posts and events are kept.
	Retention time.Duration `yaml:"retention"`
	// Replicas is how many copies JetStream keeps of every stream and
	// bucket: 1 embedded, 3 recommended on a cluster.
	Replicas int `yaml:"replicas"`
	// LeaseTTL is how long a node keeps a source or a curation partition
	// without renewing its lease: how soon another node takes over from one
	// that died.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
}

// Media tunes the media proxy, through which pages load every remote image.
type Media struct {
	// CacheMB bounds the image cache under <data_dir>/media, in MiB.
	CacheMB int `yaml:"cache_mb"`
	// MaxImageMB is the largest image the proxy fetches, in MiB.
	MaxImageMB int `yaml:"max_image_mb"`
	// FreshFor is how long a cached image is served before it is fetched
	// again (a failed fetch keeps serving the cached copy).
	FreshFor time.Duration `yaml:"fresh_for"`
}

// Moderation is how a stream treats posts that pass its filters.
type Moderation string

// The moderation modes.
const (
	ModerationAuto   Moderation = "auto"
	ModerationManual Moderation = "manual"
)

// Stream is one curated stream: what feeds it and how it is curated and shown.
type Stream struct {
	ID             string     `yaml:"id" json:"id"`
	Title          string     `yaml:"title" json:"title"`
	Sources        []string   `yaml:"sources" json:"sources"`
	Moderation     Moderation `yaml:"moderation" json:"moderation"`
	BlockedWords   []string   `yaml:"blocked_words" json:"blocked_words"`
	AllowedOrigins []string   `yaml:"allowed_origins" json:"allowed_origins"`
	// Unlisted streams are left off the home page and GET /api/v1/streams;
	// whoever knows the id can still show them.
	Unlisted bool `yaml:"unlisted" json:"unlisted,omitempty"`
	// ViewerToken "required" makes the stream private: its screens, posts,
	// cards and feeds need ?token= with a viewer token the server signed.
	ViewerToken string `yaml:"viewer_token" json:"viewer_token,omitempty"`
	// DisplayLimit is how many posts screens keep.
	DisplayLimit int `yaml:"display_limit" json:"display_limit"`
	// Delay holds approved posts back from screens this long, so a
	// moderator can still pull them.
	Delay   Duration `yaml:"delay" json:"delay"`
	Filters Filters  `yaml:"filters" json:"filters"`
	Rules   []Rule   `yaml:"rules" json:"rules"`
	// Retention is how long the stream keeps its posts, by status.
	Retention Retention `yaml:"retention" json:"retention"`
	// Rights is whether posts need their authors' consent before they go
	// on the stream's public surfaces.
	Rights Rights `yaml:"rights" json:"rights"`
}

// Source is one configured source. Its type's own settings stay in the raw
// node; the connector decodes them with Decode.
type Source struct {
	ID   string
	Type string
	node *yaml.Node
	path string
}

// UnmarshalYAML keeps the node so the connector can decode its settings.
func (s *Source) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind != yaml.MappingNode {
		// A type error, so the decode goes on to report the file's other problems.
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: a source must be a mapping with id and type", node.Line)}}
	}
	s.node = node
	for i := 0; i+1 < len(node.Content); i += 2 {
		switch node.Content[i].Value {
		case "id":
			s.ID = node.Content[i+1].Value
		case "type":
			s.Type = node.Content[i+1].Value
		}
	}
	return nil
}

// Path is where the source stands in the config, for error messages.
func (s Source) Path() string { return s.path }

// Decode decodes the source's settings into v strictly. v's struct should
// carry ID and Type fields tagged `yaml:"id"` and `yaml:"type"` (embed
// SourceBase), and errors name keys as sources[i].key.
func (s Source) Decode(v any) error {
	if s.node == nil {
		return nil
	}
	return Decode(s.node, v, s.path)
}

// SourceBase holds the keys every source has; embed it with `yaml:",inline"`.
type SourceBase struct {
	ID   string `yaml:"id"`
	Type string `yaml:"type"`
}

// Defaults used when the file leaves a key out.
const (
	DefaultAddr         = ":8080"
	DefaultDataDir      = "data"
	DefaultRetention    = 30 * 24 * time.Hour
	DefaultDisplayLimit = 60
	DefaultMediaCacheMB = 1024
	DefaultMaxImageMB   = 10
	DefaultMediaFresh   = 24 * time.Hour
	// MaxDisplayLimit is the most posts a screen shows; the kiosk wall
	// renders at most this many cards (MAX_POSTS in static/web/assets/posts.js).
	MaxDisplayLimit = 200
	// DefaultAdminBodyBytes caps admin call bodies, as the webhook's
	// max_body_bytes does for pushes.
	DefaultAdminBodyBytes = 1 << 20
)

// Default rate limits.
var (
	DefaultWebhookRate = Rate{PerSecond: 50, Burst: 100}
	DefaultAdminRate   = Rate{PerSecond: 20, Burst: 40}
)

// Environment variables that override the file.
var envOverrides = map[string]func(*Config, string){
	"CHORUS_ADDR":        func(c *Config, v string) { c.Server.Addr = v },
	"CHORUS_PUBLIC_URL":  func(c *Config, v string) { c.Server.PublicURL = v },
	"CHORUS_DATA_DIR":    func(c *Config, v string) { c.DataDir = v },
	"CHORUS_NATS_URL":    func(c *Config, v string) { c.NATS.URL = v },
	"CHORUS_ADMIN_TOKEN": func(c *Config, v string) { c.AdminToken = Secret(v) },
	"CHORUS_LOG_LEVEL":   func(c *Config, v string) { c.LogLevel = v },
	"CHORUS_LOG_FORMAT":  func(c *Config, v string) { c.LogFormat = v },
	"CHORUS_NODE":        func(c *Config, v string) { c.Node = v },
	"CHORUS_ROLES":       func(c *Config, v string) { c.Roles = ParseRoles(v) },
}

// Load reads the file at path (empty: no file), applies environment
// overrides and defaults, and validates, reporting every problem at once.
func Load(path string) (*Config, error) {
	return LoadWith(path, LoadOptions{})
}

// LoadOptions add the caller's own settings and checks to Load, so that
// every problem with a start is reported in one go.
type LoadOptions struct {
	// Adjust changes the config after defaults and before validation (the
	// command line's flags).
	Adjust func(*Config)
	// Check returns problems only the caller can see, such as each
	// source's own settings; they are reported with the file's.
	Check func(*Config) error
}

// LoadWith is Load with the caller's adjustments and checks.
func LoadWith(path string, opts LoadOptions) (*Config, error) {
	var data []byte
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	}
	cfg, err := parse(data, opts)
	if err != nil {
		if path != "" {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg.File = path
	return cfg, nil
}

// Parse decodes YAML, applies environment overrides and defaults, and
// validates, reporting every problem at once.
func Parse(data []byte) (*Config, error) {
	return parse(data, LoadOptions{})
}

func parse(data []byte, opts LoadOptions) (*Config, error) {
	cfg := &Config{}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err // bad YAML syntax: nothing more can be read
	}
	var errs []error
	if len(root.Content) > 0 {
		errs = unwrapJoin(Decode(&root, cfg, ""))
	}
	for i := range cfg.Sources {
		cfg.Sources[i].path = fmt.Sprintf("sources[%d]", i)
	}
	for name, set := range envOverrides {
		if v, ok := os.LookupEnv(name); ok && v != "" {
			set(cfg, v)
		}
	}
	cfg.applyDefaults()
	if opts.Adjust != nil {
		opts.Adjust(cfg)
	}
	// A key whose value could not be read is reported once, by the decode.
	errs = appendNew(errs, unwrapJoin(cfg.Validate())...)
	if opts.Check != nil {
		errs = appendNew(errs, unwrapJoin(opts.Check(cfg))...)
	}
	if len(errs) > 0 {
		return nil, Errors(errs)
	}
	return cfg, nil
}

// Errors are every problem found in a config, one per line.
type Errors []error

func (e Errors) Error() string {
	if len(e) == 1 {
		return e[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems:", len(e))
	for _, err := range e {
		b.WriteString("\n  ")
		b.WriteString(strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	return b.String()
}

// Unwrap gives errors.Is and errors.As each problem.
func (e Errors) Unwrap() []error { return e }

func (c *Config) applyDefaults() {
	if c.Server.Addr == "" {
		c.Server.Addr = DefaultAddr
	}
	if c.Server.PublicURL == "" || c.publicURLDefaulted {
		c.Server.PublicURL = "http://localhost:" + portOf(c.Server.Addr)
		c.publicURLDefaulted = true
	}
	c.Server.PublicURL = strings.TrimRight(c.Server.PublicURL, "/")
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.NATS.Retention == 0 {
		c.NATS.Retention = DefaultRetention
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.Media.CacheMB == 0 {
		c.Media.CacheMB = DefaultMediaCacheMB
	}
	if c.Media.MaxImageMB == 0 {
		c.Media.MaxImageMB = DefaultMaxImageMB
	}
	if c.Media.FreshFor == 0 {
		c.Media.FreshFor = DefaultMediaFresh
	}
	c.Auth.applyDefaults()
	c.applyClusterDefaults()
	if c.LogFormat == "" {
		c.LogFormat = "text"
	}
	c.Limits.Webhook = c.Limits.Webhook.withDefaults(DefaultWebhookRate)
	c.Limits.Admin = c.Limits.Admin.withDefaults(DefaultAdminRate)
	if c.Limits.AdminBodyBytes == 0 {
		c.Limits.AdminBodyBytes = DefaultAdminBodyBytes
	}
	if c.Privacy.SweepInterval == 0 {
		c.Privacy.SweepInterval = DefaultSweepInterval
	}
	for i := range c.Streams {
		s := &c.Streams[i]
		if s.Moderation == "" {
			s.Moderation = ModerationAuto
		}
		if s.Title == "" {
			s.Title = s.ID
		}
		if s.DisplayLimit == 0 {
			s.DisplayLimit = DefaultDisplayLimit
		}
	}
}

// SetAddr changes the listen address (the --addr flag); a public URL that
// was derived from the old address follows it.
func (c *Config) SetAddr(addr string) {
	c.Server.Addr = addr
	if c.publicURLDefaulted {
		c.Server.PublicURL = "http://localhost:" + portOf(addr)
	}
	if c.nodeDefaulted {
		c.Node = defaultNode(addr)
	}
}

// ServerURL is where a command on this machine reaches the server:
// public_url when the file sets it, else http://<server.addr>, with
// localhost for an address that listens on every interface.
func (c *Config) ServerURL() string {
	if !c.publicURLDefaulted {
		return c.Server.PublicURL
	}
	host, port, err := net.SplitHostPort(c.Server.Addr)
	if err != nil {
		return c.Server.PublicURL
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func portOf(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "0" || port == "" {
		return "8080"
	}
	return port
}

// Validate checks every value and names each bad key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	if _, _, err := net.SplitHostPort(c.Server.Addr); err != nil {
		bad("server.addr", "%q is not host:port (for example \":8080\")", c.Server.Addr)
	}
	if u, err := url.Parse(c.Server.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("server.public_url", "%q is not an http(s) URL", c.Server.PublicURL)
	}
	if _, err := c.Server.ProxyNets(); err != nil {
		errs = append(errs, err)
	}
	if c.NATS.URL != "" {
		for _, one := range strings.Split(c.NATS.URL, ",") {
			u, err := url.Parse(strings.TrimSpace(one))
			if err != nil || u.Host == "" || !oneOf(u.Scheme, "nats", "tls", "ws", "wss") {
				bad("nats.url", "%q is not a nats:// URL", one)
			}
		}
	}
	if c.NATS.Listen != "" {
		if c.NATS.URL != "" {
			bad("nats.listen", "only applies to the embedded server; remove it or nats.url")
		} else if _, _, err := net.SplitHostPort(c.NATS.Listen); err != nil {
			bad("nats.listen", "%q is not host:port", c.NATS.Listen)
		}
	}
	if c.NATS.Retention < time.Hour {
		bad("nats.retention", "%s is too short; keep at least 1h", c.NATS.Retention)
	}
	c.validateCluster(bad)
	if c.Media.CacheMB < 16 {
		bad("media.cache_mb", "%d is too small; keep at least 16", c.Media.CacheMB)
	}
	if c.Media.MaxImageMB < 1 || c.Media.MaxImageMB > 100 {
		bad("media.max_image_mb", "%d must be between 1 and 100", c.Media.MaxImageMB)
	} else if c.Media.MaxImageMB > c.Media.CacheMB {
		bad("media.max_image_mb", "%d is larger than media.cache_mb (%d)", c.Media.MaxImageMB, c.Media.CacheMB)
	}
	if c.Media.FreshFor < time.Minute {
		bad("media.fresh_for", "%s is too short; keep at least 1m", c.Media.FreshFor)
	}
	if !oneOf(c.LogLevel, "debug", "info", "warn", "error") {
		bad("log_level", "%q must be debug, info, warn or error", c.LogLevel)
	}
	c.Auth.validate(bad)
	if !oneOf(c.LogFormat, "text", "json") {
		bad("log_format", "%q must be text or json", c.LogFormat)
	}
	if c.Metrics.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Metrics.Listen); err != nil {
			bad("metrics.listen", "%q is not host:port (for example \"127.0.0.1:9090\")", c.Metrics.Listen)
		}
	}
	for _, l := range []struct {
		key string
		r   Rate
	}{{"limits.webhook", c.Limits.Webhook}, {"limits.admin", c.Limits.Admin}} {
		key, r := l.key, l.r
		if r.PerSecond <= 0 || r.PerSecond > 1e6 {
			bad(key+".per_second", "%g must be above 0 and at most 1000000", r.PerSecond)
		}
		if r.Burst < 1 || r.Burst > 1e6 {
			bad(key+".burst", "%d must be between 1 and 1000000", r.Burst)
		}
	}
	if c.Privacy.SweepInterval < time.Second || c.Privacy.SweepInterval > 24*time.Hour {
		bad("privacy.sweep_interval", "%s must be between 1s and 24h", c.Privacy.SweepInterval)
	}
	if c.Limits.AdminBodyBytes < 1024 || c.Limits.AdminBodyBytes > 64<<20 {
		bad("limits.admin_body_bytes", "%d must be between 1024 and 67108864", c.Limits.AdminBodyBytes)
	}
	sources := map[string]bool{}
	for i, s := range c.Sources {
		key := fmt.Sprintf("sources[%d]", i)
		switch {
		case !post.IsToken(s.ID):
			bad(key+".id", "%q must be 1-64 of a-z, 0-9, '-' and '_'", s.ID)
		case sources[s.ID]:
			bad(key+".id", "%q is used by another source", s.ID)
		}
		sources[s.ID] = true
		if s.Type == "" {
			bad(key+".type", "is required")
		}
	}
	streams := map[string]bool{}
	for i, s := range c.Streams {
		key := fmt.Sprintf("streams[%d]", i)
		switch {
		case !post.IsToken(s.ID):
			bad(key+".id", "%q must be 1-64 of a-z, 0-9, '-' and '_'", s.ID)
		case streams[s.ID]:
			bad(key+".id", "%q is used by another stream", s.ID)
		}
		streams[s.ID] = true
		for j, src := range s.Sources {
			if !sources[src] {
				bad(fmt.Sprintf("%s.sources[%d]", key, j), "no source has id %q", src)
			}
		}
		if s.Moderation != ModerationAuto && s.Moderation != ModerationManual {
			bad(key+".moderation", "%q must be auto or manual", s.Moderation)
		}
		for j, w := range s.BlockedWords {
			if strings.TrimSpace(w) == "" {
				bad(fmt.Sprintf("%s.blocked_words[%d]", key, j), "is empty")
			}
		}
		for j, o := range s.AllowedOrigins {
			if err := checkOrigin(o); err != nil {
				bad(fmt.Sprintf("%s.allowed_origins[%d]", key, j), "%v", err)
			}
		}
		if s.ViewerToken != "" && s.ViewerToken != "required" {
			bad(key+".viewer_token", "%q must be \"required\" or left out", s.ViewerToken)
		}
		if s.DisplayLimit < 1 || s.DisplayLimit > MaxDisplayLimit {
			bad(key+".display_limit", "%d must be between 1 and %d (the most a wall shows)", s.DisplayLimit, MaxDisplayLimit)
		}
		errs = append(errs, s.validateCuration(key)...)
		errs = append(errs, s.validatePrivacy(key)...)
	}
	return errors.Join(errs...)
}

// checkOrigin accepts "*" or scheme://host[:port] with nothing after it.
func checkOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q must be \"*\" or an origin like https://www.example.com", o)
	}
	return nil
}

func oneOf(s string, options ...string) bool {
	for _, o := range options {
		if s == o {
			return true
		}
	}
	return false
}

// Stream returns the stream with id, if any.
func (c *Config) Stream(id string) (Stream, bool) {
	for _, s := range c.Streams {
		if s.ID == id {
			return s, true
		}
	}
	return Stream{}, false
}

// NewSource returns a source with no settings of its own beyond id and type,
// as if declared in the file at path (for error messages).
func NewSource(id, typ, path string) Source {
	return Source{ID: id, Type: typ, path: path}
}
