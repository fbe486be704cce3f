package console

import (
	"context"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Client timing and limits.
const (
	writeWait  = 10 * time.Second
	pongWait   = 60 * time.Second
	pingPeriod = 25 * time.Second
	// RecheckEvery is how often a connected console's credential is
	// checked again by default: a session that ended closes its feed
	// within it.
	RecheckEvery = 30 * time.Second
	// QueueSize bounds each console's queue of unsent messages.
	QueueSize = 512
)

// CloseSignedOut is the close code of a feed whose session or key no
// longer holds: the console signs in again.
const CloseSignedOut = 4401

// Viewer is who a console connection is for.
type Viewer struct {
	// Sees reports whether the viewer may see a stream.
	Sees func(stream string) bool
	// Check reports whether the credential still holds (nil: it does).
	Check func(ctx context.Context) error
}

// client is one connected console. Its writer goroutine owns the
// connection's writes; its reader only handles control frames.
type client struct {
	conn    *websocket.Conn
	viewer  Viewer
	recheck time.Duration
	send    chan *websocket.PreparedMessage

	closeOnce sync.Once
	done      chan struct{}
	closeCode int
}

func newClient(conn *websocket.Conn, v Viewer, recheck time.Duration) *client {
	if recheck <= 0 {
		recheck = RecheckEvery
	}
	return &client{conn: conn, viewer: v, recheck: recheck, send: make(chan *websocket.PreparedMessage, QueueSize), done: make(chan struct{})}
}

func (c *client) sees(stream string) bool { return c.viewer.Sees == nil || c.viewer.Sees(stream) }

// enqueue queues pm without blocking and reports whether there was room.
func (c *client) enqueue(pm *websocket.PreparedMessage) bool {
	select {
	case c.send <- pm:
		return true
	default:
		return false
	}
}

// stop makes the writer send a close frame with code (none when 0) and
// hang up.
func (c *client) stop(code int) {
	c.closeOnce.Do(func() {
		c.closeCode = code
		close(c.done)
	})
}

// writeLoop sends queued messages and pings, and checks the credential
// now and then, until the client stops or a write fails.
func (c *client) writeLoop() {
	ping := time.NewTicker(pingPeriod)
	recheck := time.NewTicker(c.recheck)
	defer func() {
		ping.Stop()
		recheck.Stop()
		c.conn.Close()
	}()
	for {
		select {
		case pm := <-c.send:
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.conn.WritePreparedMessage(pm); err != nil {
				c.stop(0)
				return
			}
		case <-ping.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				c.stop(0)
				return
			}
		case <-recheck.C:
			if c.viewer.Check == nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), writeWait)
			err := c.viewer.Check(ctx)
			cancel()
			if err != nil {
				c.stop(CloseSignedOut)
			}
		case <-c.done:
			if c.closeCode != 0 {
				msg := websocket.FormatCloseMessage(c.closeCode, closeText(c.closeCode))
				_ = c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
			}
			return
		}
	}
}

// readLoop reads (and drops) what the console sends, so pongs and close
// frames are handled, until the connection fails.
func (c *client) readLoop() {
	c.conn.SetReadLimit(4096)
	c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		if _, _, err := c.conn.ReadMessage(); err != nil {
			c.stop(0)
			return
		}
	}
}

func closeText(code int) string {
	switch code {
	case websocket.CloseGoingAway:
		return "server shutting down"
	case websocket.ClosePolicyViolation:
		return "too slow: reconnect with since"
	case CloseSignedOut:
		return "signed out: sign in again"
	}
	return ""
}
