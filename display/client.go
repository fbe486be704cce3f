package display

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// QueueSize bounds each client's queue of unsent live messages. A resume
// backlog is not queued: the writer sends it first, straight from the
// stream's history.
const QueueSize = 256

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
	return t
}

// Reasons a client is dropped, the label of chorus_ws_clients_dropped_total.
const (
	dropSlow         = "slow"         // its queue of live messages filled up
	dropUnresponsive = "unresponsive" // it answered no ping in time, or a write timed out
	dropNotReady     = "not_ready"    // the state was not ready within HoldTimeout
)

// client is one websocket screen. Its writer goroutine owns the connection's
// writes; its reader goroutine only handles control frames.
type client struct {
	conn   *websocket.Conn
	timing Timing
	// first is what the client gets before any live message: a snapshot or
	// a resume backlog. It is sent once, when the client is registered.
	first chan []*websocket.PreparedMessage
	send  chan *websocket.PreparedMessage
	// dropped counts a drop by its reason.
	dropped func(reason string)

	closeOnce sync.Once
	done      chan struct{}
	// readDone is closed when the reader has stopped.
	readDone chan struct{}
	// closeCode is sent in the close frame when set before done closes.
	closeCode int
}

func newClient(conn *websocket.Conn, timing Timing, dropped func(string)) *client {
	return &client{
		conn: conn, timing: timing, dropped: dropped,
		first:    make(chan []*websocket.PreparedMessage, 1),
		send:     make(chan *websocket.PreparedMessage, QueueSize),
		done:     make(chan struct{}),
		readDone: make(chan struct{}),
	}
}

// enqueue queues pm without blocking and reports whether there was room.
func (c *client) enqueue(pm *websocket.PreparedMessage) bool {
	select {
	case c.send <- pm:
		return true
	default:
		return false
	}
}

// stop makes the writer send a close frame with code (none when 0) and hang
// up; a non-empty reason counts the client as dropped for it.
func (c *client) stop(code int, reason string) {
	c.closeOnce.Do(func() {
		c.closeCode = code
		if reason != "" && c.dropped != nil {
			c.dropped(reason)
		}
		close(c.done)
	})
}

// writeLoop pings the client while it is held, then sends what it gets
// first, then its queued live messages, until the client stops or a write
// fails; then it closes the connection.
func (c *client) writeLoop(sent func()) {
	ticker := time.NewTicker(c.timing.PingInterval)
	defer func() {
		ticker.Stop()
		c.conn.Close()
	}()
	var first []*websocket.PreparedMessage
held:
	for {
		select {
		case first = <-c.first:
			break held
		case <-ticker.C:
			if !c.ping() {
				return
			}
		case <-c.done:
			c.sayGoodbye()
			return
		}
	}
	for _, pm := range first {
		select {
		case <-c.done:
			c.sayGoodbye()
			return
		case <-ticker.C:
			if !c.ping() {
				return
			}
		default:
		}
		if !c.write(pm) {
			return
		}
		sent()
	}
	for {
		select {
		case pm := <-c.send:
			if !c.write(pm) {
				return
			}
			sent()
		case <-ticker.C:
			if !c.ping() {
				return
			}
		case <-c.done:
			c.sayGoodbye()
			return
		}
	}
}

func (c *client) write(pm *websocket.PreparedMessage) bool {
	c.conn.SetWriteDeadline(time.Now().Add(c.timing.WriteTimeout))
	if err := c.conn.WritePreparedMessage(pm); err != nil {
		c.stop(0, failureReason(err))
		return false
	}
	return true
}

func (c *client) ping() bool {
	if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.timing.WriteTimeout)); err != nil {
		c.stop(0, failureReason(err))
		return false
	}
	return true
}

// sayGoodbye sends the close frame of the code the client was stopped with
// and gives the client a second to answer it, so the close is clean and the
// client sees the code.
func (c *client) sayGoodbye() {
	if c.closeCode == 0 {
		return
	}
	msg := websocket.FormatCloseMessage(c.closeCode, closeText(c.closeCode))
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

// readLoop reads (and drops) what the client sends, so pongs and close
// frames are handled, until the connection fails. A client must answer
// pings: silence for a ping interval plus the pong timeout drops it.
func (c *client) readLoop() {
	defer close(c.readDone)
	silence := c.timing.PingInterval + c.timing.PongTimeout
	c.conn.SetReadLimit(4096)
	c.conn.SetReadDeadline(time.Now().Add(silence))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(silence))
	})
	for {
		if _, _, err := c.conn.ReadMessage(); err != nil {
			c.stop(0, failureReason(err))
			return
		}
		c.conn.SetReadDeadline(time.Now().Add(silence))
	}
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
