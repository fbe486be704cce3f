package ndjson

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestReadLine(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		max     int
		want    []string
		tooLong []bool
		sizes   []int
	}{
		{name: "crlf and lf", in: "{\"a\":1}\r\n\r\n{\"b\":2}\n", max: 100, want: []string{`{"a":1}`, "", `{"b":2}`}, tooLong: []bool{false, false, false}, sizes: []int{9, 2, 8}},
		{name: "too long skipped whole", in: strings.Repeat("x", 50) + "\nok\n", max: 10, want: []string{"", "ok"}, tooLong: []bool{true, false}, sizes: []int{51, 3}},
		{name: "longer than the reader's buffer", in: strings.Repeat("y", 40) + "\n", max: 100, want: []string{strings.Repeat("y", 40)}, tooLong: []bool{false}, sizes: []int{41}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tt.in), 16)
			for i, want := range tt.want {
				line, n, tooLong, err := ReadLine(br, tt.max)
				if err != nil || string(line) != want || tooLong != tt.tooLong[i] || n != tt.sizes[i] {
					t.Fatalf("line %d: %q %d %v %v", i, line, n, tooLong, err)
				}
			}
			if _, _, _, err := ReadLine(br, tt.max); err != io.EOF {
				t.Fatalf("end: %v", err)
			}
		})
	}
	br := bufio.NewReader(strings.NewReader("{\"a\":1}\n{\"part"))
	ReadLine(br, 100)
	line, n, _, err := ReadLine(br, 100)
	if string(line) != `{"part` || n != 6 || err != io.EOF {
		t.Fatalf("partial last line: %q %d %v", line, n, err)
	}
}

func TestStream(t *testing.T) {
	r, w := io.Pipe()
	var oversized atomic.Int32
	// The stall limit is generous: on a loaded CI machine the writer may be
	// scheduled late, and only the silence at the end must trip it.
	s := Open(r, 2*time.Second, func() { oversized.Add(1) })
	defer s.Close()
	go func() {
		io.WriteString(w, "\r\n{\"n\":1}\r\n\r\n{\"n\":2}\r\n"+strings.Repeat("z", MaxLine+1)+"\r\n{\"n\":3}\r\n")
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	var got []string
	for len(got) < 3 {
		lines, err := s.Next(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) > 2 {
			t.Fatalf("batch of %d, limit 2", len(lines))
		}
		for _, l := range lines {
			got = append(got, string(l))
		}
	}
	if strings.Join(got, ",") != `{"n":1},{"n":2},{"n":3}` || oversized.Load() != 1 {
		t.Fatalf("got %v, %d oversized", got, oversized.Load())
	}
	// Silence: the watchdog ends the connection.
	if _, err := s.Next(ctx, 10); !errors.Is(err, ErrStalled) {
		t.Fatalf("err %v, want a stall", err)
	}
	s.Close()
}

func TestStreamClosedByServerAndContext(t *testing.T) {
	s := Open(io.NopCloser(strings.NewReader("{\"n\":1}\n")), time.Minute, nil)
	defer s.Close()
	if lines, err := s.Next(t.Context(), 10); err != nil || len(lines) != 1 {
		t.Fatalf("%q %v", lines, err)
	}
	if _, err := s.Next(t.Context(), 10); !errors.Is(err, ErrClosed) {
		t.Fatalf("err %v", err)
	}
	r, _ := io.Pipe()
	quiet := Open(r, time.Minute, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := quiet.Next(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	quiet.Close()
	quiet.Close()
}
