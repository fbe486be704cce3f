package display

import (
	"encoding/binary"
	"net"
	"sync"
	"time"
)

// encoded is one protocol message, encoded once and shared by every client
// that gets it and by the resume history: its JSON inside the websocket
// frame that carries it alone.
type encoded struct {
	seq uint64
	// frame is a whole final, unmasked text frame: header, then the JSON.
	frame []byte
	// header is the length of the frame's header.
	header int
}

// newEncoded frames data, the JSON of the message at seq.
func newEncoded(seq uint64, data []byte) *encoded {
	frame := make([]byte, 0, maxHeader+len(data))
	frame = appendHeader(frame, len(data))
	h := len(frame)
	return &encoded{seq: seq, frame: append(frame, data...), header: h}
}

// json is the message's JSON.
func (e *encoded) json() []byte { return e.frame[e.header:] }

// maxHeader is the longest header of an unmasked frame.
const maxHeader = 10

// appendHeader appends the header of a final, unmasked text frame whose
// payload is n bytes (RFC 6455, section 5.2).
func appendHeader(b []byte, n int) []byte {
	const finText = 0x81
	switch {
	case n < 126:
		return append(b, finText, byte(n))
	case n <= 0xFFFF:
		return append(b, finText, 126, byte(n>>8), byte(n))
	default:
		b = append(b, finText, 127)
		return binary.BigEndian.AppendUint64(b, uint64(n))
	}
}

// burst is the live messages of one stream sent to its clients at once.
// A batching client that has nothing else queued gets the whole burst in
// one frame, built once and shared by every such client.
type burst struct {
	msgs []*encoded
	// at is when the stream handed it to its clients.
	at   time.Time
	once sync.Once
	// shared is that frame: the messages as a JSON array, or the message
	// alone when there is one.
	shared []byte
}

// sharedFrame returns the burst as one batched frame.
func (b *burst) sharedFrame() []byte {
	if len(b.msgs) == 1 {
		return b.msgs[0].frame
	}
	b.once.Do(func() {
		n := arrayLen(b.msgs)
		frame := make([]byte, 0, maxHeader+n)
		frame = appendHeader(frame, n)
		frame = append(frame, '[')
		for i, m := range b.msgs {
			if i > 0 {
				frame = append(frame, ',')
			}
			frame = append(frame, m.json()...)
		}
		b.shared = append(frame, ']')
	})
	return b.shared
}

// arrayLen is the length of msgs' JSON as one array.
func arrayLen(msgs []*encoded) int {
	n := 1 + len(msgs) // brackets and commas
	for _, m := range msgs {
		n += len(m.json())
	}
	return n
}

// maxWriteBytes is about how much one write carries: a long resume
// backlog, or a large backlog of live messages, goes in several writes,
// each with its own deadline, and a backlog's arrays are no larger. A
// single message larger than this goes alone.
const maxWriteBytes = 1 << 20

var (
	comma        = []byte{','}
	closeBracket = []byte{']'}
)

// appendArray appends to bufs one batched frame of msgs, pointing at their
// JSON without copying it; scratch holds the frame's header. A single
// message goes in its own frame, not in an array.
func appendArray(bufs net.Buffers, scratch []byte, msgs []*encoded) (net.Buffers, []byte) {
	if len(msgs) == 1 {
		return append(bufs, msgs[0].frame), scratch
	}
	start := len(scratch)
	scratch = appendHeader(scratch, arrayLen(msgs))
	scratch = append(scratch, '[')
	bufs = append(bufs, scratch[start:len(scratch):len(scratch)])
	for i, m := range msgs {
		if i > 0 {
			bufs = append(bufs, comma)
		}
		bufs = append(bufs, m.json())
	}
	return append(bufs, closeBracket), scratch
}
