package x

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Limits of a stream connection.
const (
	// maxLine bounds one stream message; longer ones are skipped whole.
	maxLine = 4 << 20
	// lineBuffer is how many messages wait between the connection and Read.
	lineBuffer = 1024
	// maxBatch bounds the messages one Read takes from the stream.
	maxBatch = 200
	// defaultStall is how long a silent connection is trusted: X sends a
	// keep-alive every 20 seconds.
	defaultStall = 30 * time.Second
)

// errStalled is the end of a connection that sent nothing, not even a
// keep-alive, for the stall timeout.
var errStalled = errors.New("stream stalled: no data or keep-alive")

// liveStream reads one open streaming response line by line on its own
// goroutine, so that Read can wait for messages together with ctx and take
// whatever has arrived as one batch.
type liveStream struct {
	body    io.ReadCloser
	lines   chan []byte // closed when the connection ends
	err     error       // why it ended; read after lines is closed
	quit    chan struct{}
	done    chan struct{}
	once    sync.Once
	stalled atomic.Bool
	// oversized counts messages skipped for being longer than maxLine.
	oversized func()
}

func newLiveStream(body io.ReadCloser, stall time.Duration, oversized func()) *liveStream {
	ls := &liveStream{body: body, lines: make(chan []byte, lineBuffer), quit: make(chan struct{}), done: make(chan struct{}), oversized: oversized}
	go ls.run(stall)
	return ls
}

func (ls *liveStream) run(stall time.Duration) {
	defer close(ls.done)
	defer close(ls.lines)
	watchdog := time.AfterFunc(stall, func() {
		ls.stalled.Store(true)
		ls.body.Close()
	})
	defer watchdog.Stop()
	br := bufio.NewReaderSize(ls.body, 64<<10)
	for {
		line, tooLong, err := readLine(br, maxLine)
		watchdog.Reset(stall)
		if err != nil {
			switch {
			case ls.stalled.Load():
				ls.err = fmt.Errorf("%w for %s", errStalled, stall)
			case errors.Is(err, io.EOF):
				ls.err = errors.New("stream closed by the server")
			default:
				ls.err = err
			}
			return
		}
		if tooLong {
			ls.oversized()
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue // keep-alive
		}
		select {
		case ls.lines <- line:
		case <-ls.quit:
			return
		}
	}
}

// next waits for the first message, then takes those already waiting, up
// to limit. It returns the connection's end as an error once every message
// before it was taken.
func (ls *liveStream) next(ctx context.Context, limit int) ([][]byte, error) {
	var out [][]byte
	select {
	case line, ok := <-ls.lines:
		if !ok {
			return nil, ls.err
		}
		out = append(out, line)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for len(out) < limit {
		select {
		case line, ok := <-ls.lines:
			if !ok {
				return out, nil
			}
			out = append(out, line)
		default:
			return out, nil
		}
	}
	return out, nil
}

// close ends the connection and waits for the reader.
func (ls *liveStream) close() {
	ls.once.Do(func() {
		close(ls.quit)
		ls.body.Close()
	})
	<-ls.done
}

// readLine reads one line without its line ending. A line longer than max
// is read to its end and reported as tooLong, without its content.
func readLine(br *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > max {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		switch {
		case err == nil:
			return bytes.TrimRight(line, "\r\n"), tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return nil, false, err
		}
	}
}
