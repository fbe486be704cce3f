package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

// publishEvents writes events onto the events stream as curation and
// moderators do, and returns the last seq. It is how tests put thousands of
// decided posts in place quickly.
func (a *testApp) publishEvents(t *testing.T, events []bus.Event) uint64 {
	t.Helper()
	var last uint64
	for chunk := range slices.Chunk(events, 1000) {
		msgs := make([]*nats.Msg, len(chunk))
		for i, e := range chunk {
			if e.Actor == "" {
				e.Actor = bus.ActorCuration
			}
			e.At = time.Now().UTC()
			m, err := e.Msg("")
			if err != nil {
				t.Fatal(err)
			}
			msgs[i] = m
		}
		acks, err := a.conn.PublishAll(t.Context(), msgs)
		if err != nil {
			t.Fatal(err)
		}
		last = acks[len(acks)-1].Sequence
	}
	return last
}

func approvals(stream, prefix string, n int) []bus.Event {
	out := make([]bus.Event, n)
	for i := range out {
		id := fmt.Sprintf("webhook:%s%d", prefix, i)
		out[i] = bus.Event{Kind: bus.EventApprove, Stream: stream, PostID: id,
			Post: &post.Post{ID: id, Network: "webhook", Text: "post " + id, Lang: "en"}}
	}
	return out
}

// snapshotOf is the parsed snapshot API answer.
type snapshotOf struct {
	Seq    uint64   `json:"seq"`
	Paused bool     `json:"paused"`
	Pins   []string `json:"pins"`
	Posts  []struct {
		ID     string `json:"id"`
		Pinned bool   `json:"pinned"`
	} `json:"posts"`
}

func (s snapshotOf) ids() []string {
	var out []string
	for _, p := range s.Posts {
		out = append(out, p.ID)
	}
	return out
}

func getSnapshot(t *testing.T, base, stream string) (int, http.Header, snapshotOf, string) {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/streams/" + stream + "/posts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	var s snapshotOf
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, resp.Header, s, string(raw)
}

// startAppLoading starts Chorus without waiting for it to be ready, so a
// test can act while the display is still loading.
func startAppLoading(t *testing.T, dir, yaml string) *testApp {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = dir
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	app, err := NewApp(cfg, sourceTypes(), log)
	if err != nil {
		t.Fatal(err)
	}
	app.enricher = sharedEnricher(t)
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	ta := &testApp{App: app, base: "http://" + app.Addr(), dir: dir}
	t.Cleanup(func() { ta.stop(t) })
	return ta
}

// forgetCheckpoints deletes every display checkpoint of a stopped Chorus,
// as if it had been killed before writing any: the next start must
// rebuild the state from the events stream alone.
func forgetCheckpoints(t *testing.T, dir string) {
	t.Helper()
	conn, err := bus.Open(t.Context(), bus.Options{DataDir: dir, Retention: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn.Close(ctx)
	}()
	keys, err := conn.Display.ListKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for k := range keys.Keys() {
		if err := conn.Display.Purge(t.Context(), k); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no checkpoint to forget: the stop wrote none")
	}
}

// watchScreen connects a screen that reads everything, as a browser does
// (answering pings), and comes back with the same since after a 1013. The
// channel ends when the screen is closed otherwise.
func watchScreen(t *testing.T, a *testApp, stream, since string) <-chan json.RawMessage {
	t.Helper()
	url := "ws" + strings.TrimPrefix(a.base, "http") + "/ws/streams/" + stream
	if since != "" {
		url += "?since=" + since
	}
	out := make(chan json.RawMessage, 1000)
	go func() {
		defer close(out)
		for {
			c, _, err := websocket.DefaultDialer.DialContext(t.Context(), url, nil)
			if err != nil {
				return
			}
			for {
				_, data, err := c.ReadMessage()
				if err != nil {
					c.Close()
					if websocket.IsCloseError(err, websocket.CloseTryAgainLater) {
						break
					}
					return
				}
				out <- data
			}
		}
	}()
	return out
}

// recv returns the screen's next message, failing after 60 s.
func recv(t *testing.T, screen <-chan json.RawMessage) json.RawMessage {
	t.Helper()
	select {
	case m, ok := <-screen:
		if !ok {
			t.Fatal("the screen was disconnected")
		}
		return m
	case <-time.After(60 * time.Second):
		t.Fatal("no message on the screen within 60 s")
	}
	return nil
}

func (s snapshotOf) check(t *testing.T, what string, atLeast uint64, removed string) {
	t.Helper()
	if s.Seq < atLeast || !s.Paused || slices.Contains(s.ids(), removed) || len(s.Posts) != config.DefaultDisplayLimit {
		t.Fatalf("%s: seq %d (screens had %d), paused %v, %d posts, removed post shown: %v",
			what, s.Seq, atLeast, s.Paused, len(s.Posts), slices.Contains(s.ids(), removed))
	}
}

// Issue 7, item 1: 10,000 posts, one removed, the stream paused, a restart.
// Screens that connect while the display loads are held; none ever gets a
// state older than what screens showed before (seq 0, unpaused, the removed
// post back), nor the replay as live messages; the snapshot API answers 503
// until the state is loaded.
func TestRestartNeverShowsAStaleWorld(t *testing.T) {
	dir := t.TempDir()
	app := startApp(t, dir, testConfig)
	events := approvals("wall", "p", 10_000)
	removed := "webhook:p9995"
	events = append(events, bus.Event{Kind: bus.EventRemove, Stream: "wall", PostID: removed, Actor: "admin"})
	app.publishEvents(t, events)
	if code, body := app.admin(t, http.MethodPost, "/api/v1/streams/wall/pause"); code != http.StatusOK {
		t.Fatalf("pause: %d %s", code, body)
	}
	var before snapshotOf
	// The display applies the events as they are published, but may lag
	// behind them on a loaded machine.
	waitForWithin(t, "the display to apply the 10,000 approvals, the removal and the pause", 2*time.Minute, func() bool {
		_, _, before, _ = getSnapshot(t, app.base, "wall")
		return before.Paused
	})
	before.check(t, "before the restart", before.Seq, removed)
	app.stop(t)

	for _, restart := range []string{"after a clean stop", "without checkpoints (killed before the first)"} {
		if strings.HasPrefix(restart, "without") {
			forgetCheckpoints(t, dir)
		}
		again := startAppLoading(t, dir, testConfig)
		// A fresh screen and a resuming one connect at once, while the
		// display is (most likely) still loading: they are held.
		fresh := watchScreen(t, again, "wall", "")
		resuming := watchScreen(t, again, "wall", strconv.FormatUint(before.Seq, 10))
		loading := time.Now().Add(2 * time.Minute)
		for {
			code, header, snap, body := getSnapshot(t, again.base, "wall")
			if code == http.StatusServiceUnavailable && time.Now().After(loading) {
				t.Fatalf("%s: the display still loading after 2 minutes: %s", restart, body)
			}
			if code == http.StatusServiceUnavailable {
				if header.Get("Retry-After") == "" || !strings.Contains(body, "loading") {
					t.Fatalf("%s: 503 without Retry-After or reason: %v %s", restart, header, body)
				}
				time.Sleep(20 * time.Millisecond)
				continue
			}
			if code != http.StatusOK {
				t.Fatalf("%s: posts answered %d %s", restart, code, body)
			}
			snap.check(t, restart+": the snapshot API", before.Seq, removed)
			break
		}
		var first struct {
			Type string `json:"type"`
			snapshotOf
		}
		if err := json.Unmarshal(recv(t, fresh), &first); err != nil || first.Type != "snapshot" {
			t.Fatalf("%s: a fresh screen's first message is %q (%v)", restart, first.Type, err)
		}
		first.check(t, restart+": a fresh screen", before.Seq, removed)

		// Nothing is replayed to either screen: the next message of both is
		// the next new post.
		if code, body := again.push(t, `{"id":"after-`+restart[:5]+`","text":"new","lang":"en"}`); code != http.StatusAccepted {
			t.Fatalf("push: %d %s", code, body)
		}
		want := "add webhook:after-" + restart[:5]
		for name, screen := range map[string]<-chan json.RawMessage{"fresh": fresh, "resuming": resuming} {
			var m wsMsg
			if err := json.Unmarshal(recv(t, screen), &m); err != nil || describe(m) != want {
				t.Fatalf("%s: the %s screen got %q (%v), want %q", restart, name, describe(m), err, want)
			}
		}
		waitFor(t, "the new post applied", func() bool {
			_, _, s, _ := getSnapshot(t, again.base, "wall")
			return s.Seq > before.Seq
		})
		_, _, before, _ = getSnapshot(t, again.base, "wall")
		again.stop(t)
	}
}

// Issue 7, item 2: a wall away while 600 messages went by gets exactly those
// 600 when it comes back with since.
func TestResumeAfterSixHundredMissedMessages(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig)
	wall := app.dial(t, "wall", "")
	seen := next(t, wall).Seq
	wall.Close()
	last := app.publishEvents(t, approvals("wall", "away", 600))
	waitFor(t, "the display to apply them", func() bool {
		_, _, s, _ := getSnapshot(t, app.base, "wall")
		return s.Seq >= last
	})
	back := app.dial(t, "wall", strconv.FormatUint(seen, 10))
	for i := range 600 {
		m := next(t, back)
		if m.Type != "add" || m.Post.ID != fmt.Sprintf("webhook:away%d", i) || m.Seq != seen+uint64(i)+1 {
			t.Fatalf("message %d after since: %s", i, describe(m))
		}
	}
	if code, _ := app.push(t, `{"id":"live","text":"live","lang":"en"}`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	expect(t, back, "add webhook:live")
}

const pinsConfig = testConfig + `
  - id: pins
    sources: [hook]
    display_limit: 3
    rules:
      - {name: official, when: {authors: [official]}, action: pin}
`

// Issue 7, item 4: pins stay on screen, in pin order, whatever arrives; an
// older post pinned comes back on screen; a held post pinned is approved
// and pinned in one call.
func TestPinsStayOnScreen(t *testing.T) {
	app := startApp(t, t.TempDir(), pinsConfig)
	wall := app.dial(t, "pins", "")
	next(t, wall)

	// A rule pins a post; newer posts beyond the display limit leave it first.
	if code, body := app.push(t, `{"id":"o1","text":"Welcome","lang":"en","author":{"handle":"official"}}`); code != http.StatusAccepted {
		t.Fatalf("push: %d %s", code, body)
	}
	expect(t, wall, "add webhook:o1")
	if code, _ := app.push(t, `[{"id":"n1","text":"one","lang":"en"},{"id":"n2","text":"two","lang":"en"},
		{"id":"n3","text":"three","lang":"en"},{"id":"n4","text":"four","lang":"en"}]`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	expect(t, wall, "add webhook:n1", "add webhook:n2", "add webhook:n3", "add webhook:n4")
	_, _, snap, _ := getSnapshot(t, app.base, "pins")
	if got := strings.Join(snap.ids(), " "); got != "webhook:o1 webhook:n4 webhook:n3" || !snap.Posts[0].Pinned ||
		strings.Join(snap.Pins, " ") != "webhook:o1" {
		t.Fatalf("rule pin: %s pins %v", got, snap.Pins)
	}

	// An approved post long gone from screens (more than the display keeps
	// came after it) comes back, pinned, when a moderator pins it.
	wall.Close()
	last := app.publishEvents(t, approvals("pins", "later", 530))
	var seen uint64
	waitForWithin(t, fmt.Sprintf("the burst applied on screens (event %d)", last), 2*time.Minute, func() bool {
		_, _, s, _ := getSnapshot(t, app.base, "pins")
		seen = s.Seq
		return s.Seq >= last
	})
	// The index takes its time with the burst under the race detector: on
	// a loaded two-core machine it has taken 45 seconds and more.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	if err := app.index.WaitApplied(ctx, last); err != nil {
		t.Fatalf("%v: the index applied events up to %d of %d (screens had %d)", err, app.index.Applied(), last, seen)
	}
	wall = app.dial(t, "pins", "")
	next(t, wall)
	code, body := app.admin(t, http.MethodPost, "/api/v1/streams/pins/posts/webhook:n1/pin")
	if code != http.StatusOK || !strings.Contains(body, `"changed":true`) {
		t.Fatalf("pin: %d %s", code, body)
	}
	expect(t, wall, "add webhook:n1")
	_, _, snap, _ = getSnapshot(t, app.base, "pins")
	if got := strings.Join(snap.ids(), " "); got != "webhook:n1 webhook:o1 webhook:later529" {
		t.Fatalf("after pinning an old post: %s", got)
	}

	// The console reorders pins with one call; screens get the new order.
	if code, body := app.adminJSON(t, http.MethodPut, "/api/v1/streams/pins/pins", `{"order":["webhook:o1","webhook:n1"]}`); code != http.StatusOK {
		t.Fatalf("order pins: %d %s", code, body)
	}
	var pins struct {
		Type string   `json:"type"`
		Pins []string `json:"pins"`
	}
	wall.SetReadDeadline(time.Now().Add(15 * time.Second))
	if err := wall.ReadJSON(&pins); err != nil || pins.Type != "pins" || strings.Join(pins.Pins, " ") != "webhook:o1 webhook:n1" {
		t.Fatalf("pins message %+v %v", pins, err)
	}
	if code, body := app.adminJSON(t, http.MethodPut, "/api/v1/streams/pins/pins", `{"order":[]}`); code != http.StatusBadRequest {
		t.Fatalf("empty order: %d %s", code, body)
	}

	// A held post pinned is approved and pinned in one call.
	mod := app.dial(t, "mod", "")
	next(t, mod)
	if code, _ := app.push(t, `{"id":"h1","text":"held one","lang":"en"}`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	waitFor(t, "h1 queued", func() bool { return strings.Contains(mustBody(t, app, "/api/v1/streams/mod/queue"), "webhook:h1") })
	code, body = app.admin(t, http.MethodPost, "/api/v1/streams/mod/posts/webhook:h1/pin")
	if code != http.StatusOK || !strings.Contains(body, `"status":"approved"`) || !strings.Contains(body, `"changed":true`) {
		t.Fatalf("pin a held post: %d %s", code, body)
	}
	expect(t, mod, "add webhook:h1")
	_, _, snap, _ = getSnapshot(t, app.base, "mod")
	if len(snap.Posts) != 1 || !snap.Posts[0].Pinned {
		t.Fatalf("mod snapshot %+v", snap)
	}
	if !strings.Contains(mustBody(t, app, "/api/v1/streams/mod/search?q=pinned:true"), "webhook:h1") {
		t.Fatal("the index does not show h1 approved and pinned")
	}
}
