// Package bus owns Chorus's NATS side: it starts the embedded server (or
// connects to a cluster), creates the streams and KV buckets of the design
// idempotently, and names every subject.
package bus

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/post"
)

// Names of the streams and buckets of the design.
const (
	IngestStream  = "CHORUS_INGEST"
	EventsStream  = "CHORUS_EVENTS"
	ConfigBucket  = "chorus_config"
	CursorsBucket = "chorus_cursors"
	// SeenBucket marks the (stream, post) pairs curation must never decide
	// again, however late a copy comes: posts taken down at their source and
	// posts a moderator acted on (curation's decided window covers the rest).
	SeenBucket = "chorus_seen"
	// DisplayBucket holds each curated stream's display checkpoint: the
	// screen state and the events sequence it reflects, so a restart
	// replays only the events after it.
	DisplayBucket = "chorus_display"
	// LeasesBucket says which node runs each piece of work that only one
	// node may run at a time (a polled source, a curation partition), and
	// which nodes are alive. Every key expires LeaseTTL after its last
	// write, so the work of a node that stops renewing falls free.
	LeasesBucket = "chorus_leases"
	// ErasuresBucket holds the authors erased (their keys hashed), whose
	// new posts are refused, on every node.
	ErasuresBucket = "chorus_erasures"
	// RightsBucket holds the open requests for the right to use a post,
	// which curation matches with the authors' consent replies.
	RightsBucket = "chorus_rights"

	// TextsStream holds the fingerprints of recently decided texts, which
	// every curation node reads, so a near-duplicate of a text another
	// node decided is caught whichever node decides it.
	TextsStream = "CHORUS_TEXTS"

	ingestPrefix = "chorus.ingest."
	partPrefix   = "chorus.part."
	eventsPrefix = "chorus.events."
	textsPrefix  = "chorus.texts."
)

// How long and how much of the texts stream is kept: the near-duplicate
// window holds across nodes for up to TextsMaxAge.
const (
	TextsMaxAge   = time.Hour
	textsMaxBytes = 128 << 20
)

// TextsSubject is where the fingerprints of a curated stream's texts go.
func TextsSubject(stream string) string { return textsPrefix + stream }

// StreamOfTexts is the curated stream a texts subject names.
func StreamOfTexts(subject string) string { return strings.TrimPrefix(subject, textsPrefix) }

// Asynchronous publishing: at most maxPending messages wait for their
// acknowledgement at once, shared by every publisher of the process (the
// sources, curation); a publisher finding no room waits for it up to
// publishTimeout, which also bounds the wait for each acknowledgement.
const (
	maxPending     = 16384
	publishTimeout = 10 * time.Second
)

// DedupeWindow is how long JetStream remembers message ids. It is longer than
// any replay a connector or a redelivery makes.
const DedupeWindow = 15 * time.Minute

// IngestSubject is where posts of one network are published by an
// integrator or an older Chorus, without a partition, on the ingest stream
// (CHORUS_INGEST); curation moves them to their partition stream
// (RouteSubjects) before deciding them.
func IngestSubject(network string) string { return ingestPrefix + network }

// IngestPartitions is how many parts the ingest is split into, by author,
// so that each curation node decides every post of the authors of the
// partitions it holds (see curation). Each partition has a stream of its
// own (PartitionStream), which its consumer reads whole: a consumer
// filtering one stream shared by every partition would step over every
// other partition's messages to find its own.
const IngestPartitions = 16

// IngestPartition is the partition of an author's posts.
func IngestPartition(authorKey string) int {
	h := fnv.New64a()
	h.Write([]byte(authorKey))
	// The high bits: curation splits a partition's authors over its cores by
	// the low ones.
	return int((h.Sum64() >> 32) % IngestPartitions)
}

// PartitionStream names partition p's stream: CHORUS_INGEST_P07.
func PartitionStream(p int) string { return fmt.Sprintf("%s_P%02d", IngestStream, p) }

// partitionSubjects matches every subject of partition p's stream.
func partitionSubjects(p int) string { return fmt.Sprintf("%s%02d.*", partPrefix, p) }

// PartitionSubject is where a post of network by an author of partition p
// is published: chorus.part.<pp>.<network>, on partition p's stream.
func PartitionSubject(network string, p int) string {
	return fmt.Sprintf("%s%02d.%s", partPrefix, p, network)
}

// RouteSubjects are where a post goes: its author's partition, or, for a
// deletion at its source (which names no author), every partition, so that
// the takedown is ordered after its post whatever the post's partition.
func RouteSubjects(p *post.Post) []string {
	if p.Deleted {
		out := make([]string, IngestPartitions)
		for i := range out {
			out[i] = PartitionSubject(p.Network, i)
		}
		return out
	}
	return []string{PartitionSubject(p.Network, IngestPartition(p.AuthorKey()))}
}

// IngestStreams names every stream posts are stored on: CHORUS_INGEST
// (posts published without a partition, and every post stored before
// partition streams existed) and the partitions' streams.
func IngestStreams() []string {
	out := []string{IngestStream}
	for p := range IngestPartitions {
		out = append(out, PartitionStream(p))
	}
	return out
}

// IngestStreamOf is the ingest stream an event's IngestStream names: an
// empty name (an event written before partition streams) is CHORUS_INGEST.
func IngestStreamOf(name string) string {
	if name == "" {
		return IngestStream
	}
	return name
}

// NetworkSubjects says which subjects of an ingest stream hold posts of a
// network (every way they were ever published there).
func NetworkSubjects(stream, network string) []string {
	if stream == IngestStream {
		// Without a partition, and partitioned before partition streams
		// (chorus.ingest.<network>.<n>, takedowns on .all).
		return []string{IngestSubject(network), IngestSubject(network) + ".>"}
	}
	p, err := strconv.Atoi(strings.TrimPrefix(stream, IngestStream+"_P"))
	if err != nil {
		return nil
	}
	return []string{PartitionSubject(network, p)}
}

// UnpartitionedSubjects matches posts published without a partition.
const UnpartitionedSubjects = ingestPrefix + "*"

// IngestSubjects matches every subject of CHORUS_INGEST.
const IngestSubjects = ingestPrefix + ">"

// EventSubject is where events of one kind for one curated stream go.
func EventSubject(stream, kind string) string { return eventsPrefix + stream + "." + kind }

// EventSubjects matches every event subject.
const EventSubjects = eventsPrefix + ">"

// Options say how to reach NATS.
type Options struct {
	// URL of an external NATS cluster; empty starts an embedded server.
	URL string
	// Credentials file for the external cluster.
	Credentials string
	// DataDir is where the embedded server stores JetStream data.
	DataDir string
	// Listen lets the embedded server accept clients on host:port.
	Listen string
	// Retention is the age limit of the ingest and events streams.
	Retention time.Duration
	// Replicas for streams and buckets on a cluster (1 when embedded).
	// When the cluster cannot hold that many copies, a stream or bucket is
	// made with as many as it can, with a warning; the next start raises it.
	Replicas int
	// LeaseTTL is how long a key of the leases bucket lives unrenewed.
	LeaseTTL time.Duration
	// Name identifies this process to NATS.
	Name   string
	Logger *slog.Logger
}

// Conn is a live connection to the bus with its streams and buckets ready.
type Conn struct {
	NC      *nats.Conn
	JS      jetstream.JetStream
	Cursors jetstream.KeyValue
	Config  jetstream.KeyValue
	Seen    jetstream.KeyValue
	Display jetstream.KeyValue
	Leases  jetstream.KeyValue

	// LeaseTTL is the leases bucket's time to live.
	LeaseTTL time.Duration
	// Erasures is the chorus_erasures bucket.
	Erasures jetstream.KeyValue
	// Rights is the chorus_rights bucket.
	Rights jetstream.KeyValue

	// Schedules reports whether the events stream can schedule messages
	// (NATS 2.12+), which delayed approvals need.
	Schedules bool

	server *server.Server
	log    *slog.Logger
}

// Open connects (starting the embedded server when no URL is given) and
// makes sure every stream and bucket exists with the right settings.
func Open(ctx context.Context, opts Options) (*Conn, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Replicas < 1 {
		opts.Replicas = 1
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = DefaultLeaseTTL
	}
	c := &Conn{log: opts.Logger, LeaseTTL: opts.LeaseTTL}
	natsOpts := []nats.Option{
		nats.Name(opts.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				c.log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { c.log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted()) }),
	}
	url := opts.URL
	if url == "" {
		ns, err := startEmbedded(opts)
		if err != nil {
			return nil, err
		}
		c.server = ns
		natsOpts = append(natsOpts, nats.InProcessServer(ns))
	} else if opts.Credentials != "" {
		natsOpts = append(natsOpts, nats.UserCredentials(opts.Credentials))
	}
	nc, err := nats.Connect(url, natsOpts...)
	if err != nil {
		c.shutdownServer()
		return nil, fmt.Errorf("bus: connect: %w", err)
	}
	c.NC = nc
	if err := c.setup(ctx, opts); err != nil {
		nc.Close()
		c.shutdownServer()
		return nil, err
	}
	return c, nil
}

func startEmbedded(opts Options) (*server.Server, error) {
	sopts := &server.Options{
		ServerName: "chorus",
		JetStream:  true,
		StoreDir:   filepath.Join(opts.DataDir, "nats"),
		DontListen: opts.Listen == "",
		NoSigs:     true,
		NoLog:      true,
	}
	if opts.Listen != "" {
		host, port, err := net.SplitHostPort(opts.Listen)
		if err != nil {
			return nil, fmt.Errorf("bus: listen %q: %w", opts.Listen, err)
		}
		sopts.Host = host
		if sopts.Port, err = strconv.Atoi(port); err != nil {
			return nil, fmt.Errorf("bus: listen %q: bad port", opts.Listen)
		}
	}
	ns, err := server.NewServer(sopts)
	if err != nil {
		return nil, fmt.Errorf("bus: embedded server: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("bus: embedded server did not start within 30s (is another chorus using the same data directory?)")
	}
	return ns, nil
}

func (c *Conn) setup(ctx context.Context, opts Options) error {
	js, err := jetstream.New(c.NC, jetstream.WithPublishAsyncTimeout(publishTimeout), jetstream.WithPublishAsyncMaxPending(maxPending))
	if err != nil {
		return fmt.Errorf("bus: jetstream: %w", err)
	}
	c.JS = js
	ingest := func(name, description, subjects string) jetstream.StreamConfig {
		return jetstream.StreamConfig{
			Name:        name,
			Description: description,
			Subjects:    []string{subjects},
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			MaxAge:      opts.Retention,
			Duplicates:  DedupeWindow,
			Replicas:    opts.Replicas,
		}
	}
	streams := []jetstream.StreamConfig{
		ingest(IngestStream, "Normalized posts published without a partition (and every post stored before partition streams)", IngestSubjects),
		{
			Name:        EventsStream,
			Description: "Curation decisions and moderator actions: the source of truth",
			Subjects:    []string{EventSubjects},
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			MaxAge:      opts.Retention,
			Duplicates:  DedupeWindow,
			Replicas:    opts.Replicas,
		},
		{
			Name:        TextsStream,
			Description: "Fingerprints of recently decided texts, shared by the curation nodes",
			Subjects:    []string{textsPrefix + ">"},
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			MaxAge:      TextsMaxAge,
			MaxBytes:    textsMaxBytes,
			Discard:     jetstream.DiscardOld,
			Replicas:    opts.Replicas,
		},
	}
	for p := range IngestPartitions {
		streams = append(streams, ingest(PartitionStream(p), fmt.Sprintf("Normalized posts of ingest partition %d (by author)", p), partitionSubjects(p)))
	}
	streams[1].AllowMsgSchedules = true
	for _, cfg := range streams {
		err := c.withReplicas(ctx, opts.Replicas, "stream "+cfg.Name, func(r int) error {
			cfg.Replicas = r
			if s, err := js.Stream(ctx, cfg.Name); err == nil && sameWhereSet(s.CachedInfo().Config, cfg) {
				// Unchanged: no update, which would race in the server
				// with another node creating consumers on the stream.
				c.Schedules = c.Schedules || cfg.AllowMsgSchedules
				return nil
			}
			_, err := js.CreateOrUpdateStream(ctx, cfg)
			if err != nil && cfg.AllowMsgSchedules && !tooFewServers(err) {
				// An older NATS cannot schedule: run without delayed approvals.
				c.log.Warn("NATS cannot schedule messages (needs 2.12+): stream delays are disabled", "err", err)
				cfg.AllowMsgSchedules = false
				_, err = js.CreateOrUpdateStream(ctx, cfg)
			} else if err == nil && cfg.AllowMsgSchedules {
				c.Schedules = true
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("bus: stream %s: %w", cfg.Name, err)
		}
	}
	buckets := []struct {
		kv  *jetstream.KeyValue
		cfg jetstream.KeyValueConfig
	}{
		{&c.Config, jetstream.KeyValueConfig{Bucket: ConfigBucket, Description: "Curated streams, sources, rules", History: 5}},
		{&c.Cursors, jetstream.KeyValueConfig{Bucket: CursorsBucket, Description: "Connector cursors"}},
		{&c.Seen, jetstream.KeyValueConfig{Bucket: SeenBucket, Description: "Posts each stream must never decide again: taken down, or acted on by a moderator", TTL: opts.Retention}},
		{&c.Display, jetstream.KeyValueConfig{Bucket: DisplayBucket, Description: "Display checkpoints: each stream's screen state and its events sequence"}},
		// A key left unrenewed for LeaseTTL is removed with a delete
		// marker, which every node watching the bucket sees at once.
		{&c.Leases, jetstream.KeyValueConfig{Bucket: LeasesBucket, Description: "Which node runs each source and curation partition; live nodes",
			TTL: opts.LeaseTTL, LimitMarkerTTL: leaseMarkerTTL}},
		{&c.Erasures, jetstream.KeyValueConfig{Bucket: ErasuresBucket, Description: "Authors erased, keys hashed: their posts are refused"}},
		{&c.Rights, jetstream.KeyValueConfig{Bucket: RightsBucket, Description: "Open requests for the right to use a post, waiting for the author's consent"}},
	}
	for _, b := range buckets {
		b.cfg.Storage = jetstream.FileStorage
		err := c.withReplicas(ctx, opts.Replicas, "bucket "+b.cfg.Bucket, func(r int) error {
			b.cfg.Replicas = r
			if kv, err := js.KeyValue(ctx, b.cfg.Bucket); err == nil {
				if st, err := kv.Status(ctx); err == nil {
					if st, ok := st.(*jetstream.KeyValueBucketStatus); ok && sameWhereSet(st.Config(), b.cfg) {
						*b.kv = kv
						return nil
					}
				}
			}
			kv, err := js.CreateOrUpdateKeyValue(ctx, b.cfg)
			*b.kv = kv
			return err
		})
		if errors.Is(err, jetstream.ErrLimitMarkerTTLNotSupported) {
			err = fmt.Errorf("%w: the leases need NATS 2.11 or newer (per-key time to live)", err)
		}
		if err != nil {
			return fmt.Errorf("bus: bucket %s: %w", b.cfg.Bucket, err)
		}
	}
	c.checkCluster(ctx, opts.Replicas)
	return nil
}

// sameWhereSet reports whether a stream's or bucket's config as the server
// has it (have) matches want in every field want sets: the server fills
// the others with its defaults and its own metadata. Open updates only
// what differs, since every node opens the bus at its start.
func sameWhereSet[T any](have, want T) bool {
	h, w := reflect.ValueOf(have), reflect.ValueOf(want)
	for i := range w.NumField() {
		f := w.Field(i)
		if w.Type().Field(i).IsExported() && !f.IsZero() && !reflect.DeepEqual(f.Interface(), h.Field(i).Interface()) {
			return false
		}
	}
	return true
}

// LastEventSeq is the events stream's last sequence: how far the truth goes.
func (c *Conn) LastEventSeq(ctx context.Context) (uint64, error) {
	s, err := c.JS.Stream(ctx, EventsStream)
	if err != nil {
		return 0, fmt.Errorf("bus: events stream: %w", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("bus: events stream info: %w", err)
	}
	return info.State.LastSeq, nil
}

// Close drains the connection (finishing in-flight publishes) and stops the
// embedded server. It is safe to call twice and gives up when ctx ends.
func (c *Conn) Close(ctx context.Context) error {
	var err error
	if c.NC != nil && !c.NC.IsClosed() {
		done := make(chan struct{})
		c.NC.SetClosedHandler(func(*nats.Conn) { close(done) })
		if derr := c.NC.Drain(); derr != nil {
			c.NC.Close()
		} else {
			select {
			case <-done:
			case <-ctx.Done():
				c.NC.Close()
				err = fmt.Errorf("bus: drain: %w", ctx.Err())
			}
		}
	}
	c.shutdownServer()
	return err
}

func (c *Conn) shutdownServer() {
	if c.server != nil {
		c.server.Shutdown()
		c.server.WaitForShutdown()
		c.server = nil
	}
}
