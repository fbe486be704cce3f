package wordlist

import (
	"unicode"
	"unicode/utf8"
)

// Bytes that stand for more than one letter in a token's text.
const (
	ambByte  = 0x01 // '1' or '|': i or l
	wildByte = 0x02 // '*': any one letter
	optByte  = 0x03 // a leading '@': a mention sigil, or an a ("@ss")
	maxAmb   = 4    // ambiguous characters read both ways; more are read as i
)

// leet maps a digit or symbol inside a word to the letter it stands for.
func leet(c byte) byte {
	switch c {
	case '0':
		return 'o'
	case '1', '|':
		return ambByte
	case '3':
		return 'e'
	case '4', '@':
		return 'a'
	case '5', '$':
		return 's'
	case '7':
		return 't'
	case '8':
		return 'b'
	case '9':
		return 'g'
	case '!':
		return 'i'
	case '*':
		return wildByte
	}
	return c
}

// token is one word of the stream that entries are matched against: a unit
// with its leetspeak read, a part of a camel-case or letters-and-digits unit,
// or a run of single letters joined ("f u c k").
type token struct {
	off, n     int32 // text in s.tok
	soff       int32 // offset in s.surf the text lines up with byte for byte, or -1
	start, end int32 // span in the original text
	kind       uint8
	amb, wild  uint8
	opt        bool
	first      int32 // a run of single letters: s.units[first : first+count]
	count      int32
	unit       int32 // index in s.units, or -1
	part       bool  // a part of a unit cut by stream(true)
	surf       bool  // the text is s.surf[off : off+n], not in s.tok
}

// text returns the text of t.
func (s *scratch) text(t *token) []byte {
	if t.surf {
		return s.surf[t.off : t.off+t.n]
	}
	return s.tok[t.off : t.off+t.n]
}

type cand struct {
	e          *entry
	start, end int32
}

// scratch is the per-call working memory, pooled so Find does not allocate.
type scratch struct {
	scanner
	tok       []byte
	toks      []token
	ptoks     []token
	needSplit bool
	vl        [2][][]byte // readings of a token, at two nesting levels
	vb        [2][]byte
	sk        [2][]byte
	runs      [2][]uint8
	roff      []int32
	cands     []cand
	acands    []cand
}

// stream turns the scanned units into tokens. With split, camel-case words
// and words mixing letters and digits are cut into their parts.
func (s *scratch) stream(split bool) {
	if split {
		// the tokens of the first pass, with the cut units replaced by parts
		s.ptoks, s.toks = s.toks, s.ptoks[:0]
		for _, t := range s.ptoks {
			if t.unit >= 0 && splittable(&s.units[t.unit]) {
				s.addParts(&s.units[t.unit])
			} else {
				s.toks = append(s.toks, t)
			}
		}
		return
	}
	s.tok = s.tok[:0]
	s.toks = s.toks[:0]
	s.needSplit = false
	us := s.units
	runEnd := 0 // units before runEnd are known not to start a run
	for i := 0; i < len(us); {
		if i >= runEnd && us[i].single() {
			j := i + 1
			for j < len(us) && us[j].single() && us[j].gapJoin {
				j++
			}
			letters := 0
			for k := i; k < j; k++ {
				if us[k].letters > 0 {
					letters++
				}
			}
			if j-i >= 3 && letters >= 2 {
				s.addRun(i, j)
				i = j
				continue
			}
			// no part of a run too short or without letters can be one
			runEnd = j
		}
		if splittable(&us[i]) {
			s.needSplit = true
		}
		s.addUnit(int32(i))
		i++
	}
}

// appendWord appends the surface b to s.tok, reading leetspeak when the
// word has letters, and fills t's counts.
func (s *scratch) appendWord(t *token, b []byte, letters bool, atStart bool) {
	for i, c := range b {
		if letters && c < utf8.RuneSelf {
			if c == '@' && i == 0 && atStart {
				c = optByte
			} else {
				c = leet(c)
			}
			switch c {
			case ambByte:
				t.amb++
			case wildByte:
				t.wild++
			case optByte:
				t.opt = true
			}
		}
		s.tok = append(s.tok, c)
	}
	t.n = int32(len(s.tok)) - t.off
}

// splittable reports whether u is a camel-case word or mixes letters and
// digits.
func splittable(u *unit) bool {
	return u.kind == kindWord && (u.bn > 0 || u.letters > 0 && u.digits > 0)
}

func (s *scratch) addUnit(ui int32) {
	u := &s.units[ui]
	t := token{off: int32(len(s.tok)), soff: u.off, start: u.start, end: u.end, kind: u.kind, unit: ui}
	if u.kind != kindWord || u.letters == 0 || u.leetSyms == 0 && u.digits == 0 {
		// nothing to read as leetspeak: use the surface as it is
		t.off, t.n, t.surf = u.off, u.n, true
	} else {
		s.appendWord(&t, s.surf[u.off:u.off+u.n], true, true)
	}
	s.toks = append(s.toks, t)
}

func (s *scratch) addRun(i, j int) {
	us := s.units
	t := token{off: int32(len(s.tok)), soff: -1, start: us[i].start, end: us[j-1].end, kind: kindWord,
		first: int32(i), count: int32(j - i), unit: -1}
	for k := i; k < j; k++ {
		u := &us[k]
		s.appendWord(&t, s.surf[u.off:u.off+u.n], true, false)
	}
	s.toks = append(s.toks, t)
}

// addParts adds the parts of u: cut before each camel-case capital and
// between letters and digits ("YouAreAnIdiot", "idiot42").
func (s *scratch) addParts(u *unit) {
	b := s.surf[u.off : u.off+u.n]
	bounds := s.bounds[u.boff : u.boff+u.bn]
	from, idx := 0, int32(0)
	prevDigit := false
	for i := 0; i < len(b); {
		r, size := rune(b[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(b[i:])
		}
		digit := r < utf8.RuneSelf && r >= '0' && r <= '9' || r >= utf8.RuneSelf && unicode.IsDigit(r)
		cut := i > 0 && digit != prevDigit
		for len(bounds) > 0 && bounds[0] <= idx {
			if bounds[0] == idx && i > 0 {
				cut = true
			}
			bounds = bounds[1:]
		}
		if cut {
			s.addPart(u, from, i, prevDigit)
			from = i
		}
		prevDigit = digit
		i += size
		idx++
	}
	s.addPart(u, from, len(b), prevDigit)
}

func (s *scratch) addPart(u *unit, a, b int, digits bool) {
	start, end := s.src[u.off+int32(a)], u.end
	if a == 0 {
		start = u.start
	}
	if int32(b) < u.n {
		end = s.src[u.off+int32(b)]
	}
	t := token{off: int32(len(s.tok)), soff: u.off + int32(a), start: start, end: end, kind: kindWord, part: true, unit: -1}
	s.appendWord(&t, s.surf[u.off+int32(a):u.off+int32(b)], !digits, a == 0)
	s.toks = append(s.toks, t)
}

// variants returns the readings of t's text: each ambiguous character read
// both ways. Level keeps nested calls from sharing buffers.
func (s *scratch) variants(t *token, level int) [][]byte {
	b := s.text(t)
	vl := s.vl[level][:0]
	if t.amb == 0 && !t.opt {
		vl = append(vl, b)
		s.vl[level] = vl
		return vl
	}
	k := 0
	for _, c := range b {
		if (c == ambByte || c == optByte) && k < maxAmb {
			k++
		}
	}
	buf := s.vb[level][:0]
	for mask := 0; mask < 1<<k; mask++ {
		from := len(buf)
		bit := 0
		for _, c := range b {
			switch c {
			case ambByte, optByte:
				alt := bit < k && mask&(1<<bit) != 0
				bit++
				switch {
				case c == ambByte && alt:
					buf = append(buf, 'l')
				case c == ambByte:
					buf = append(buf, 'i')
				case !alt:
					buf = append(buf, 'a')
				}
			default:
				buf = append(buf, c)
			}
		}
		vl = append(vl, buf[from:len(buf):len(buf)])
	}
	s.vb[level] = buf
	s.vl[level] = vl
	return vl
}

// collect appends to dst the entries of x that match at token i.
func (x *index) collect(s *scratch, i int, dst []cand) []cand {
	t := &s.toks[i]
	if len(x.first) > 0 {
		if t.amb == 0 && !t.opt {
			dst = x.collectAt(s, i, s.text(t), dst)
		} else {
			for _, v := range s.variants(t, 0) {
				dst = x.collectAt(s, i, v, dst)
			}
		}
	}
	if t.kind == kindCJK && len(x.cjk) > 0 {
		dst = x.inCJK(s, t, dst)
	}
	if t.wild > 0 && len(x.byLen) > 0 {
		dst = x.wildcard(s, t, dst)
	}
	if t.count >= 4 && len(x.first) > 0 {
		dst = x.windows(s, t, dst)
	}
	return dst
}

// collectAt appends the entries whose first token matches v, one reading of
// token i, and whose other tokens match the tokens after it.
func (x *index) collectAt(s *scratch, i int, v []byte, dst []cand) []cand {
	t := &s.toks[i]
	cjk := t.kind == kindCJK
	key, runs := v, []uint8(nil) // nil runs: every run is one letter long
	if !cjk && mayRepeat(v) {
		s.sk[0], s.runs[0] = skeleton(v, s.sk[0][:0], s.runs[0][:0])
		key, runs = s.sk[0], s.runs[0]
	}
	if !x.filter.has(key) {
		return dst
	}
	for _, e := range x.first[string(key)] {
		et := &e.toks[0]
		if et.cjk != cjk || !cjk && !et.runsOK(runs) {
			continue
		}
		if j, ok := s.rest(i+1, e.toks[1:]); ok {
			dst = append(dst, cand{e: e, start: t.start, end: s.toks[j-1].end})
		}
	}
	return dst
}

// mayRepeat reports whether b may hold a run of one letter: it has two equal
// bytes in a row, or any non-ASCII byte (checked the slow way).
func mayRepeat(b []byte) bool {
	for i, c := range b {
		if c >= utf8.RuneSelf || i > 0 && c == b[i-1] {
			return true
		}
	}
	return false
}

// rest matches the tokens of an entry after its first one from token i on
// and returns the index after the last.
func (s *scratch) rest(i int, ets []etok) (int, bool) {
	for k := range ets {
		if i+k >= len(s.toks) || !s.tokEq(&s.toks[i+k], &ets[k]) {
			return 0, false
		}
	}
	return i + len(ets), true
}

func (s *scratch) tokEq(t *token, et *etok) bool {
	if (t.kind == kindCJK) != et.cjk {
		return false
	}
	for _, v := range s.variants(t, 1) {
		if et.cjk {
			if string(v) == et.text {
				return true
			}
			continue
		}
		s.sk[1], s.runs[1] = skeleton(v, s.sk[1][:0], s.runs[1][:0])
		if string(s.sk[1]) == et.skel && runsOK(s.runs[1], et.runs) {
			return true
		}
	}
	return false
}

// inCJK finds entries inside a run of Chinese, Japanese or Thai text.
func (x *index) inCJK(s *scratch, t *token, dst []cand) []cand {
	b := s.text(t)
	for p := 0; p < len(b); {
		r, size := utf8.DecodeRune(b[p:])
		for _, e := range x.cjk[r] {
			w := e.toks[0].text
			if len(b)-p >= len(w) && string(b[p:p+len(w)]) == w {
				start, end := s.src[t.soff+int32(p)], t.end
				if q := p + len(w); q < len(b) {
					end = s.src[t.soff+int32(q)]
				}
				dst = append(dst, cand{e: e, start: start, end: end})
			}
		}
		p += size
	}
	return dst
}

// wildcard matches a word with '*' for letters ("sh*t", "f**k") against
// one-word entries of the same length. At least two letters must be given,
// and no fewer than the stars: "s***" could be anything.
func (x *index) wildcard(s *scratch, t *token, dst []cand) []cand {
	for _, v := range s.variants(t, 0) {
		n := utf8.RuneCount(v)
		if letters := n - int(t.wild); letters < 2 || letters < int(t.wild) {
			return dst
		}
		for _, e := range x.byLen[n] {
			if wildEq(v, e.toks[0].text) {
				dst = append(dst, cand{e: e, start: t.start, end: t.end})
			}
		}
	}
	return dst
}

func wildEq(v []byte, w string) bool {
	for len(v) > 0 && len(w) > 0 {
		rv, nv := utf8.DecodeRune(v)
		rw, nw := utf8.DecodeRuneInString(w)
		if rv != rw && !(rv == wildByte && unicode.IsLetter(rw)) {
			return false
		}
		v, w = v[nv:], w[nw:]
	}
	return len(v) == 0 && len(w) == 0
}

// windows matches one-word entries against parts of a run of single letters
// ("what a f u c k" joins to "afuck", which holds "fuck").
func (x *index) windows(s *scratch, t *token, dst []cand) []cand {
	const maxRun = 24
	b := s.text(t)
	s.roff = s.roff[:0]
	for p := range b {
		if !utf8.RuneStart(b[p]) {
			continue
		}
		s.roff = append(s.roff, int32(p))
	}
	s.roff = append(s.roff, int32(len(b)))
	n := min(int(t.count), len(s.roff)-1, maxRun)
	for a := 0; a+3 <= n; a++ {
		for z := a + 3; z <= n; z++ {
			if a == 0 && z == int(t.count) {
				continue
			}
			w := b[s.roff[a]:s.roff[z]]
			wt := token{off: int32(len(s.tok)), soff: -1, kind: kindWord, unit: -1}
			s.tok = append(s.tok, w...)
			wt.n = int32(len(w))
			for _, c := range w {
				if c == ambByte {
					wt.amb++
				}
			}
			for _, v := range s.variants(&wt, 1) {
				s.sk[1], s.runs[1] = skeleton(v, s.sk[1][:0], s.runs[1][:0])
				if !x.filter.has(s.sk[1]) {
					continue
				}
				for _, e := range x.first[string(s.sk[1])] {
					if len(e.toks) == 1 && !e.toks[0].cjk && runsOK(s.runs[1], e.toks[0].runs) {
						us := s.units[t.first:]
						dst = append(dst, cand{e: e, start: us[a].start, end: us[z-1].end})
					}
				}
			}
			s.tok = s.tok[:wt.off]
		}
	}
	return dst
}

// filter is a one-hash Bloom filter over the keys of index.first: most
// words of a post are in no list, and this turns them away without hashing
// a string into the map.
type filter [1 << 10]uint64

func filterHash(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	return h ^ h>>16
}

func (f *filter) add(b []byte) {
	h := filterHash(b) & (uint32(len(f))*64 - 1)
	f[h/64] |= 1 << (h % 64)
}

func (f *filter) has(b []byte) bool {
	h := filterHash(b) & (uint32(len(f))*64 - 1)
	return f[h/64]&(1<<(h%64)) != 0
}
