package bus

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/post"
)

// encodeStrings are texts whose escaping goes wrong first: quotes and
// backslashes, every control character, HTML's <, > and &, the two line
// separators JavaScript rejects, invalid UTF-8, right-to-left text and its
// marks, emoji with joiners and skin tones, and a very long text.
var encodeStrings = func() []string {
	s := []string{
		"", "plain", `quote " and \ backslash`, "<script>alert('x')</script> & co",
		"line\u2028separator\u2029paragraph", "bad \xff\xfe utf8 \xc3 tail \xe2\x80",
		"مرحبا بالجميع 🎉 #ChorusLive שָׁלוֹם \u200f\u202eevil\u202c", "👍🏽❤️ 👨‍👩‍👧 🇫🇷 🏳️‍🌈",
		"Zoë Müller İstanbul 素晴らしい基調講演", "\u007f del \u0080 \u00a0 nbsp \ufeff bom \ufffd",
		strings.Repeat("long text ÄÖÜ مرحبا 🎉 <&> ", 250),
	}
	var ctl strings.Builder
	for c := range 0x20 {
		ctl.WriteByte(byte(c))
	}
	return append(s, ctl.String())
}()

// encodeFloats are sentiments at encoding/json's format switches.
var encodeFloats = []float64{0, math.Copysign(0, -1), 1, -1, 0.6249, -0.0001, 1e-6, 9.99e-7, 1e-7, 1.5e-10,
	1e20, 1e21, 123456789.125, -2.5e-300, math.MaxFloat64, math.SmallestNonzeroFloat64}

// encodeTimes include the zero time (omitted where omitzero), other
// zones, sub-second precision and the years at RFC 3339's bounds.
var encodeTimes = []time.Time{{}, time.Date(2026, 12, 6, 4, 8, 28, 123456789, time.UTC),
	time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", -(9*3600+30*60))), time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC),
	time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Unix(1, 0).In(time.FixedZone("y", 14*3600))}

// fill sets every field reachable from v at random, drawing each from the
// tricky values above or leaving it zero, so that omitempty and omitzero
// are exercised both ways.
func fill(rng *rand.Rand, v reflect.Value) {
	if rng.IntN(4) == 0 {
		v.SetZero()
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(encodeStrings[rng.IntN(len(encodeStrings))])
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt([]int64{1, -1, 42, math.MaxInt64, math.MinInt64, int64(time.Minute)}[rng.IntN(6)])
	case reflect.Uint64:
		v.SetUint([]uint64{1, 42, math.MaxUint64}[rng.IntN(3)])
	case reflect.Float64:
		v.SetFloat(encodeFloats[rng.IntN(len(encodeFloats))])
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(rng, v.Elem())
	case reflect.Slice:
		n := rng.IntN(4)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(rng, s.Index(i))
		}
		v.Set(s)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(encodeTimes[rng.IntN(len(encodeTimes))]))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(rng, v.Field(i))
			}
		}
	default:
		panic("fill: no values for " + v.Type().String())
	}
}

// TestEncodeMatchesEncodingJSON compares the hand-written encoding of
// events and posts with encoding/json's, on values with every field set
// (a field added to a type and not to encode.go differs here) and on
// values with any of them left zero.
func TestEncodeMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for i := range 3000 {
		var e Event
		fill(rng, reflect.ValueOf(&e).Elem())
		want, wantErr := json.Marshal(e)
		got, err := encodeEvent(&e)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("event %d: error %v, encoding/json's %v", i, err, wantErr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("event %d:\n got %s\nwant %s", i, got, want)
		}
		if e.Post == nil {
			continue
		}
		want, wantErr = json.Marshal(e.Post)
		got, err = encodePost(e.Post)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("post %d: error %v, encoding/json's %v", i, err, wantErr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("post %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestEncodeEveryField sets every field at once: nothing is left out.
func TestEncodeEveryField(t *testing.T) {
	e := Event{Kind: EventApprove, Stream: "s", PostID: "p", Reason: "r", Rule: "u", Filter: "f", Tags: []string{"t"},
		Pinned: true, Featured: true, ShowAt: encodeTimes[1], Author: "a", Pins: []string{"p"}, Advance: time.Minute,
		Erased: []string{"e"}, Posts: []string{"q"}, IngestStream: "i", IngestSeq: 7, SourceEdit: true, Actor: "c", At: encodeTimes[2],
		Rights: &Rights{State: "granted", Text: "x", Hashtag: "h", RequestURL: "u", Proof: &Proof{PostID: "p", URL: "u", Text: "t", At: encodeTimes[1], Note: "n"}},
		Post: &post.Post{ID: "x:1", Network: "x", URL: "u", Author: post.Author{ID: "1", Handle: "h", Name: "n", AvatarURL: "a", ProfileURL: "p", Followers: 3, Verified: true},
			Text: "t", Hashtags: []string{"h"}, Mentions: []string{"m"}, Links: []post.Link{{URL: "u", Title: "t", Start: 1, End: 2}},
			Media: []post.Media{{Kind: post.MediaImage, URL: "u", PreviewURL: "p", Width: 1, Height: 2, Alt: "a"}}, Kind: post.KindQuote,
			ReplyTo: "r", Lang: "en", Sentiment: 0.5, Sensitive: true, ContentWarning: "cw", Counts: post.Counts{Likes: 1, Reposts: 2, Replies: 3},
			CreatedAt: encodeTimes[1], FetchedAt: encodeTimes[2], EditedAt: encodeTimes[5], Source: "s", Deleted: true, Gone: post.GonePrivate}}
	want, _ := json.Marshal(e)
	got, err := encodeEvent(&e)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("got %s (%v)\nwant %s", got, err, want)
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		e.Post.Sentiment = f
		if _, err := encodeEvent(&e); err == nil {
			t.Fatalf("sentiment %v encoded; encoding/json refuses it", f)
		}
	}
	e.Post.Sentiment, e.At = 0, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := encodeEvent(&e); err == nil {
		t.Fatal("year 10000 encoded; encoding/json refuses it")
	}
}

func FuzzEncodeString(f *testing.F) {
	for _, s := range encodeStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := post.Post{ID: s, Text: s, Author: post.Author{Name: s}, Hashtags: []string{s}}
		want, _ := json.Marshal(p)
		if got, _ := encodePost(&p); !bytes.Equal(got, want) {
			t.Fatalf("got %s\nwant %s", got, want)
		}
	})
}

// BenchmarkEncodeEvent encodes a decision carrying a typical post, by
// hand (what curation does) and with encoding/json (what it did).
func BenchmarkEncodeEvent(b *testing.B) {
	at := time.Date(2026, 12, 6, 4, 8, 28, 123456789, time.UTC)
	e := Event{Kind: EventApprove, Stream: "wall", PostID: "x:1", Reason: "auto", Actor: ActorCuration, At: at,
		IngestStream: "CHORUS_INGEST_3", IngestSeq: 1234, Post: &post.Post{ID: "x:1", Network: "x", URL: "https://x.example/1",
			Author:   post.Author{Handle: "ana", Name: "Ana Pérez", Followers: 250, AvatarURL: "https://x.example/a.png"},
			Text:     "great keynote today, amazing acoustics & food court <3 stage music friends #ChorusLive 🎉 مرحبا",
			Hashtags: []string{"ChorusLive"}, Links: []post.Link{{URL: "https://x.example/a", Title: "A link"}},
			Kind: post.KindOriginal, Lang: "en", Sentiment: 0.6249, CreatedAt: at, FetchedAt: at, Source: "wall"}}
	b.Run("bus", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeEvent(&e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
