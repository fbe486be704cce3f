package bus

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultLeaseTTL is the leases bucket's time to live when Options leave it
// out.
const DefaultLeaseTTL = 15 * time.Second

// leaseMarkerTTL is how long the delete marker of an expired lease stays:
// long enough for every watcher to see it.
const leaseMarkerTTL = time.Minute

// JetStream's answers when a stream asks for more copies than the cluster
// has servers for.
const (
	errCodeNoPeers          jetstream.ErrorCode = 10005 // no suitable peers for placement
	errCodeInsufficient     jetstream.ErrorCode = 10023 // insufficient resources
	errCodeReplicasNotInNon jetstream.ErrorCode = 10074 // replicas > 1 not supported in non-clustered mode
	errCodeNoLeader         jetstream.ErrorCode = 10008 // JetStream system temporarily unavailable
)

// setupPatience bounds how long a start waits for a slow cluster to make
// its streams and buckets.
const setupPatience = time.Minute

// slowAnswer reports whether err is a timeout, or a cluster that has no
// JetStream leader yet: worth asking again.
func slowAnswer(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeNoLeader {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout)
}

// tooFewServers reports whether err says the cluster cannot place that many
// copies of a stream.
func tooFewServers(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode {
	case errCodeNoPeers, errCodeInsufficient, errCodeReplicasNotInNon:
		return true
	}
	return false
}

// withReplicas calls create with want copies and, while the cluster cannot
// place that many, with one fewer, warning about it: Chorus runs with less
// redundancy rather than not at all, and the next start asks for want again.
func (c *Conn) withReplicas(ctx context.Context, want int, what string, create func(replicas int) error) error {
	// A cluster that just started (or is busy) may answer late: asked
	// again, for up to setupPatience, before the start fails.
	deadline := time.Now().Add(setupPatience)
	for r := want; ; r-- {
		err := create(r)
		for err != nil && ctx.Err() == nil && slowAnswer(err) && time.Now().Before(deadline) {
			c.log.Warn("NATS answered late while making a stream or bucket; asking again", "what", what, "err", err)
			time.Sleep(time.Second)
			err = create(r)
		}
		if err == nil {
			if r < want {
				c.log.Warn("the NATS cluster cannot hold nats.replicas copies: made with fewer; add JetStream servers, the next start asks for nats.replicas again",
					"what", what, "replicas", want, "made_with", r)
			}
			return nil
		}
		if r == 1 || !tooFewServers(err) {
			return err
		}
	}
}

// checkCluster warns, at start, when the cluster cannot keep nats.replicas
// copies (too few servers known, copies on servers that are offline), and
// when one copy is asked of a cluster that could keep three.
func (c *Conn) checkCluster(ctx context.Context, replicas int) {
	if c.server != nil {
		return // embedded: one server, one copy
	}
	servers := len(c.NC.Servers())
	if cluster := c.NC.ConnectedClusterName(); cluster != "" && replicas == 1 && servers >= 3 {
		c.log.Warn("nats.replicas is 1 on a NATS cluster: losing one server loses data and stops Chorus until it is back; set nats.replicas: 3",
			"cluster", cluster, "servers", servers)
	}
	if replicas > servers {
		c.log.Warn("nats.replicas is more than the NATS servers this node knows of: the cluster may not hold that many copies",
			"replicas", replicas, "servers", servers)
	}
	for _, name := range append(IngestStreams(), EventsStream, TextsStream) {
		s, err := c.JS.Stream(ctx, name)
		if err != nil {
			continue
		}
		info := s.CachedInfo()
		if info.Cluster == nil {
			continue
		}
		have, offline := 1, 0
		for _, p := range info.Cluster.Replicas {
			have++
			if p.Offline {
				offline++
			}
		}
		if have < replicas || offline > 0 {
			c.log.Warn("a stream has fewer live copies than nats.replicas", "stream", name,
				"replicas", replicas, "copies", have, "offline", offline)
		}
	}
}
