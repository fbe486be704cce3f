package display

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chorus-wall/chorus/bus"
)

// countingConn counts the bytes read from the server.
type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// dialCounting dials path, offering permessage-deflate when deflate is set,
// and counts the bytes the server sends.
func (f *fixture) dialCounting(t *testing.T, path string, deflate bool) (*websocket.Conn, *atomic.Int64) {
	t.Helper()
	read := new(atomic.Int64)
	d := websocket.Dialer{
		EnableCompression: deflate,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return countingConn{Conn: c, read: read}, nil
		},
	}
	c, resp, err := d.DialContext(t.Context(), "ws"+strings.TrimPrefix(f.srv.URL, "http")+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	offered := strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")
	if offered != deflate {
		t.Fatalf("permessage-deflate negotiated %v, offered %v", offered, deflate)
	}
	return c, read
}

// A screen that offers permessage-deflate gets compressed frames with the
// same messages, in the same order, batched or not, live and in a resume
// backlog; one that does not gets them as before. The compressed ones take
// far fewer bytes.
func TestCompressedFramesCarryTheSameMessages(t *testing.T) {
	for _, query := range []string{"?batch=1", ""} {
		t.Run("batch="+fmt.Sprint(query != ""), func(t *testing.T) {
			f := newFixture(t)
			plain, plainRead := f.dialCounting(t, "/ws/streams/wall"+query, false)
			zipped, zippedRead := f.dialCounting(t, "/ws/streams/wall"+query, true)
			readFrame(t, plain)
			readFrame(t, zipped)
			first := f.seq + 1
			const n = 120
			for b := range n / 30 {
				f.approvals("wall", fmt.Sprintf("b%d-", b), 30)
			}
			for _, c := range []*websocket.Conn{plain, zipped} {
				ms := readPatiently(t, c, n)
				for i, m := range ms {
					if m.Type != TypeAdd || m.Seq != first+uint64(i) || m.Post == nil || !strings.HasPrefix(m.Post.Text, "text of b") {
						t.Fatalf("message %d: %s seq %d", i, describeMsg(m), m.Seq)
					}
				}
			}
			// A message alone compresses a little; a batch of them, a lot.
			if z, p := zippedRead.Load(), plainRead.Load(); z >= p || (query != "" && z*2 > p) {
				t.Fatalf("compressed screen read %d bytes, plain %d", z, p)
			}

			// Resuming: the backlog, compressed too.
			resumed, _ := f.dialCounting(t, fmt.Sprintf("/ws/streams/wall%s%ssince=%d", query, map[bool]string{true: "&", false: "?"}[query != ""], first-1), true)
			ms := readPatiently(t, resumed, n)
			for i, m := range ms {
				if m.Type != TypeAdd || m.Seq != first+uint64(i) {
					t.Fatalf("resumed message %d: %s seq %d", i, describeMsg(m), m.Seq)
				}
			}
			live := f.event("wall", bus.EventApprove, "after")
			for _, c := range []*websocket.Conn{plain, zipped, resumed} {
				if ms, _ := readFrame(t, c); ms[0].Seq != live {
					t.Fatalf("live after: seq %d, want %d", ms[0].Seq, live)
				}
			}
		})
	}
}

// readPatiently reads n messages, giving each frame 30 s: this test reads
// hundreds of frames under the race detector on a loaded machine.
func readPatiently(t *testing.T, c *websocket.Conn, n int) []msg {
	t.Helper()
	var out []msg
	for len(out) < n {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, data, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("after %d messages: %v", len(out), err)
		}
		ms := decodeFrame(data)
		if ms == nil {
			t.Fatalf("not a message: %s", data)
		}
		out = append(out, ms...)
	}
	if len(out) != n {
		t.Fatalf("got %d messages, want %d", len(out), n)
	}
	return out
}
