// Package wordlist finds listed words and phrases in text as whole words,
// seeing through the usual ways of dodging a filter: case, accents, leetspeak
// ("sh1t", "@ss"), stretched letters ("fuuuuck"), invisible characters,
// look-alike letters from other scripts ("fսck" with an Armenian u),
// spaced or dotted letters ("f.u.c.k"), a wildcard for one letter ("sh*t"),
// camel-case hashtags (#YouAreAnIdiot) and handles (total_idiot_42). It
// also carries profanity lists for many languages (see Profanity).
//
// Whole words only: "Scunthorpe", "classic" and "assassin" are not matches
// for "cunt" or "ass". Chinese, Japanese and Thai, written without spaces,
// are the exception: an entry of two or more characters in those scripts
// matches anywhere inside a run of them.
package wordlist

import (
	"bytes"
	"sync"
	"unicode/utf8"
)

// Match is one listed word or phrase found in a text.
type Match struct {
	Word  string // the entry as listed
	Found string // the text as written, e.g. "F.U.C.K" or "#BuyFollowers" for "buy followers"
}

// Options tunes a Matcher.
type Options struct {
	// Allow lists words and phrases never to report, such as a brand or a
	// place name: a match is dropped when an allowed entry covers all of it
	// (Allow "Dick Smith" keeps "dick" from matching in "Dick Smith", and
	// Allow "cum laude" lets "magna cum laude" through). Allowed entries are
	// folded and matched exactly like listed ones.
	Allow []string
}

// Matcher finds listed words and phrases as whole words in text, robust to
// evasion. It is safe for concurrent use. The zero value and nil match
// nothing.
type Matcher struct {
	list, allow index
	pool        sync.Pool
}

// New compiles words (each a word or a phrase, in any script) into a
// Matcher. Entries that fold to nothing (punctuation, empty strings) are
// skipped.
func New(words []string, opts Options) *Matcher {
	m := &Matcher{}
	s := &scratch{}
	m.list.build(s, words)
	m.allow.build(s, opts.Allow)
	m.pool.New = func() any { return &scratch{} }
	return m
}

// Empty reports whether m has no entries.
func (m *Matcher) Empty() bool { return m == nil || m.list.n == 0 }

// Find returns the first listed word or phrase in text. Matches on the
// text's words as written come first, then those found by splitting
// camel-case words and letters from digits (#YouAreAnIdiot, idiot42), then
// listed emoji.
func (m *Matcher) Find(text string) (Match, bool) {
	if m.Empty() || text == "" {
		return Match{}, false
	}
	s := m.pool.Get().(*scratch)
	defer m.pool.Put(s)
	s.scan(text)
	s.stream(false)
	if mt, ok := m.find(s, text, false); ok {
		return mt, true
	}
	if s.needSplit {
		s.stream(true)
		if mt, ok := m.find(s, text, true); ok {
			return mt, true
		}
	}
	for i := range s.syms {
		u := &s.syms[i]
		key := s.surf[u.off : u.off+u.n]
		if e := m.list.sym[string(key)]; e != nil && m.allow.sym[string(key)] == nil {
			return Match{Word: e.word, Found: text[u.start:u.end]}, true
		}
	}
	return Match{}, false
}

// find matches the entries at each token. With parts, it looks only where
// a match would include a part of a cut word: the rest was seen uncut.
func (m *Matcher) find(s *scratch, text string, parts bool) (Match, bool) {
	nextPart := -1
	for i := range s.toks {
		if parts {
			if nextPart < i {
				nextPart = i
				for nextPart < len(s.toks) && !s.toks[nextPart].part {
					nextPart++
				}
			}
			if nextPart-i >= m.list.maxToks {
				continue
			}
		}
		s.cands = m.list.collect(s, i, s.cands[:0])
		for _, c := range s.cands {
			if !m.allowed(s, i, c) {
				return Match{Word: c.e.word, Found: text[c.start:c.end]}, true
			}
		}
	}
	return Match{}, false
}

// allowed reports whether an allowed entry covers the candidate c found at
// token i.
func (m *Matcher) allowed(s *scratch, i int, c cand) bool {
	if m.allow.n == 0 {
		return false
	}
	for k := max(0, i-m.allow.maxToks+1); k <= i; k++ {
		s.acands = m.allow.collect(s, k, s.acands[:0])
		for _, a := range s.acands {
			if a.start <= c.start && a.end >= c.end {
				return true
			}
		}
	}
	return false
}

// entry is one listed word or phrase, folded; an entry whose spelling is
// ambiguous ("2g1c": i or l) is indexed once per reading.
type entry struct {
	word string
	toks []etok
}

// etok is one folded token of an entry.
type etok struct {
	text  string // folded, leet resolved
	skel  string // text with each run of one letter collapsed to one letter
	runs  []uint8
	cjk   bool
	runes int
	ones  bool // every run is one letter long
}

// runsOK reports whether text runs match the entry's; nil text runs are
// all one letter long.
func (t *etok) runsOK(text []uint8) bool {
	if text == nil {
		return t.ones
	}
	return runsOK(text, t.runs)
}

// index holds compiled entries.
type index struct {
	n       int
	maxToks int
	first   map[string][]*entry // skeleton of the first token
	cjk     map[rune][]*entry   // CJK entries of 2+ characters, by first character
	byLen   map[int][]*entry    // one-word entries by length in runes, for wildcards
	sym     map[string]*entry   // emoji
	filter  *filter             // keys of first
}

func (x *index) build(s *scratch, words []string) {
	x.first = map[string][]*entry{}
	x.cjk = map[rune][]*entry{}
	x.byLen = map[int][]*entry{}
	x.sym = map[string]*entry{}
	x.filter = new(filter)
	seen := map[string]bool{}
	for _, w := range words {
		s.scan(w)
		if len(s.units) == 0 {
			if len(s.syms) == 1 {
				u := s.syms[0]
				key := string(s.surf[u.off : u.off+u.n])
				if x.sym[key] == nil {
					x.sym[key] = &entry{word: w}
					x.n++
				}
			}
			continue
		}
		s.stream(false)
		for _, toks := range s.readings() {
			var key bytes.Buffer
			for _, t := range toks {
				key.WriteString(t.text)
				key.WriteByte(0)
			}
			if seen[key.String()] {
				continue
			}
			seen[key.String()] = true
			x.add(&entry{word: w, toks: toks})
		}
	}
}

func (x *index) add(e *entry) {
	x.n++
	x.maxToks = max(x.maxToks, len(e.toks))
	t := e.toks[0]
	switch {
	case len(e.toks) == 1 && t.cjk && t.runes > 1:
		r, _ := utf8.DecodeRuneInString(t.text)
		x.cjk[r] = append(x.cjk[r], e)
	default:
		x.first[t.skel] = append(x.first[t.skel], e)
		x.filter.add([]byte(t.skel))
		if len(e.toks) == 1 && !t.cjk {
			x.byLen[t.runes] = append(x.byLen[t.runes], e)
		}
	}
}

// readings returns the concrete token sequences of the entry just streamed:
// one per reading of its ambiguous characters, none if it has a wildcard.
func (s *scratch) readings() [][]etok {
	out := [][]etok{nil}
	for i := range s.toks {
		t := &s.toks[i]
		if t.wild > 0 {
			return nil
		}
		var next [][]etok
		for _, v := range s.variants(t, 0) {
			et := makeEtok(v, t.kind == kindCJK)
			for _, prefix := range out {
				if len(next) >= maxReadings {
					break
				}
				seq := append(append([]etok(nil), prefix...), et)
				next = append(next, seq)
			}
		}
		out = next
	}
	return out
}

const maxReadings = 16

func makeEtok(b []byte, cjk bool) etok {
	t := etok{text: string(b), cjk: cjk, runes: utf8.RuneCount(b)}
	if cjk {
		t.skel = t.text
		return t
	}
	var sk []byte
	sk, t.runs = skeleton(b, nil, nil)
	t.skel = string(sk)
	t.ones = true
	for _, n := range t.runs {
		t.ones = t.ones && n == 1
	}
	return t
}

// skeleton appends b with each run of one rune collapsed to sk, and the run
// lengths to runs.
func skeleton(b, sk []byte, runs []uint8) ([]byte, []uint8) {
	var prev rune = -1
	for len(b) > 0 {
		r, n := rune(b[0]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRune(b)
		}
		if r == prev && runs[len(runs)-1] < 255 {
			runs[len(runs)-1]++
		} else {
			sk = append(sk, b[:n]...)
			runs = append(runs, 1)
			prev = r
		}
		b = b[n:]
	}
	return sk, runs
}

// runsOK reports whether text runs match an entry's runs: the same length,
// or clearly stretched (three or more, and longer than listed). "fuuuck"
// matches "fuck" and "asss" matches "ass", but "as" does not match "ass",
// and the Finnish "kuusi" (six) does not match "kusi".
func runsOK(text, listed []uint8) bool {
	if len(text) != len(listed) {
		return false
	}
	for i, n := range text {
		if m := listed[i]; n != m && (n < 3 || n < m) {
			return false
		}
	}
	return true
}
