package display

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// QueueSize bounds each client's backlog of unsent live messages: a client
// that has this many unsent when more arrive, while its network has not
// taken the last write yet, is too slow, and is closed. A client merely
// waiting for the CPU gets its backlog in its next write, so it is closed
// only at MaxBacklog. A resume backlog is not counted: it is sent first,
// straight from the stream's history.
const (
	QueueSize  = 256
	MaxBacklog = 16 * QueueSize
)

// Timing says how long the hub waits for clients. The zero value of a
// field means its default.
type Timing struct {
	// PingInterval is how often the server pings each client (10 s).
	PingInterval time.Duration
	// PongTimeout is how long past a ping's due time a client may stay
	// silent: one that answers no ping for PingInterval+PongTimeout (20 s)
	// is dropped, whether or not its kernel buffers are full.
	PongTimeout time.Duration
	// WriteTimeout bounds every write (10 s); a client that takes longer to
	// accept one is dropped.
	WriteTimeout time.Duration
	// HoldTimeout is how long a client may wait for the state to be loaded
	// (or to reach its since) before it is closed with 1013 (30 s).
	HoldTimeout time.Duration
	// BatchWindow is how long a stream gathers live messages before it
	// sends them to its clients together (25 ms): a busy stream costs each
	// client one write per window, not one per message. The first message
	// after a quiet window goes out at once.
	BatchWindow time.Duration
	// MaxBatchWindow is the longest a stream's window grows when its
	// writes take long (100 ms): the window is twice the time the last
	// send took to be written to its screens (pace.go), so with thousands
	// of screens writing takes about half the time at most and leaves the
	// rest to the webhook, curation and the display's own reader.
	MaxBatchWindow time.Duration
}

func (t Timing) withDefaults() Timing {
	if t.PingInterval <= 0 {
		t.PingInterval = 10 * time.Second
	}
	if t.PongTimeout <= 0 {
		t.PongTimeout = 10 * time.Second
	}
	if t.WriteTimeout <= 0 {
		t.WriteTimeout = 10 * time.Second
	}
	if t.HoldTimeout <= 0 {
		t.HoldTimeout = 30 * time.Second
	}
	if t.BatchWindow <= 0 {
		t.BatchWindow = 25 * time.Millisecond
	}
	if t.MaxBatchWindow <= 0 {
		t.MaxBatchWindow = 4 * t.BatchWindow
	}
	t.MaxBatchWindow = max(t.MaxBatchWindow, t.BatchWindow)
	return t
}

// Reasons a client is dropped, the label of chorus_ws_clients_dropped_total.
const (
	dropSlow         = "slow"         // its backlog of live messages reached QueueSize
	dropUnresponsive = "unresponsive" // it answered no ping in time, or a write timed out
	dropNotReady     = "not_ready"    // the state was not ready within HoldTimeout
)

// client is one websocket screen. An idle client costs one goroutine, its
// reader (parked in the network poller, it handles pongs and close
// frames), and no buffer but gorilla's small read buffer: a writer
// goroutine runs only while the client has something to send, and writes
// everything queued with one system call, straight from the messages every
// client shares.
type client struct {
	conn   *websocket.Conn
	timing *Timing
	// batch is set when the client asked for batched frames (?batch=1):
	// several messages in one frame, as a JSON array.
	batch bool
	// sent counts n messages written, the oldest live ones handed to the
	// client at oldest (zero when the write had none); dropped counts a
	// drop by its reason.
	sent    func(n int, oldest time.Time)
	dropped func(reason string)

	mu sync.Mutex
	// first is what the client gets before any live message: a snapshot or
	// a resume backlog. It is set once, when the client is registered.
	first []*encoded
	// queue holds the live bursts not yet taken by a writer, and queued
	// the number of messages in them.
	queue  []*burst
	queued int
	// rounds are the sends (pace.go) whose bursts are queued: each is
	// released once the write that takes them is done or abandoned.
	rounds []*round
	// writing is set while a writer goroutine runs (at most one does);
	// inWrite while it waits for the network to take a write.
	writing bool
	inWrite bool
	pingDue bool
	// pong is the payload of the client's last ping, to answer.
	pong []byte
	// stopped is set once; closeCode is then sent in a close frame (none
	// when 0).
	stopped   bool
	closeCode int

	pinger *time.Timer
	// writers counts running writer goroutines, so the reader can wait for
	// the last one before it lets go of the connection.
	writers sync.WaitGroup
	// done is closed when the client is stopped.
	done chan struct{}
	// readDone is closed when the reader has stopped.
	readDone chan struct{}
}

func newClient(conn *websocket.Conn, timing *Timing, batch bool, sent func(int, time.Time), dropped func(string)) *client {
	c := &client{
		conn: conn, timing: timing, batch: batch, sent: sent, dropped: dropped,
		done:     make(chan struct{}),
		readDone: make(chan struct{}),
	}
	// The reader never writes: pongs and close replies go through the
	// writer, the only goroutine that writes to the connection.
	conn.SetPingHandler(func(data string) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.pong = []byte(data)
		c.kick()
		return nil
	})
	conn.SetCloseHandler(func(code int, _ string) error {
		if code == websocket.CloseNoStatusReceived || code == websocket.CloseAbnormalClosure {
			code = websocket.CloseNormalClosure
		}
		c.stop(code, "")
		return nil
	})
	c.pinger = time.AfterFunc(timing.PingInterval, c.pingTime)
	return c
}

// kick starts a writer unless one runs or the client has stopped. The
// caller holds c.mu.
func (c *client) kick() {
	if c.writing || c.stopped {
		return
	}
	c.writing = true
	c.writers.Add(1)
	go c.write()
}

// start hands the client what it gets first. The caller holds the
// stream's lock, so no live message can come before it.
func (c *client) start(first []*encoded) {
	if len(first) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.first = first
	c.kick()
}

// push queues bursts of live messages, the send r, without blocking; r is
// released once they are written, or at once when the client does not
// take them. It is false when the client is too slow: it still has
// QueueSize messages unsent from earlier pushes while its network has not
// taken its last write, or MaxBacklog in any case.
func (c *client) push(bursts []*burst, r *round) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		r.release()
		return true // leaving anyway
	}
	if c.queued >= QueueSize && (c.inWrite || c.queued >= MaxBacklog) {
		r.release()
		return false
	}
	for _, b := range bursts {
		c.queue = append(c.queue, b)
		c.queued += len(b.msgs)
	}
	c.rounds = append(c.rounds, r)
	c.kick()
	return true
}

// releaseAll releases rounds: their writes are done or abandoned.
func releaseAll(rounds []*round) {
	for _, r := range rounds {
		r.release()
	}
}

func (c *client) pingTime() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pingDue = true
	c.kick()
}

// stop makes the client send a close frame with code (none when 0) and
// hang up; a non-empty reason counts the client as dropped for it. Without
// a code the connection is closed at once, so a writer stuck on a client
// that does not read is released.
func (c *client) stop(code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	if reason != "" && c.dropped != nil {
		c.dropped(reason)
	}
	close(c.done)
	if code == 0 {
		c.stopped = true
		c.conn.Close()
		return
	}
	c.closeCode = code
	c.kick() // the writer says goodbye
	c.stopped = true
}

// write is a writer goroutine: it writes what is queued, in order, until
// nothing is left, then exits. Once the client is stopped it says goodbye
// and closes the connection.
func (c *client) write() {
	defer c.writers.Done()
	w := scratches.Get().(*writeScratch)
	defer func() {
		w.reset()
		scratches.Put(w)
	}()
	// A writer leaving after a failure leaves the client stopped, so it
	// takes no more sends: the ones still queued are abandoned.
	defer func() {
		c.mu.Lock()
		rounds := c.rounds
		c.rounds = nil
		c.mu.Unlock()
		releaseAll(rounds)
	}()
	for {
		c.mu.Lock()
		if c.stopped {
			code, rounds := c.closeCode, c.rounds
			c.rounds = nil
			c.mu.Unlock()
			releaseAll(rounds)
			c.sayGoodbye(code)
			return
		}
		first, queue, rounds, ping, pong := c.first, c.queue, c.rounds, c.pingDue, c.pong
		c.first, c.queue, c.queued, c.rounds, c.pingDue, c.pong = nil, nil, 0, nil, false, nil
		if first == nil && queue == nil && !ping && pong == nil {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()

		if pong != nil && !c.control(websocket.PongMessage, pong) {
			releaseAll(rounds)
			return
		}
		if ping {
			if !c.control(websocket.PingMessage, nil) {
				releaseAll(rounds)
				return
			}
			c.pinger.Reset(c.timing.PingInterval)
		}
		ok := c.send(first, queue, w)
		releaseAll(rounds)
		if !ok {
			return
		}
	}
}

// send writes first, then the queued bursts, with as few system calls as
// maxWriteBytes allows, each with its own deadline; it is false when a
// write failed. A batching client gets its resume backlog in arrays and
// each burst as the frame every such client shares; others get a frame
// per message, each shared too.
func (c *client) send(first []*encoded, queue []*burst, w *writeScratch) bool {
	w.reset()
	size, count := 0, 0
	var oldest time.Time // of the live bursts gathered
	// flush writes what is gathered; stopped reports that the client
	// stopped meanwhile (the caller says goodbye), failed that the write
	// failed (the connection is closed).
	flush := func() (stopped, failed bool) {
		if count == 0 {
			return false, false
		}
		ok := c.writeBufs(w.bufs, count, oldest)
		w.reset()
		size, count, oldest = 0, 0, time.Time{}
		return c.isStopped(), !ok
	}
	for len(first) > 0 {
		n, bytes := 0, 0
		for n < len(first) && (n == 0 || bytes+len(first[n].frame) <= maxWriteBytes) {
			bytes += len(first[n].frame)
			n++
		}
		if c.batch {
			w.bufs, w.headers = appendArray(w.bufs, w.headers, first[:n])
		} else {
			for _, m := range first[:n] {
				w.bufs = append(w.bufs, m.frame)
			}
		}
		size, count = size+bytes, count+n
		first = first[n:]
		if size >= maxWriteBytes {
			if stopped, failed := flush(); stopped || failed {
				return !failed
			}
		}
	}
	for _, b := range queue {
		if oldest.IsZero() {
			oldest = b.at
		}
		if c.batch {
			frame := b.sharedFrame()
			w.bufs = append(w.bufs, frame)
			size += len(frame)
		} else {
			for _, m := range b.msgs {
				w.bufs = append(w.bufs, m.frame)
				size += len(m.frame)
			}
		}
		count += len(b.msgs)
		if size >= maxWriteBytes {
			if stopped, failed := flush(); stopped || failed {
				return !failed
			}
		}
	}
	_, failed := flush()
	return !failed
}

// writeScratch is a writer's reusable room for building a write.
type writeScratch struct {
	bufs    net.Buffers
	headers []byte
}

func (w *writeScratch) reset() {
	clear(w.bufs) // let the frames go
	w.bufs, w.headers = w.bufs[:0], w.headers[:0]
}

var scratches = sync.Pool{New: func() any { return new(writeScratch) }}

func (c *client) setInWrite(in bool) {
	c.mu.Lock()
	c.inWrite = in
	c.mu.Unlock()
}

func (c *client) isStopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped
}

// writeBufs writes bufs, n messages, the oldest live ones handed to the
// client at oldest, within the write timeout.
func (c *client) writeBufs(bufs net.Buffers, n int, oldest time.Time) bool {
	nc := c.conn.NetConn()
	nc.SetWriteDeadline(time.Now().Add(c.timing.WriteTimeout))
	c.setInWrite(true)
	_, err := bufs.WriteTo(nc)
	c.setInWrite(false)
	if err != nil {
		c.fail(err)
		return false
	}
	c.sent(n, oldest)
	return true
}

func (c *client) control(kind int, data []byte) bool {
	if err := c.conn.WriteControl(kind, data, time.Now().Add(c.timing.WriteTimeout)); err != nil {
		c.fail(err)
		return false
	}
	return true
}

// fail hangs up after a failed write, even when the client was already
// stopped with a code: nothing more can be written.
func (c *client) fail(err error) {
	c.stop(0, failureReason(err))
	c.conn.Close()
}

// sayGoodbye sends the close frame of code, gives the client a second to
// answer it (so the close is clean and the client sees the code), and
// closes the connection.
func (c *client) sayGoodbye(code int) {
	defer c.conn.Close()
	if code == 0 {
		return
	}
	msg := websocket.FormatCloseMessage(code, closeText(code))
	if err := c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); err != nil {
		return
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-c.readDone:
	case <-t.C:
	}
}

// read reads (and drops) what the client sends, so pongs and close frames
// are handled, until the connection fails. A client must answer pings:
// silence for a ping interval plus the pong timeout drops it. Then it
// stops the client and waits for its writer, so the connection is
// released when read returns.
func (c *client) read() {
	silence := c.timing.PingInterval + c.timing.PongTimeout
	c.conn.SetReadLimit(4096)
	c.conn.SetReadDeadline(time.Now().Add(silence))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(silence))
	})
	var err error
	for {
		if _, _, err = c.conn.ReadMessage(); err != nil {
			break
		}
		c.conn.SetReadDeadline(time.Now().Add(silence))
	}
	close(c.readDone)
	c.pinger.Stop()
	c.stop(0, failureReason(err))
	c.writers.Wait()
	c.conn.Close()
}

// failureReason is the drop reason of a failed read or write: a timeout
// means the client stopped answering; anything else means it went away.
func failureReason(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return dropUnresponsive
	}
	return ""
}

func closeText(code int) string {
	switch code {
	case websocket.CloseGoingAway:
		return "server shutting down"
	case websocket.ClosePolicyViolation:
		return "too slow: reconnect with since"
	case websocket.CloseTryAgainLater:
		return "still loading: reconnect with since"
	}
	return ""
}
