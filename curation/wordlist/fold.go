package wordlist

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Folding turns text into units: runs of letters, digits and leet symbols
// ("word" units) or runs of characters from scripts written without spaces
// (Chinese, Japanese, Thai, ...: "cjk" units), each with a folded surface.
// The list and the text go through the same code, so whatever the folding
// does, both sides agree. See docs/wordlist.md for why each step is there.

const (
	kindWord uint8 = iota
	kindCJK
	kindSym // one emoji or other pictographic symbol
)

// unit is one run of word characters in the scanned text.
type unit struct {
	start, end int32 // span in the original text
	off, n     int32 // surface bytes: s.surf[off : off+n]
	boff, bn   int32 // camel-case boundaries: s.bounds[boff : boff+bn] (rune indexes)
	kind       uint8
	gapJoin    bool // the separators before the unit are all joinable ("f.u.c.k")
	letters    int32
	digits     int32
	leetSyms   int32 // @ $ ! | * (a leet reading is needed)
	runes      int32
	// homoglyph bookkeeping
	latin, conf, other int32
}

// single reports whether u is one letter, digit or leet symbol, the stuff
// of "f u c k" and "s.h.1.t".
func (u *unit) single() bool { return u.kind == kindWord && u.runes == 1 }

// scanner holds the state of one scan; it lives in a scratch.
type scanner struct {
	surf   []byte  // folded surfaces of all units
	src    []int32 // original offset of the rune each surface byte came from
	bounds []int32 // camel-case boundaries, rune indexes within a unit
	units  []unit
	syms   []unit

	open     bool
	cur      unit
	gap      bool  // the gap since the last unit is joinable so far
	keepN    int32 // surface length up to the last rune that is not trailing punctuation
	keepEnd  int32 // original offset just after that rune
	prevUp   bool  // case of the previous letters, for camel-case boundaries
	prevUp2  bool
	prevLow  bool
	lastOrig int32
}

func (s *scanner) reset() {
	s.surf = s.surf[:0]
	s.src = s.src[:0]
	s.bounds = s.bounds[:0]
	s.units = s.units[:0]
	s.syms = s.syms[:0]
	s.open = false
	s.gap = false
}

// scan folds text into s.units and s.syms.
func (s *scanner) scan(text string) {
	s.reset()
	for i := 0; i < len(text); {
		c := text[i]
		if c >= 'a' && c <= 'z' && s.open && s.cur.kind == kindWord {
			// the common case: a run of lowercase ASCII letters inside a
			// word, letter() inlined for all of them at once
			if s.prevUp && s.prevUp2 {
				s.bounds = append(s.bounds, s.cur.runes-1)
			}
			j := i + 1
			for j < len(text) && text[j] >= 'a' && text[j] <= 'z' {
				j++
			}
			s.prevUp2, s.prevUp, s.prevLow = false, false, true
			s.surf = append(s.surf, text[i:j]...)
			for k := i; k < j; k++ {
				s.src = append(s.src, int32(k))
			}
			n := int32(j - i)
			s.cur.runes += n
			s.cur.letters += n
			s.cur.latin += n
			s.keepN = int32(len(s.surf)) - s.cur.off
			s.keepEnd = int32(j)
			i = j
			continue
		}
		if c < utf8.RuneSelf {
			s.ascii(c, int32(i), int32(i+1))
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		s.nonASCII(text[i:], r, int32(i), int32(i+size))
		i += size
	}
	s.close()
}

// ascii handles one ASCII character, original or produced by decomposition
// (the fullwidth "Ｆ" decomposes to "F", "é" to "e" and an accent).
func (s *scanner) ascii(c byte, os, oe int32) {
	switch {
	case c >= 'a' && c <= 'z':
		s.letter(rune(c), false, true, clsLatin, kindWord, os, oe)
	case c >= 'A' && c <= 'Z':
		s.letter(rune(c+'a'-'A'), true, false, clsLatin, kindWord, os, oe)
	case c >= '0' && c <= '9':
		s.digit(rune(c), os, oe)
	case c == '@' || c == '$' || c == '!' || c == '|' || c == '*':
		s.symbol(c, os, oe)
	case joinableASCII(c):
		s.sep(true, os)
	default:
		s.sep(false, os)
	}
}

func joinableASCII(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\f', '\v', '.', '-', '_', ',', '/', '\\', '+', '~', ':', '\'', '"':
		return true
	}
	return false
}

// nonASCII handles the rune r at the start of rest (which is the original
// text from r on): compatibility decomposition (fullwidth forms, ligatures,
// mathematical letters, circled letters, accents split from their letters),
// then each resulting rune on its own.
func (s *scanner) nonASCII(rest string, r rune, os, oe int32) {
	if r >= 0x4E00 && r <= 0x9FFF || r >= 0xAC00 && r <= 0xD7A3 {
		// Han ideographs and Hangul syllables: no decomposition, no case
		s.foldRune(r, os, oe)
		return
	}
	if invisible(r) {
		return
	}
	p := norm.NFKD.PropertiesString(rest)
	d := p.Decomposition()
	if len(d) == 0 {
		s.foldRune(r, os, oe)
		return
	}
	for len(d) > 0 {
		dr, n := utf8.DecodeRune(d)
		d = d[n:]
		s.foldRune(dr, os, oe)
	}
}

// foldRune handles one decomposed rune.
func (s *scanner) foldRune(r rune, os, oe int32) {
	if r < utf8.RuneSelf {
		s.ascii(byte(r), os, oe)
		return
	}
	if k, ok := fastCJK(r); ok {
		s.letter(r, false, false, clsOther, k, os, oe)
		return
	}
	if invisible(r) || stripMark(r) {
		return
	}
	up := unicode.IsUpper(r)
	low := unicode.IsLower(r)
	lr := unicode.ToLower(r)
	if lr == 'ς' {
		lr = 'σ'
	}
	if m, ok := foldLatin(lr); ok {
		for i := 0; i < len(m); i++ {
			s.letter(rune(m[i]), up && i == 0, low || i > 0, clsLatin, kindWord, os, oe)
		}
		return
	}
	switch {
	case unicode.IsLetter(lr):
		s.letter(lr, up, low, classify(lr), scriptKind(lr), os, oe)
	case unicode.IsMark(lr):
		s.mark(lr, os, oe)
	case unicode.IsDigit(lr):
		s.digit(lr, os, oe)
	case unicode.IsSpace(lr) || joinableRune(lr):
		s.sep(true, os)
	case unicode.Is(unicode.So, lr):
		s.sym(lr, os, oe)
	default:
		s.sep(false, os)
	}
}

func joinableRune(r rune) bool {
	switch {
	case r == 0x00B7 || r == 0x2022 || r == 0x2027 || r == 0x30FB: // middle dots, bullet
		return true
	case r >= 0x2010 && r <= 0x2015: // dashes
		return true
	}
	return false
}

// invisible reports characters that render as nothing and are used to break
// a word up without changing its look: zero-width spaces and joiners, word
// joiner, byte order mark, soft hyphen, bidi controls, variation selectors,
// emoji skin tones, tatweel.
func invisible(r rune) bool {
	switch {
	case r == 0x00AD, r == 0x034F, r == 0x061C, r == 0x0640, r == 0x115F, r == 0x1160,
		r == 0x17B4, r == 0x17B5, r == 0x180E, r == 0x3164, r == 0xFEFF, r == 0xFFA0:
		return true
	case r >= 0x200B && r <= 0x200F, r >= 0x202A && r <= 0x202E, r >= 0x2060 && r <= 0x206F:
		return true
	case r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0000 && r <= 0xE0FFF:
		return true
	case r >= 0x1F3FB && r <= 0x1F3FF: // skin tones
		return true
	}
	return false
}

// stripMark reports combining marks that are diacritics to drop: the
// generic combining diacritics (accents on Latin, Greek, Cyrillic), Arabic
// harakat and Hebrew points. Marks that are letters in their script (the
// vowel signs of Devanagari, Thai, the Japanese voicing marks) are kept.
func stripMark(r rune) bool {
	switch {
	case r >= 0x0300 && r <= 0x036F, r >= 0x1AB0 && r <= 0x1AFF, r >= 0x1DC0 && r <= 0x1DFF,
		r >= 0x20D0 && r <= 0x20FF, r >= 0xFE20 && r <= 0xFE2F:
		return true
	case r >= 0x0610 && r <= 0x061A, r >= 0x064B && r <= 0x065F, r == 0x0670,
		r >= 0x06D6 && r <= 0x06DC, r >= 0x06DF && r <= 0x06E4, r == 0x06E7, r == 0x06E8,
		r >= 0x06EA && r <= 0x06ED:
		return true
	case r >= 0x0591 && r <= 0x05BD, r == 0x05BF, r == 0x05C1, r == 0x05C2, r == 0x05C4,
		r == 0x05C5, r == 0x05C7:
		return true
	}
	return false
}

// scriptKind tells letters of scripts written without spaces between words.
func scriptKind(r rune) uint8 {
	if r < 0x0E00 || r >= 0xAC00 && r <= 0xD7A3 {
		return kindWord
	}
	if k, ok := fastCJK(r); ok {
		return k
	}
	if r == 0x30FC || r == 0x3005 || unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana,
		unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar, unicode.Bopomofo) {
		return kindCJK
	}
	return kindWord
}

const (
	clsLatin = iota
	clsConf  // a letter from another script that looks like a Latin one
	clsOther
)

func classify(r rune) int {
	switch {
	case r < 0x0250:
		return clsLatin
	case r >= 0x0370 && r < 0x0590:
		if _, ok := confusable[r]; ok {
			return clsConf
		}
		return clsOther
	case r >= 0x0590 && r < 0x1D00, r >= 0x2E00 && r < 0xA700, r >= 0xAB70 && r < 0xFB00:
		return clsOther
	case unicode.Is(unicode.Latin, r):
		return clsLatin
	}
	return clsOther
}

// fastCJK tells the letters of the scripts written without spaces (and
// Hangul, which has spaces) that need no folding, without a table search.
func fastCJK(r rune) (uint8, bool) {
	switch {
	case r >= 0x4E00 && r <= 0x9FFF, r >= 0x3400 && r <= 0x4DBF,
		r >= 0x3041 && r <= 0x3096, r >= 0x30A1 && r <= 0x30FA, r >= 0x30FC && r <= 0x30FF:
		return kindCJK, true
	case r >= 0xAC00 && r <= 0xD7A3:
		return kindWord, true
	}
	return 0, false
}

func foldLatin(r rune) (string, bool) {
	if r < 0x00C0 || r >= 0x0300 && r < 0x1D00 || r >= 0x1D30 && r < 0xA700 || r >= 0xA800 {
		return "", false
	}
	m, ok := latinFold[r]
	return m, ok
}

// latinFold maps Latin letters that have no Unicode decomposition to the
// plain letters they are read as (Polish ł, Danish ø, German ß), and Latin
// small capitals and other Latin look-alikes to the letter they imitate.
var latinFold = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ł': "l", 'ø': "o", 'đ': "d", 'ð': "d", 'ħ': "h",
	'ŧ': "t", 'ı': "i", 'ŀ': "l", 'ƒ': "f", 'ɑ': "a", 'ɡ': "g", 'ɩ': "i", 'ĸ': "k",
	'ᴀ': "a", 'ʙ': "b", 'ᴄ': "c", 'ᴅ': "d", 'ᴇ': "e", 'ꜰ': "f", 'ɢ': "g", 'ʜ': "h",
	'ɪ': "i", 'ᴊ': "j", 'ᴋ': "k", 'ʟ': "l", 'ᴍ': "m", 'ɴ': "n", 'ᴏ': "o", 'ᴘ': "p",
	'ʀ': "r", 'ꜱ': "s", 'ᴛ': "t", 'ᴜ': "u", 'ᴠ': "v", 'ᴡ': "w", 'ʏ': "y", 'ᴢ': "z",
}

// confusable maps lowercase Cyrillic, Greek and Armenian letters that look
// like Latin letters (in lowercase or in capitals) to those letters. Each
// pair agrees with the Unicode confusables data (UTS #39) for the lowercase
// or the capital form. It is applied only to a unit that mixes such letters
// with Latin ones, or that is made of nothing else: a Russian word with one
// unmistakably Cyrillic letter stays Cyrillic.
var confusable = map[rune]byte{
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p',
	'с': 'c', 'т': 't', 'у': 'y', 'х': 'x', 'ѕ': 's', 'і': 'i', 'ј': 'j', 'ԁ': 'd',
	'ԛ': 'q', 'ԝ': 'w', 'һ': 'h', 'ү': 'y', 'ӏ': 'l',
	// Greek
	'α': 'a', 'β': 'b', 'γ': 'y', 'ε': 'e', 'ζ': 'z', 'η': 'n', 'ι': 'i', 'κ': 'k',
	'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x', 'ω': 'w', 'ϲ': 'c',
	'ϳ': 'j',
	// Armenian
	'օ': 'o', 'ս': 'u', 'հ': 'h', 'զ': 'q', 'ո': 'n', 'ց': 'g',
}

func (s *scanner) start(kind uint8, os int32) {
	s.open = true
	s.cur = unit{start: os, off: int32(len(s.surf)), boff: int32(len(s.bounds)), kind: kind, gapJoin: s.gap}
	s.keepN, s.keepEnd = 0, os
	s.prevUp, s.prevUp2, s.prevLow = false, false, false
}

func (s *scanner) put(r rune, os int32) {
	n := len(s.surf)
	s.surf = utf8.AppendRune(s.surf, r)
	for range len(s.surf) - n {
		s.src = append(s.src, os)
	}
	s.cur.runes++
}

func (s *scanner) keep(oe int32) {
	s.keepN = int32(len(s.surf)) - s.cur.off
	s.keepEnd = oe
	s.lastOrig = oe
}

func (s *scanner) letter(r rune, up, low bool, cls int, kind uint8, os, oe int32) {
	if s.open && s.cur.kind != kind {
		s.close()
	}
	if !s.open {
		s.start(kind, os)
	}
	if kind == kindWord {
		idx := s.cur.runes
		switch {
		case up && s.prevLow:
			s.bounds = append(s.bounds, idx)
		case low && s.prevUp && s.prevUp2:
			s.bounds = append(s.bounds, idx-1)
		}
		s.prevUp2, s.prevUp, s.prevLow = s.prevUp, up, low
	}
	s.put(r, os)
	s.cur.letters++
	switch cls {
	case clsLatin:
		s.cur.latin++
	case clsConf:
		s.cur.conf++
	default:
		s.cur.other++
	}
	s.keep(oe)
}

// mark handles a combining mark that belongs to its letter (Devanagari
// vowel signs, Japanese voicing marks): it joins the unit it follows.
func (s *scanner) mark(r rune, os, oe int32) {
	if !s.open {
		s.start(kindWord, os)
	}
	s.put(r, os)
	s.cur.letters++
	s.cur.other++
	s.keep(oe)
}

func (s *scanner) digit(r rune, os, oe int32) {
	if s.open && s.cur.kind != kindWord {
		s.close()
	}
	if !s.open {
		s.start(kindWord, os)
	}
	s.prevUp2, s.prevUp, s.prevLow = false, false, false
	s.put(r, os)
	s.cur.digits++
	s.keep(oe)
}

// symbol handles the leet symbols @ $ ! | *. Inside a word they stand for
// letters (or, for *, any letter); '!', '|', '*' and '@' at the end of a
// word are punctuation, and '!', '|', '*' cannot start one ("!!!", "*bold*").
func (s *scanner) symbol(c byte, os, oe int32) {
	if s.open && s.cur.kind != kindWord {
		s.close()
	}
	if !s.open {
		if c != '@' && c != '$' {
			s.sep(false, os)
			return
		}
		s.start(kindWord, os)
	}
	s.prevUp2, s.prevUp, s.prevLow = false, false, false
	s.put(rune(c), os)
	s.cur.leetSyms++
	if c == '$' {
		s.keep(oe)
	}
}

func (s *scanner) sym(r rune, os, oe int32) {
	s.close()
	s.gap = false
	off := int32(len(s.surf))
	s.surf = utf8.AppendRune(s.surf, r)
	for range int32(len(s.surf)) - off {
		s.src = append(s.src, os)
	}
	s.syms = append(s.syms, unit{start: os, end: oe, off: off, n: int32(len(s.surf)) - off, kind: kindSym, runes: 1})
}

func (s *scanner) sep(joinable bool, os int32) {
	s.close()
	if !joinable {
		s.gap = false
	}
}

// close ends the open unit: trailing punctuation is cut, a unit without a
// letter or digit is dropped, and a unit that mixes look-alike letters with
// Latin ones is rewritten in Latin.
func (s *scanner) close() {
	if !s.open {
		return
	}
	s.open = false
	u := &s.cur
	full := int32(len(s.surf)) - u.off
	if s.keepN < full {
		// trailing "!", "|", "*" or "@" (all one byte): punctuation, not
		// part of the word
		u.runes -= full - s.keepN
		s.surf = s.surf[:u.off+s.keepN]
		s.src = s.src[:u.off+s.keepN]
		s.gap = false
	} else {
		s.gap = true
	}
	u.n = s.keepN
	u.end = s.keepEnd
	if u.letters == 0 && u.digits == 0 {
		s.surf = s.surf[:u.off]
		s.src = s.src[:u.off]
		s.bounds = s.bounds[:u.boff]
		s.gap = false
		return
	}
	// drop boundaries that fell into the cut tail
	bn := int32(len(s.bounds)) - u.boff
	for bn > 0 && s.bounds[u.boff+bn-1] >= u.runes {
		bn--
	}
	s.bounds = s.bounds[:u.boff+bn]
	u.bn = bn
	if u.conf > 0 && (u.latin > 0 || u.other == 0) {
		s.delatin(u)
	}
	s.units = append(s.units, *u)
}

// delatin rewrites the look-alike letters of u in Latin, in place.
func (s *scanner) delatin(u *unit) {
	w := u.off
	for r := u.off; r < u.off+u.n; {
		c, size := utf8.DecodeRune(s.surf[r:])
		if l, ok := confusable[c]; ok {
			s.surf[w] = l
			s.src[w] = s.src[r]
			w++
		} else {
			copy(s.surf[w:], s.surf[r:r+int32(size)])
			copy(s.src[w:], s.src[r:r+int32(size)])
			w += int32(size)
		}
		r += int32(size)
	}
	s.surf = s.surf[:w]
	s.src = s.src[:w]
	u.latin += u.conf
	u.conf = 0
	u.n = w - u.off
}

// render writes the scanned text back in folded form: units in their
// folded spelling, capitals kept only where they cut a camel-case word,
// joinable gaps as a space and other gaps as " ; ". Scanning the rendering
// again gives the same units, which the fuzz test holds Find to.
func (s *scanner) render() string {
	var b []byte
	ui, si := 0, 0
	for ui < len(s.units) || si < len(s.syms) {
		var u *unit
		if si >= len(s.syms) || ui < len(s.units) && s.units[ui].start < s.syms[si].start {
			u = &s.units[ui]
			ui++
		} else {
			u = &s.syms[si]
			si++
		}
		if len(b) > 0 {
			if u.kind != kindSym && u.gapJoin {
				b = append(b, ' ')
			} else {
				b = append(b, " ; "...)
			}
		}
		bounds := s.bounds[u.boff : u.boff+u.bn]
		idx := int32(0)
		for _, r := range string(s.surf[u.off : u.off+u.n]) {
			if len(bounds) > 0 && bounds[0] == idx {
				r = unicode.ToUpper(r)
				bounds = bounds[1:]
			}
			b = utf8.AppendRune(b, r)
			idx++
		}
	}
	return string(b)
}
