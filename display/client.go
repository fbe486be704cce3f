package display

import (
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Client timing.
const (
	writeWait  = 10 * time.Second
	pongWait   = 60 * time.Second
	pingPeriod = 25 * time.Second
	// QueueSize bounds each client's queue of unsent messages.
	QueueSize = 256
)

// client is one websocket screen. Its writer goroutine owns the connection's
// writes; its reader goroutine only handles control frames.
type client struct {
	conn *websocket.Conn
	send chan *websocket.PreparedMessage

	closeOnce sync.Once
	done      chan struct{}
	// closeCode is sent in the close frame when set before done closes.
	closeCode int
}

func newClient(conn *websocket.Conn) *client {
	return &client{conn: conn, send: make(chan *websocket.PreparedMessage, QueueSize), done: make(chan struct{})}
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

// stop makes the writer send a close frame with code and hang up.
func (c *client) stop(code int) {
	c.closeOnce.Do(func() {
		c.closeCode = code
		close(c.done)
	})
}

// writeLoop sends queued messages and pings until the client stops or a
// write fails; then it closes the connection.
func (c *client) writeLoop(sent func()) {
	ticker := time.NewTicker(pingPeriod)
	defer func() {
		ticker.Stop()
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
			sent()
		case <-ticker.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				c.stop(0)
				return
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

// readLoop reads (and drops) what the client sends, so pongs and close
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
	}
	return ""
}
