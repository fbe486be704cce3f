package display

import (
	"bytes"
	"compress/flate"
	"reflect"
	"sync"

	"github.com/gorilla/websocket"
)

// Compressed frames (RFC 7692, permessage-deflate). Writing to a screen
// costs the server CPU by the byte as much as by the write: the kernel
// copies every byte and, on a local network, pushes it through TCP. Screens
// that offer permessage-deflate (every browser does) get their frames
// compressed, and a frame is compressed once and shared, like the frame
// itself: the server never keeps a compression context between messages
// (it negotiates server_no_context_takeover), so one compressed frame is
// right for every screen. A resume backlog goes as the messages' own
// compressed frames, also shared, so screens resuming together cost no
// compression each.

// compressed reports whether conn negotiated permessage-deflate. Gorilla
// does not say so in its API; its connection holds a compression writer
// exactly when it did. Anything unexpected means no: a frame is never sent
// compressed to a screen that did not ask.
func compressed(conn *websocket.Conn) bool {
	v := reflect.ValueOf(conn)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return false
	}
	f := v.Elem().FieldByName("newCompressionWriter")
	return f.IsValid() && f.Kind() == reflect.Func && !f.IsNil()
}

var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed) // never fails for a valid level
	return w
}}

// deflatedTail ends every flushed deflate stream; permessage-deflate leaves
// it out of the frame.
var deflatedTail = []byte{0x00, 0x00, 0xff, 0xff}

// appendDeflatedFrame appends a final text frame with RSV1 set, whose
// payload is data compressed.
func appendDeflatedFrame(dst, data []byte) []byte {
	var buf bytes.Buffer
	w := deflaters.Get().(*flate.Writer)
	w.Reset(&buf)
	_, _ = w.Write(data) // a bytes.Buffer takes everything
	_ = w.Flush()
	deflaters.Put(w)
	payload := bytes.TrimSuffix(buf.Bytes(), deflatedTail)
	start := len(dst)
	dst = appendHeader(dst, len(payload))
	dst[start] |= rsv1
	return append(dst, payload...)
}

// rsv1 marks a compressed frame (RFC 7692, section 6).
const rsv1 = 0x40
