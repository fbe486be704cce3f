package curation

import (
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

func TestWordList(t *testing.T) {
	list := NewWordList([]string{"idiot", "Buy Followers", "scam", "  "})
	tests := []struct {
		name      string
		post      post.Post
		wantWord  string
		wantField string
	}{
		{name: "plain", post: post.Post{Text: "what an idiot"}, wantWord: "idiot", wantField: "text"},
		{name: "case and punctuation", post: post.Post{Text: "IDIOT!!!"}, wantWord: "idiot", wantField: "text"},
		{name: "phrase across spaces", post: post.Post{Text: "Buy   followers now"}, wantWord: "buy followers", wantField: "text"},
		{name: "phrase across newline", post: post.Post{Text: "buy\nfollowers"}, wantWord: "buy followers", wantField: "text"},
		{name: "handle parts", post: post.Post{Text: "hi", Author: post.Author{Handle: "total_idiot_42"}}, wantWord: "idiot", wantField: "author handle"},
		{name: "name", post: post.Post{Text: "hi", Author: post.Author{Name: "Scam Central"}}, wantWord: "scam", wantField: "author name"},
		{name: "hashtag", post: post.Post{Text: "hi", Hashtags: []string{"Scam"}}, wantWord: "scam", wantField: "hashtag"},
		{name: "not inside a word", post: post.Post{Text: "idiotic scampi", Author: post.Author{Handle: "scammer"}}},
		{name: "phrase needs every word", post: post.Post{Text: "buy tickets, gain followers"}},
		{name: "other scripts untouched", post: post.Post{Text: "مرحبا بالجميع 🎉 #ChorusLive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			word, field, ok := findInPost(list, &tt.post, tokenize(tt.post.Text))
			if tt.wantWord == "" {
				if ok {
					t.Fatalf("unexpected match %q in %s", word, field)
				}
				return
			}
			if !ok || word != tt.wantWord || field != tt.wantField {
				t.Fatalf("got %q in %q (%v), want %q in %q", word, field, ok, tt.wantWord, tt.wantField)
			}
		})
	}
	if !NewWordList(nil).Empty() || NewWordList([]string{"x"}).Empty() {
		t.Fatal("Empty is wrong")
	}
}

func TestTokenizeKeepsCombiningMarks(t *testing.T) {
	got := tokenize("नमस्ते, Zoë!")
	if len(got) != 2 || got[0] != "नमस्ते" || got[1] != "zoë" {
		t.Fatalf("tokenize = %q", got)
	}
}

// tokenizeReference is tokenize as it was written first, the definition
// the faster one must keep: runs of letters, digits and marks, each
// lowered by strings.ToLower.
func tokenizeReference(s string) []string {
	var toks []string
	start := -1
	for i, r := range s {
		word := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			toks = append(toks, strings.ToLower(s[start:i]))
			start = -1
		}
	}
	if start >= 0 {
		toks = append(toks, strings.ToLower(s[start:]))
	}
	return toks
}

// tokenizeCases are texts where lowering and splitting words go wrong
// first: capitals of many scripts, letters whose lower case is shorter or
// longer in UTF-8, right-to-left text, emoji, marks, invalid UTF-8.
var tokenizeCases = []string{
	"",
	"   ",
	"IDIOT!!! Buy   Followers now",
	"total_idiot_42 and f.u.c.k",
	"Zoë Müller ÅNGSTRÖM straße STRASSE",
	"İstanbul KIZILAY ıi",                    // dotted capital I: shorter in UTF-8 lowered
	"\u212a\u212b kelvin and angstrom signs", // K and Å signs lower to ASCII k and å
	"ΣΟΦΟΣ σοφος Ωμέγα",
	"Ⅻ ⅻ Ⓐ ⓐ roman numerals and circled letters",
	"ᏣᎳᎩ ꮳꮃꭹ cherokee",
	"ＦＵＬＬＷＩＤＴＨ ｆｕｌｌ",
	"مرحبا بالجميع 🎉 #ChorusLive שָׁלוֹם עוֹלָם",
	"नमस्ते, Zoë! क्षत्रिय",
	"素晴らしい基調講演 ＡＢＣ 今日の試合",
	"👍🏽❤️ family 👨‍👩‍👧 flags 🇫🇷 🏳️‍🌈",
	"e\u0301 combining ACUTE E\u0301",
	"bad \xff\xfe utf8 \xc3 TAIL",
	"\u200bzero\u200bwidth\u00adsoft\u00adHYPHEN",
	"1st 2ND 3rd 4TH 123 ٤٥٦ ໑໒",
	strings.Repeat("Long TEXT with MANY words ÄÖÜ مرحبا 🎉 ", 400),
}

func TestTokenizeMatchesReference(t *testing.T) {
	for _, s := range tokenizeCases {
		if got, want := tokenize(s), tokenizeReference(s); !slices.Equal(got, want) {
			t.Errorf("tokenize(%q)\n = %q\nwant %q", s, got, want)
		}
	}
}

// TestTokenizeEveryRune checks each rune alone and between capitals, so no
// letter of any script is split or lowered differently.
func TestTokenizeEveryRune(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xd800 && r <= 0xdfff {
			continue
		}
		s := "A" + string(r) + "Ω " + string(r)
		if got, want := tokenize(s), tokenizeReference(s); !slices.Equal(got, want) {
			t.Fatalf("tokenize(%q) = %q, want %q", s, got, want)
		}
	}
}

func FuzzTokenize(f *testing.F) {
	for _, s := range tokenizeCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := tokenize(s), tokenizeReference(s); !slices.Equal(got, want) {
			t.Fatalf("tokenize(%q) = %q, want %q", s, got, want)
		}
	})
}

func TestLowerAll(t *testing.T) {
	for _, tags := range [][]string{nil, {}, {"chorus"}, {"ChorusLive"}, {"a", "B", "c"}, {"ÅNGSTRÖM", "İstanbul", "مرحبا", "🎉"}, {"x", "y", "Z"}} {
		want := make([]string, len(tags))
		for i, tag := range tags {
			want[i] = strings.ToLower(tag)
		}
		before := slices.Clone(tags)
		if got := lowerAll(tags); !slices.Equal(got, want) {
			t.Errorf("lowerAll(%q) = %q, want %q", tags, got, want)
		}
		if !slices.Equal(tags, before) {
			t.Errorf("lowerAll changed its argument: %q, was %q", tags, before)
		}
	}
}

func TestPairKeysAreSeenAndGoneKeys(t *testing.T) {
	streams := []*Policy{{Stream: config.Stream{ID: "wall"}}, {Stream: config.Stream{ID: "bench"}}}
	for _, id := range []string{"x:1", "", "mastodon:https://social.example/@ana/1?x=<y>&z", "\xff bad utf8", "مرحبا 🎉"} {
		seen, gone := pairKeys(streams, id)
		for i, pol := range streams {
			if seen[i] != SeenKey(pol.Stream.ID, id) || gone[i] != GoneKey(pol.Stream.ID, id) {
				t.Fatalf("pairKeys(%q)[%d] = %q, %q; want %q, %q", id, i, seen[i], gone[i], SeenKey(pol.Stream.ID, id), GoneKey(pol.Stream.ID, id))
			}
		}
	}
	if seen, gone := pairKeys(nil, "x:1"); seen != nil || gone != nil {
		t.Fatal("pairKeys of no stream")
	}
}

// simhashReference is simhash as it was written first, the definition the
// faster one must keep: a count per bit over hash/fnv's FNV-1a of each
// word pair.
func simhashReference(toks []string) uint64 {
	var ones [64]int
	n := 0
	h := fnv.New64a()
	for i := 0; i+1 < len(toks); i++ {
		h.Reset()
		h.Write([]byte(toks[i]))
		h.Write([]byte{' '})
		h.Write([]byte(toks[i+1]))
		x := mix(h.Sum64())
		for b := range 64 {
			ones[b] += int(x >> b & 1)
		}
		n++
	}
	var out uint64
	for b := range 64 {
		if 2*ones[b] > n {
			out |= 1 << b
		}
	}
	return out
}

func TestSimhashMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vocab := tokenize(strings.Join(tokenizeCases, " "))
	// 254 to 257 and 600 words run the byte counters past a flush.
	for _, n := range []int{0, 1, 2, 3, 8, 9, 100, 254, 255, 256, 257, 511, 600, 2000} {
		for range 20 {
			toks := make([]string, n)
			for i := range toks {
				toks[i] = vocab[rng.IntN(len(vocab))]
			}
			if got, want := simhash(toks), simhashReference(toks); got != want {
				t.Fatalf("simhash of %d words = %x, want %x", n, got, want)
			}
		}
	}
	// The same pair every time: each count reaches n, every byte counter
	// overflows without its flushes.
	same := slices.Repeat([]string{"spam"}, 1000)
	if got, want := simhash(same), simhashReference(same); got != want {
		t.Fatalf("simhash of a repeated word = %x, want %x", got, want)
	}
	if got, want := fnvString(fnvOffset64, "Zoë 🎉"), func() uint64 { h := fnv.New64a(); h.Write([]byte("Zoë 🎉")); return h.Sum64() }(); got != want {
		t.Fatalf("fnvString = %x, want %x", got, want)
	}
}

// The spam memory's author and text hashes are FNV-1a as hash/fnv computes
// it: nodes of an older version share them (CHORUS_TEXTS) and must agree.
func TestSpamHashesAreHashFNV(t *testing.T) {
	for _, c := range tokenizeCases {
		ref := fnv.New64a()
		ref.Write([]byte(c))
		if got, want := hashString(c), ref.Sum64(); got != want {
			t.Fatalf("hashString(%q) = %x, want %x", c, got, want)
		}
		author := hashString("author:" + c)
		toks := tokenize(c)
		ref.Reset()
		var b [8]byte
		for i := range b {
			b[i] = byte(author >> (8 * i))
		}
		ref.Write(b[:])
		for _, w := range toks {
			ref.Write([]byte(w))
			ref.Write([]byte{0})
		}
		if got, want := hashTokens(author, toks), ref.Sum64(); got != want {
			t.Fatalf("hashTokens of %q = %x, want %x", c, got, want)
		}
	}
}
