// Package ndjson reads newline-delimited JSON messages from long-lived HTTP
// streams (X's filtered stream, enterprise PowerTrack streams) and from
// files. A stream is read on its own goroutine, so that a reader can wait
// for messages together with its context and take what has arrived as one
// batch; a watchdog ends a connection that stays silent (not even a
// keep-alive) for too long.
package ndjson

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

// Limits of a stream.
const (
	// MaxLine bounds one message; longer ones are skipped whole.
	MaxLine = 4 << 20
	// buffered is how many messages wait between the connection and Next.
	buffered = 1024
)

// ErrStalled ends a connection that sent nothing for the stall timeout.
var ErrStalled = errors.New("stream stalled: no data or keep-alive")

// ErrClosed ends a connection the server closed.
var ErrClosed = errors.New("stream closed by the server")

// Stream reads one open streaming body line by line.
type Stream struct {
	body    io.ReadCloser
	lines   chan []byte // closed when the connection ends
	err     error       // why it ended; read after lines is closed
	quit    chan struct{}
	done    chan struct{}
	once    sync.Once
	stalled atomic.Bool
}

// Open starts reading body. Blank lines (keep-alives) are dropped; a
// message longer than MaxLine is skipped and reported to oversized (which
// may be nil). The connection is closed when nothing, not even a
// keep-alive, arrives for stall.
func Open(body io.ReadCloser, stall time.Duration, oversized func()) *Stream {
	s := &Stream{body: body, lines: make(chan []byte, buffered), quit: make(chan struct{}), done: make(chan struct{})}
	go s.run(stall, oversized)
	return s
}

func (s *Stream) run(stall time.Duration, oversized func()) {
	defer close(s.done)
	defer close(s.lines)
	watchdog := time.AfterFunc(stall, func() {
		s.stalled.Store(true)
		s.body.Close()
	})
	defer watchdog.Stop()
	// Any bytes count as life, so a long message on a slow connection is
	// not taken for a stall.
	br := bufio.NewReaderSize(activity{r: s.body, alive: func() { watchdog.Reset(stall) }}, 64<<10)
	for {
		line, _, tooLong, err := ReadLine(br, MaxLine)
		if err != nil {
			switch {
			case s.stalled.Load():
				s.err = fmt.Errorf("%w for %s", ErrStalled, stall)
			case errors.Is(err, io.EOF):
				s.err = ErrClosed
			default:
				s.err = err
			}
			return
		}
		if tooLong {
			if oversized != nil {
				oversized()
			}
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		select {
		case s.lines <- line:
		case <-s.quit:
			return
		}
	}
}

// Next waits for the first message, then takes those already waiting, up
// to limit. Once every message has been taken it returns why the
// connection ended.
func (s *Stream) Next(ctx context.Context, limit int) ([][]byte, error) {
	var out [][]byte
	select {
	case line, ok := <-s.lines:
		if !ok {
			return nil, s.err
		}
		out = append(out, line)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for len(out) < limit {
		select {
		case line, ok := <-s.lines:
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

// Close ends the connection and waits for the reader; safe to call twice.
func (s *Stream) Close() {
	s.once.Do(func() {
		close(s.quit)
		s.body.Close()
	})
	<-s.done
}

// activity calls alive whenever r delivers bytes.
type activity struct {
	r     io.Reader
	alive func()
}

func (a activity) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.alive()
	}
	return n, err
}

// ReadLine reads one line and returns it without its line ending (a copy),
// with the number of bytes it took from br. A line longer than max is read
// to its end and reported as tooLong, without its content. At the end of
// the input, a last line without a line ending is returned with io.EOF.
func ReadLine(br *bufio.Reader, max int) (line []byte, n int, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		n += len(chunk)
		if !tooLong {
			if len(line)+len(chunk) > max {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		switch {
		case err == nil:
			return bytes.TrimRight(line, "\r\n"), n, tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return line, n, tooLong, err
		}
	}
}
