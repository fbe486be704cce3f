package curation

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/bus/bustest"
	"github.com/chorus-wall/chorus/post"
)

// A data directory from before partition streams: every partition read
// CHORUS_INGEST through its consumer curation-pNN, filtered on
// chorus.ingest.<network>.<n> and the takedowns on chorus.ingest.<network>.all.
// Its consumers may hold messages decided and acknowledged, delivered and
// not acknowledged (some with their decisions stored: a crash between the
// two), and not delivered yet. After the upgrade each is decided exactly
// once (the acknowledged ones never again), the old consumers are deleted,
// and new posts on the partition streams are decided too.
func TestUpgradeDrainsTheConsumersOfBeforePartitionStreams(t *testing.T) {
	conn := bustest.Open(t)
	ctx := t.Context()
	legacy := make([]jetstream.Consumer, bus.IngestPartitions)
	for p, id := range PartitionIDs() {
		cons, err := conn.JS.CreateOrUpdateConsumer(ctx, bus.IngestStream, jetstream.ConsumerConfig{
			Durable: ConsumerName(id), AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
			// The old consumers waited 30 s before delivering again; a
			// second keeps the test short.
			AckWait:        time.Second,
			FilterSubjects: []string{"chorus.ingest.*." + strconv.Itoa(p), "chorus.ingest.*.all"},
		})
		if err != nil {
			t.Fatal(err)
		}
		legacy[p] = cons
	}
	oldPost := func(i int) post.Post {
		return post.Post{ID: fmt.Sprintf("webhook:old%d", i), Network: "webhook", Source: "hook",
			Text: fmt.Sprintf("stored before the upgrade, number %d", i), Author: post.Author{Handle: fmt.Sprintf("fan%d", i)}}
	}
	publishOld := func(p post.Post, subject, id string) {
		t.Helper()
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.PublishAll(ctx, []*nats.Msg{bus.PostMsg(subject, id, data)}); err != nil {
			t.Fatal(err)
		}
	}
	old := func(from, to int) {
		for i := from; i < to; i++ {
			p := oldPost(i)
			publishOld(p, "chorus.ingest.webhook."+strconv.Itoa(bus.IngestPartition(p.AuthorKey())), p.ID)
		}
	}
	const takenDown = 15
	old(0, 20)
	publishOld(post.Takedown("webhook", oldPost(takenDown).ID, "hook", time.Now()), "chorus.ingest.webhook.all", oldPost(takenDown).ID+"#deleted")

	// The old curation decided 0 to 9 and acknowledged them, took 10 to 19
	// and the takedown and stopped before acknowledging; 12's decisions
	// were stored.
	for p, cons := range legacy {
		batch, err := cons.FetchNoWait(100)
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			po, err := bus.DecodePost(m.Data())
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if _, err := fmt.Sscanf(po.ID, "webhook:old%d", &n); err == nil && n < 10 && !po.Deleted {
				if err := m.DoubleAck(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		if batch.Error() != nil {
			t.Fatalf("partition %d: %v", p, batch.Error())
		}
	}
	for _, e := range []bus.Event{
		{Kind: bus.EventApprove, Stream: "wall", PostID: oldPost(12).ID, Actor: bus.ActorCuration, At: time.Now()},
		{Kind: bus.EventHold, Stream: "vip", PostID: oldPost(12).ID, Actor: bus.ActorCuration, At: time.Now()},
	} {
		p := oldPost(12)
		e.Post = &p
		msg, err := e.Msg("decide." + SeenKey(e.Stream, e.PostID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.PublishAll(ctx, []*nats.Msg{msg}); err != nil {
			t.Fatal(err)
		}
	}
	// Stored after the old curation stopped: never delivered.
	old(20, 40)
	// And the new version's own posts.
	var fresh []post.Post
	for i := range 10 {
		fresh = append(fresh, post.Post{ID: fmt.Sprintf("webhook:new%d", i), Network: "webhook", Source: "hook",
			Text: fmt.Sprintf("stored after the upgrade, number %d", i), Author: post.Author{Handle: fmt.Sprintf("fan%d", i)}})
	}
	if _, err := conn.PublishPosts(ctx, fresh); err != nil {
		t.Fatal(err)
	}

	startCurator(t, conn)
	waitFor(t, "every message decided and the old consumers gone", func() bool { return curated(ctx, conn) })
	// An older node still running (a cluster upgraded one node at a time)
	// publishes the old way: routed to the partition's stream and decided.
	old(40, 45)
	waitFor(t, "the older node's posts decided", func() bool { return curated(ctx, conn) })
	got := kindsByPost(t, conn)
	want := map[string]string{}
	for i := 10; i < 45; i++ {
		want["wall/"+oldPost(i).ID], want["vip/"+oldPost(i).ID] = "approve", "hold"
	}
	want["wall/"+oldPost(takenDown).ID], want["vip/"+oldPost(takenDown).ID] = "approve,remove", "hold,remove"
	for _, p := range fresh {
		want["wall/"+p.ID], want["vip/"+p.ID] = "approve", "hold"
	}
	for key, kinds := range want {
		// The takedown, read by every partition, may be handled before its
		// post's partition decides it: then it is only removed.
		if got[key] != kinds && (got[key] != "remove" || key[len(key)-len(oldPost(takenDown).ID):] != oldPost(takenDown).ID) {
			t.Errorf("%s: events %q, want %q", key, got[key], kinds)
		}
	}
	for key, kinds := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("%s: events %q, want none (decided before the upgrade)", key, kinds)
		}
	}
	for _, id := range PartitionIDs() {
		if _, err := conn.JS.Consumer(ctx, bus.IngestStream, ConsumerName(id)); err == nil {
			t.Errorf("the old consumer %s is still there", ConsumerName(id))
		}
	}
}
