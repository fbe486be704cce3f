package display

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/chorus-wall/chorus/bus"
)

// The pacer: a send is due at once after a quiet spell; while its writes
// are under way the next waits for them (at most MaxBatchWindow); once
// they are done the window is twice the time they took, between
// BatchWindow and MaxBatchWindow; a few stragglers do not count.
func TestPacerWindowFollowsWriteTime(t *testing.T) {
	timing := Timing{BatchWindow: 25 * time.Millisecond, MaxBatchWindow: 250 * time.Millisecond}.withDefaults()
	var p pacer
	t0 := time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC)
	if due := p.due(timing); due.After(t0) {
		t.Fatalf("first send due %v, want at once", due)
	}
	done := make(chan *round, 4)
	r := p.begin(t0, 200, func(r *round) { done <- r })
	if got := p.due(timing); !got.Equal(t0.Add(timing.MaxBatchWindow)) {
		t.Fatalf("while writing: due %v, want %v", got.Sub(t0), timing.MaxBatchWindow)
	}
	// 200 clients and the sender: 197 clients and the sender done leave
	// 2 stragglers of 200, more than 1%.
	r.release()
	for range 197 {
		r.release()
	}
	select {
	case <-done:
		t.Fatal("done with 3 of 200 clients still writing")
	default:
	}
	r.release() // 2 left: 1%
	if got := <-done; got != r {
		t.Fatal("done for another round")
	}
	r.release()
	r.release() // stragglers finishing run nothing more
	if !p.finish(r, t0.Add(40*time.Millisecond), timing) {
		t.Fatal("finish of the last send refused")
	}
	if got := p.due(timing); !got.Equal(t0.Add(80 * time.Millisecond)) {
		t.Fatalf("after writes of 40 ms: due %v after the send, want 80ms", got.Sub(t0))
	}
	select {
	case <-done:
		t.Fatal("done ran twice")
	default:
	}

	// Slow writes: the window stops at MaxBatchWindow; fast ones: at
	// BatchWindow.
	t1 := t0.Add(time.Second)
	slow := p.begin(t1, 1, func(*round) {})
	p.finish(slow, t1.Add(time.Second), timing)
	if p.window != timing.MaxBatchWindow {
		t.Fatalf("window after 1 s of writes: %v", p.window)
	}
	t2 := t1.Add(2 * time.Second)
	fast := p.begin(t2, 1, func(*round) {})
	p.finish(fast, t2.Add(time.Millisecond), timing)
	if p.window != timing.BatchWindow {
		t.Fatalf("window after 1 ms of writes: %v", p.window)
	}
	// A send finishing after a newer one began sets nothing.
	if p.finish(slow, t2.Add(3*time.Second), timing) || p.window != timing.BatchWindow {
		t.Fatalf("an older send set the window: %v", p.window)
	}
}

// The window is never below BatchWindow, and MaxBatchWindow defaults to
// four of them (100 ms, keeping the 100 ms latency goal within reach) and
// is never below one.
func TestTimingMaxBatchWindowDefaults(t *testing.T) {
	if got := (Timing{}).withDefaults().MaxBatchWindow; got != 100*time.Millisecond {
		t.Fatalf("default MaxBatchWindow %v", got)
	}
	got := Timing{BatchWindow: time.Second, MaxBatchWindow: time.Millisecond}.withDefaults()
	if got.MaxBatchWindow != time.Second {
		t.Fatalf("MaxBatchWindow %v below BatchWindow %v", got.MaxBatchWindow, got.BatchWindow)
	}
}

// Many screens, old and batching, get every add of a long run of batches,
// in order, none dropped, while the streams pace their sends; every write
// is counted in the written stage.
func TestPacedSendsDeliverEveryAddInOrder(t *testing.T) {
	f := newFixture(t)
	var conns []*websocket.Conn
	for i := range 24 {
		path := "/ws/streams/wall?batch=1"
		if i%4 == 0 {
			path = "/ws/streams/wall"
		}
		c, _, err := f.dial(t, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		readFrame(t, c)
		conns = append(conns, c)
	}
	waitUntil(t, "every client registered", func() bool { return f.hub.Screens("wall") == len(conns) })
	first := f.seq + 1
	const batches, per = 40, 20
	errs := make(chan error, len(conns))
	for _, c := range conns {
		go func() {
			want := first
			for want < first+batches*per {
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				_, data, err := c.ReadMessage()
				if err != nil {
					errs <- err
					return
				}
				for _, m := range decodeFrame(data) {
					if m.Type != TypeAdd || m.Seq != want {
						errs <- &orderError{got: m.Seq, want: want, kind: m.Type}
						return
					}
					want++
				}
			}
			errs <- nil
		}()
	}
	for b := range batches {
		f.approvals("wall", fmt.Sprintf("b%d-", b), per)
	}
	for range conns {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := testutilCount(f.hub, dropSlow); got != 0 {
		t.Fatalf("%v clients dropped as slow", got)
	}
	for _, stage := range []string{stageGathered, stageWritten} {
		var m dto.Metric
		if err := f.hub.delay.WithLabelValues(stage).(prometheus.Histogram).Write(&m); err != nil {
			t.Fatal(err)
		}
		if m.GetHistogram().GetSampleCount() == 0 {
			t.Fatalf("no %s delay recorded", stage)
		}
	}
}

// decodeFrame returns the messages of a frame, one or an array; nil when
// it is not JSON.
func decodeFrame(data []byte) []msg {
	var ms []msg
	if len(data) > 0 && data[0] == '[' {
		if json.Unmarshal(data, &ms) != nil {
			return nil
		}
		return ms
	}
	var m msg
	if json.Unmarshal(data, &m) != nil {
		return nil
	}
	return []msg{m}
}

type orderError struct {
	got, want uint64
	kind      string
}

func (e *orderError) Error() string {
	return fmt.Sprintf("got %s seq %d, want add seq %d", e.kind, e.got, e.want)
}

// A screen resuming while messages are gathered takes them with the others
// at the next send, after its backlog, instead of forcing a send to every
// screen; a new screen still sends them first, and starts after them.
func TestResumeTakesGatheredMessagesWithTheNextSend(t *testing.T) {
	f := newLoadingFixture(t, Timing{BatchWindow: time.Hour})
	f.hub.markReady(0)
	c, _, err := f.dial(t, "/ws/streams/wall?batch=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	readFrame(t, c)
	first := f.event("wall", bus.EventApprove, "first") // after a quiet window: at once
	readFrame(t, c)
	// Within the hour-long window: all three wait; the resuming screen
	// saw "first" only.
	gathered := []uint64{f.event("wall", bus.EventApprove, "a"), f.event("wall", bus.EventApprove, "b"),
		f.event("wall", bus.EventApprove, "c")}
	resumed, _, err := f.dial(t, fmt.Sprintf("/ws/streams/wall?batch=1&since=%d", first), nil)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the resuming screen registered", func() bool { return f.hub.Screens("wall") == 2 })
	st := f.hub.state("wall")
	st.mu.Lock()
	waiting := len(st.outbox)
	st.mu.Unlock()
	if waiting != 3 {
		t.Fatalf("%d messages still gathered after the resume, want 3 (the resume forced a send)", waiting)
	}
	// A new screen forces the send: both get the three, in order, in one
	// frame; the newcomer a snapshot holding them.
	late, _, err := f.dial(t, "/ws/streams/wall?batch=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, conn := range map[string]*websocket.Conn{"connected": c, "resumed": resumed} {
		ms, _ := readFrame(t, conn)
		if len(ms) != 3 {
			t.Fatalf("%s: %d messages, want 3", name, len(ms))
		}
		for i, m := range ms {
			if m.Type != TypeAdd || m.Seq != gathered[i] {
				t.Fatalf("%s: message %d: %s seq %d, want add %d", name, i, describeMsg(m), m.Seq, gathered[i])
			}
		}
	}
	if snap, _ := readFrame(t, late); snap[0].Type != TypeSnapshot || snap[0].Seq != f.seq {
		t.Fatalf("newcomer: %s seq %d", snap[0].Type, snap[0].Seq)
	}
}
