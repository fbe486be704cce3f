package enrich

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// ngrams.bin.gz holds unigram, bigram and trigram probabilities of the
// languages in internal/ngramgen's list, taken from lingua-go's models
// (Apache License 2.0; see LICENSE.lingua). go generate rebuilds it.
//
//go:generate go run ./internal/ngramgen -out .
//go:embed ngrams.bin.gz
var ngramData []byte

// readModels reads ngrams.bin.gz and calls use for each n-gram of each
// language (its bytes, valid only during the call, and -log p in
// 1/1024ths), keeping nothing itself: Enrichers hold only their
// languages' tables. It skips the languages want rejects without a call.
// It streams the file rather than holding it decompressed (8 MB that the
// process would keep in its resident memory long after start).
func readModels(want func(code string) bool, use func(code string, ngram []byte, q uint16)) error {
	zr, err := gzip.NewReader(bytes.NewReader(ngramData))
	if err != nil {
		return err
	}
	r := bufio.NewReaderSize(zr, 64<<10)
	var head [7]byte
	if _, err := io.ReadFull(r, head[:]); err != nil || string(head[:5]) != "CHNG1" {
		return errors.New("not a CHNG1 file")
	}
	var buf [255 + 4]byte
	// field reads n bytes after a length byte; a file that ends early is
	// truncated.
	field := func(extra int) ([]byte, error) {
		l, err := r.ReadByte()
		if err == nil {
			_, err = io.ReadFull(r, buf[:int(l)+extra])
		}
		if err != nil {
			return nil, errors.New("truncated")
		}
		return buf[:int(l)+extra], nil
	}
	for n := binary.LittleEndian.Uint16(head[5:]); n > 0; n-- {
		b, err := field(4)
		if err != nil {
			return err
		}
		code := string(b[:len(b)-4])
		count := binary.LittleEndian.Uint32(b[len(b)-4:])
		keep := want(code)
		for range count {
			b, err := field(2)
			if err != nil {
				return err
			}
			if keep {
				use(code, b[:len(b)-2], binary.LittleEndian.Uint16(b[len(b)-2:]))
			}
		}
	}
	return nil
}

// modelLanguages lists the languages with an n-gram model.
var modelLanguages = sync.OnceValue(func() []string {
	seen := map[string]bool{}
	var codes []string
	_ = readModels(func(code string) bool {
		if !seen[code] {
			seen[code] = true
			codes = append(codes, code)
		}
		return false
	}, nil)
	slices.Sort(codes)
	return codes
})

// detector tells apart languages written in the same script by their
// character n-grams: a text scores, for each language, the sum over its
// distinct trigrams of log P(trigram), falling back to the trigram's
// leading bigram and then its first letter where the language has not seen
// it, and to a floor below every known unigram where it has not seen the
// letter either. The scoring is lingua's low-accuracy mode; the tables are
// flat and built only for the languages asked for, so a post costs a few
// microseconds instead of lingua's 100-300.
type detector struct {
	langs []string
	// rows maps a packed n-gram to the start of its row in cost: one -log p
	// in 1/1024ths per language, absent where the language lacks it. It is
	// filled while the models are read (building) and then packed into a
	// table half the size of a map's.
	rows     rowTable
	building map[uint64]int32
	cost     []uint16
	// floor is what a letter the language has not seen costs.
	floor []uint16
	// marks maps a letter that only some languages of the set write to
	// their columns (see letterLanguages).
	marks map[rune][]int
}

// letterLanguages are letters only some languages write, lingua-go's rules
// (its charsToLanguagesMapping and unique characters, lowercased): a text
// where at least half the words carry such letters is judged among the
// languages that write them only. Languages without a model are ignored.
var letterLanguages = []struct{ letters, langs string }{
	{"ã", "pt vi"}, {"ąę", "lt pl"}, {"ż", "pl ro"}, {"î", "fr ro"}, {"ñ", "eu es"}, {"ňť", "cs sk"},
	{"ă", "ro vi"}, {"ığ", "az tr"}, {"ẹọ", "vi yo"}, {"ðþ", "is tr"}, {"û", "fr hu"},
	{"ş", "az ro tr"}, {"ď", "cs ro sk"}, {"ć", "bs hr pl"}, {"đ", "bs hr vi"}, {"і", "be kk uk"},
	{"ì", "it vi yo"}, {"ø", "nb da nn"}, {"ë", "af sq nl fr"}, {"èù", "fr it vi yo"}, {"ê", "af fr pt vi"},
	{"õ", "et hu pt vi"}, {"ô", "fr pt sk vi"}, {"ёыэ", "be kk mn ru"}, {"щъ", "bg kk mn ru"},
	{"ò", "ca it vi yo"}, {"æ", "nb da is nn"}, {"å", "nb da nn sv"}, {"ý", "cs is sk tr vi"},
	{"ä", "et fi de sk sv"}, {"à", "ca fr it pt vi"}, {"â", "fr pt ro tr vi"},
	{"ü", "az ca et de hu es tr"}, {"čšž", "bs cs hr lv lt sk sl"}, {"ç", "sq az eu ca fr pt tr"},
	{"ö", "az et fi de hu is sv tr"}, {"ó", "ca hu is ga pl pt sk es vi yo"},
	{"áíú", "ca cs is ga hu pt sk es vi yo"}, {"é", "ca cs fr hu is ga it pt sk es vi yo"},
	{"ěřů", "cs"}, {"ĉĝĥĵŝŭ", "eo"}, {"ß", "de"}, {"őű", "hu"}, {"łńśź", "pl"}, {"¿¡", "es"},
	{"ґєї", "uk"}, {"ằầẳẩẵẫắấạặậềẻểẽễếệỉĩịơồờỏổởỗỡốớộợưừủửũữứụựỳỷỹỵ", "vi"},
}

// absent marks a language's missing n-gram in a row.
const absent = math.MaxUint16

// newDetectors builds a detector for each set of languages, reading the
// models once.
func newDetectors(sets [][]string) ([]*detector, error) {
	type place struct{ d, j int }
	where := map[string][]place{}
	ds := make([]*detector, len(sets))
	found := map[string]bool{}
	for i, codes := range sets {
		ds[i] = newEmptyDetector(codes)
		for j, c := range codes {
			where[c] = append(where[c], place{i, j})
		}
	}
	err := readModels(func(code string) bool {
		_, ok := where[code]
		found[code] = found[code] || ok
		return ok
	}, func(code string, ngram []byte, q uint16) {
		key, runes, ok := packNgram(ngram)
		if !ok || key == 0 { // 0 marks an empty slot in rowTable

			return
		}
		q = min(q, absent-1)
		for _, p := range where[code] {
			ds[p.d].set(key, runes, p.j, q)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("enrich: language models: %w", err)
	}
	for _, codes := range sets {
		for _, c := range codes {
			if !found[c] {
				return nil, fmt.Errorf("enrich: language %q: no detection model (models: %s)", c, strings.Join(modelLanguages(), " "))
			}
		}
	}
	for _, d := range ds {
		d.finish()
	}
	return ds, nil
}

func newEmptyDetector(codes []string) *detector {
	d := &detector{langs: codes, building: make(map[uint64]int32, 1<<15), floor: make([]uint16, len(codes)), marks: map[rune][]int{}}
	col := map[string]int{}
	for j, c := range codes {
		col[c] = j
	}
	for _, ll := range letterLanguages {
		for _, r := range ll.letters {
			for code := range strings.FieldsSeq(ll.langs) {
				if j, ok := col[code]; ok {
					d.marks[r] = append(d.marks[r], j)
				}
			}
		}
	}
	return d
}

// set records language j's cost q for the n-gram key of runes letters.
func (d *detector) set(key uint64, runes, j int, q uint16) {
	row, ok := d.building[key]
	if !ok {
		row = int32(len(d.cost))
		d.building[key] = row
		for range d.langs {
			d.cost = append(d.cost, absent)
		}
	}
	d.cost[row+int32(j)] = q
	if runes == 1 {
		d.floor[j] = max(d.floor[j], q)
	}
}

// finish sets each language's floor and fills the trigram rows' gaps.
func (d *detector) finish() {
	for j := range d.langs {
		// Ten times rarer than its rarest letter.
		d.floor[j] = uint16(min(float64(d.floor[j])+math.Ln10*1024, absent-1))
	}
	// Fill each trigram row's gaps with what scoring would fall back to, so
	// a known trigram costs one lookup.
	d.rows = newRowTable(d.building)
	d.building = nil
	for i, key := range d.rows.keys {
		row := d.rows.rows[i]
		if key>>42 == 0 {
			continue // not a trigram
		}
		for j := range d.langs {
			if d.cost[row+int32(j)] == absent {
				d.cost[row+int32(j)] = d.fallback(key, j)
			}
		}
	}
}

// rowTable is an open-addressed hash table from packed n-grams to rows:
// keys and rows side by side, a quarter or more of the slots empty (key
// 0, which no n-gram packs to).
type rowTable struct {
	keys  []uint64
	rows  []int32
	shift uint8
}

func newRowTable(m map[uint64]int32) rowTable {
	bits := uint8(4)
	for 1<<bits < len(m)+len(m)/3 {
		bits++
	}
	t := rowTable{keys: make([]uint64, 1<<bits), rows: make([]int32, 1<<bits), shift: 64 - bits}
	mask := uint64(1)<<bits - 1
	for key, row := range m {
		i := t.slot(key)
		for t.keys[i] != 0 {
			i = (i + 1) & mask
		}
		t.keys[i], t.rows[i] = key, row
	}
	return t
}

// slot is where a search for key starts (Fibonacci hashing).
func (t rowTable) slot(key uint64) uint64 { return (key * 0x9E3779B97F4A7C15) >> t.shift }

func (t rowTable) get(key uint64) (int32, bool) {
	if len(t.keys) == 0 {
		return 0, false
	}
	mask := uint64(len(t.keys) - 1)
	for i := t.slot(key); ; i = (i + 1) & mask {
		switch t.keys[i] {
		case key:
			return t.rows[i], true
		case 0:
			return 0, false
		}
	}
}

// fallback is what language j scores for a trigram it has not seen: its
// leading bigram's log-probability, else its first letter's, else the
// floor.
func (d *detector) fallback(trigram uint64, j int) uint16 {
	for _, key := range [2]uint64{trigram & (1<<42 - 1), trigram & (1<<21 - 1)} {
		if r, ok := d.rows.get(key); ok {
			if v := d.cost[r+int32(j)]; v != absent {
				return v
			}
		}
	}
	return d.floor[j]
}

// packNgram packs one to three runes into a key.
func packNgram(b []byte) (key uint64, n int, ok bool) {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if n == 3 || r == utf8.RuneError {
			return 0, 0, false
		}
		key |= uint64(r) << (21 * n)
		n++
		b = b[size:]
	}
	return key, n, n > 0
}

// detect scores words (letters and spaces) and returns the likeliest
// language and its confidence: its share of the probability among the set.
func (d *detector) detect(words string) (string, float64) {
	var buf [96]uint64
	tri := buf[:0]
	var w [3]rune
	n := 0
	for _, r := range words {
		if r == ' ' {
			n = 0
			continue
		}
		r = unicode.ToLower(r)
		w[0], w[1], w[2] = w[1], w[2], r
		if n++; n >= 3 {
			tri = append(tri, uint64(w[0])|uint64(w[1])<<21|uint64(w[2])<<42)
		}
	}
	if len(tri) == 0 {
		return "", 0
	}
	slices.Sort(tri)
	tri = slices.Compact(tri)
	k := len(d.langs)
	// Costs are -log p in 1/1024ths: the likeliest language costs least.
	var costBuf [32]int64
	costs := costBuf[:k]
	if k > len(costBuf) {
		costs = make([]int64, k)
	}
	for _, key := range tri {
		if r, ok := d.rows.get(key); ok {
			for j, v := range d.cost[r : r+int32(k)] {
				costs[j] += int64(v)
			}
			continue
		}
		for j := range k { // a trigram no language of the set has seen
			costs[j] += int64(d.fallback(key, j))
		}
	}
	in := d.candidates(words)
	best := -1
	for j := range k {
		if in&(1<<j) != 0 && (best < 0 || costs[j] < costs[best]) {
			best = j
		}
	}
	total := 0.0
	for j := range k {
		if in&(1<<j) != 0 {
			total += math.Exp(float64(costs[best]-costs[j]) / 1024)
		}
	}
	return d.langs[best], 1 / total
}

// candidates is the set of languages (a bit per column) the text may be
// in: those writing the marked letters that at least half its words carry,
// or every language when no language gets that many.
func (d *detector) candidates(words string) uint64 {
	all := uint64(1)<<len(d.langs) - 1
	if len(d.marks) == 0 || len(d.langs) > 64 {
		return all
	}
	var counts [64]int
	nwords := 0
	var seen []rune
	for w := range strings.FieldsSeq(words) {
		nwords++
		seen = seen[:0]
		for _, r := range w {
			r = unicode.ToLower(r)
			if cols, ok := d.marks[r]; ok && !slices.Contains(seen, r) {
				seen = append(seen, r)
				for _, j := range cols {
					counts[j]++
				}
			}
		}
	}
	var in uint64
	for j := range d.langs {
		if 2*counts[j] >= nwords && counts[j] > 0 {
			in |= 1 << j
		}
	}
	if in == 0 {
		return all
	}
	return in
}
