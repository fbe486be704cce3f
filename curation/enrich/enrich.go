// Package enrich adds what networks often leave out of a post: the language
// it is written in and the tone of its text (sentiment), so filters, rules and
// analytics can use both.
//
// Languages are detected behind a cheap pass that lets the writing system
// decide where it can (Hangul is Korean, kana is Japanese, Hebrew script is
// Hebrew ...); languages that share a script are told apart by character
// trigrams, scored as lingua-go's low-accuracy mode scores them, with
// lingua's models for only the languages used (see ngram.go).
// Sentiment is VADER (govader) for English; other languages score 0 because
// no maintained lexicon library for them resolves here. docs/enrich.md has
// the measurements behind these choices.
package enrich

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/jonreiter/govader"

	"github.com/chorus-wall/chorus/post"
)

// defaultLanguages are the languages chosen among when Options.Languages is
// empty: the 25 most used on the big social networks.
var defaultLanguages = []string{
	"en", "es", "pt", "ja", "ar", "ko", "th", "fr", "tr", "id", "tl", "ru", "hi",
	"it", "de", "ur", "fa", "nl", "pl", "zh", "uk", "he", "vi", "sv", "el",
}

// DefaultMinConfidence is the confidence below which a detected language is
// not trusted: what it drops is mostly not language at all ("jajajajaja"),
// while real posts of a dozen letters or more mostly score above 0.7.
const DefaultMinConfidence = 0.5

const (
	// minLetters is the fewest letters a text needs for the detector to
	// judge it; shorter texts get a language only from their script.
	minLetters = 12
	// minDistinct is the fewest different letters a text needs: "hahahaha",
	// "kkkkkkkkkkkk" or "yes yes yes yes" are not evidence of a language.
	minDistinct = 5
	// maxDetectLetters bounds what the detector reads (whole words, about
	// fifteen): enough to decide, and a bounded cost for long posts.
	maxDetectLetters = 80
)

// Options configure an Enricher.
type Options struct {
	// Languages the detector chooses among (ISO 639-1 codes, at least two).
	// Empty means the 25 most used on social networks: en es pt ja ar ko th
	// fr tr id tl ru hi it de ur fa nl pl zh uk he vi sv el.
	Languages []string
	// MinConfidence in [0, 1]: a detected language with a lower confidence
	// is left unknown (""). Zero means DefaultMinConfidence.
	MinConfidence float64
}

// Enricher sets the language and sentiment of posts. It is safe for
// concurrent use; build one and share it, since building loads the
// language models of the configured languages.
type Enricher struct {
	// detectors judge, per script, the configured languages that share
	// it; nil for a script with one language or none.
	detectors [numScripts]*detector
	// byScript lists the configured languages written in each script; when
	// zh and ja are both configured, Han lists zh first.
	byScript [numScripts][]string
	// known maps every ISO 639-1 and 639-3 code Chorus knows to its ISO
	// 639-1 code, to normalize what networks send.
	known   map[string]string
	minConf float64
	vader   *govader.SentimentIntensityAnalyzer
}

// New builds an Enricher. It fails on a language the detector does not know,
// fewer than two languages, or a MinConfidence outside [0, 1].
func New(opts Options) (*Enricher, error) {
	e := &Enricher{
		known:   make(map[string]string),
		minConf: opts.MinConfidence,
	}
	if math.IsNaN(e.minConf) || e.minConf < 0 || e.minConf > 1 {
		return nil, fmt.Errorf("enrich: min confidence %v must be between 0 and 1", opts.MinConfidence)
	}
	if e.minConf == 0 {
		e.minConf = DefaultMinConfidence
	}
	byCode := map[string]knownLanguage{}
	for _, l := range knownLanguages {
		byCode[l.code1] = l
		e.known[l.code1] = l.code1
		e.known[l.code3] = l.code1
	}
	codes := opts.Languages
	if len(codes) == 0 {
		codes = defaultLanguages
	}
	var langs []knownLanguage
	for _, c := range codes {
		c = strings.ToLower(strings.TrimSpace(c))
		l, ok := byCode[c]
		if len(c) != 2 || !ok {
			return nil, fmt.Errorf("enrich: language %q: not an ISO 639-1 code the detector knows", c)
		}
		if !slices.Contains(langs, l) {
			langs = append(langs, l)
		}
	}
	if len(langs) < 2 {
		return nil, errors.New("enrich: languages: need at least two to choose among")
	}
	// zh first, so Han without kana reads as Chinese when both are configured.
	slices.SortStableFunc(langs, func(a, b knownLanguage) int {
		return boolInt(b.code1 == "zh") - boolInt(a.code1 == "zh")
	})
	for _, l := range langs {
		for _, s := range scriptsOf(l) {
			e.byScript[s] = append(e.byScript[s], l.code1)
		}
	}
	var sets [][]string
	var of []script
	for sc, codes := range e.byScript {
		if len(codes) >= 2 && script(sc) != scriptHan {
			sets, of = append(sets, codes), append(of, script(sc))
		}
	}
	if len(sets) > 0 {
		ds, err := newDetectors(sets)
		if err != nil {
			return nil, err
		}
		for i, d := range ds {
			e.detectors[of[i]] = d
		}
	}
	e.vader = govader.NewSentimentIntensityAnalyzer()
	return e, nil
}

// configured lists the languages the Enricher chooses among.
func (e *Enricher) configured() []string {
	var out []string
	for _, codes := range e.byScript {
		for _, c := range codes {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Enrich normalizes p.Lang ("en-US" becomes "en", "pt_BR" becomes "pt",
// "eng" becomes "en"), detects it when the network gave none or an
// undetermined one ("und", "zxx", "qme" ...), and sets p.Sentiment in
// [-1, 1]. A language the network gave is trusted over detection. Enrich
// does nothing to a nil post or a takedown, and never panics.
func (e *Enricher) Enrich(p *post.Post) {
	if p == nil || p.Deleted {
		return
	}
	lang, given := e.normalizeLang(p.Lang)
	letters := true
	if !given {
		sc := scanText(p.Text)
		lang, _ = e.language(&sc)
		letters = sc.total > 0
	}
	p.Lang = lang
	p.Sentiment = e.sentiment(p.Text, lang, letters)
}

// Language detects the language of text among the configured ones, looking
// at its first 500 runes without links, mentions, hashtags or emoji. It
// returns the ISO 639-1 code and a confidence in [0, 1], or "" and 0 when
// the text is too short, has no letters, is in a language not configured, or
// the detector is not confident enough.
func (e *Enricher) Language(text string) (lang string, confidence float64) {
	sc := scanText(text)
	return e.language(&sc)
}

func (e *Enricher) language(sc *scan) (string, float64) {
	if sc.total == 0 {
		return "", 0
	}
	counts := sc.letters
	if counts[scriptKana] > 0 { // kana make Han characters Japanese
		counts[scriptKana] += counts[scriptHan]
		counts[scriptHan] = 0
	}
	best := scriptOther
	for s := range counts {
		if counts[s] > counts[best] {
			best = script(s)
		}
	}
	langs := e.byScript[best]
	var lang string
	var conf float64
	switch {
	case len(langs) == 0:
		return "", 0
	case len(langs) == 1 || best == scriptHan:
		lang, conf = langs[0], float64(counts[best])/float64(sc.total)
	case counts[best] < minLetters || !hasDistinct(sc.words) || e.detectors[best] == nil:
		return "", 0
	default:
		lang, conf = e.detectors[best].detect(firstLetters(sc.words, maxDetectLetters))
	}
	if conf < e.minConf {
		return "", 0
	}
	return lang, conf
}

// firstLetters is s cut after the word that holds its n-th letter.
func firstLetters(s string, n int) string {
	for i, r := range s {
		if r == ' ' && n <= 0 {
			return s[:i]
		}
		if unicode.IsLetter(r) {
			n--
		}
	}
	return s
}

// hasDistinct reports whether s has at least minDistinct different
// letters, ignoring case.
func hasDistinct(s string) bool {
	var seen [minDistinct]rune
	n := 0
	for _, r := range s {
		r = unicode.ToLower(r)
		if r == ' ' || slices.Contains(seen[:n], r) {
			continue
		}
		seen[n] = r
		if n++; n == minDistinct {
			return true
		}
	}
	return false
}

// Sentiment scores the tone of text written in lang from -1 (negative) to 1
// (positive), 0 being neutral or unknown. English is scored with VADER,
// which weighs negation ("not good"), intensity ("GREAT!!!", "very") and
// emoji. A text of unknown language ("") with no letters, only emoji and
// emoticons, is scored the same way. Every other language scores 0: no
// lexicon for it is at hand.
func (e *Enricher) Sentiment(text, lang string) float64 {
	code, _ := e.normalizeLang(lang)
	return e.sentiment(text, code, code != "" || scanText(text).total > 0)
}

// sentiment scores text in lang (normalized); letters says whether the text
// has letters outside links, mentions and hashtags.
func (e *Enricher) sentiment(text, lang string, letters bool) float64 {
	if lang == "en" || lang == "" && !letters {
		return e.polarity(sentimentText(text))
	}
	return 0
}

// polarity is VADER's compound score, kept within [-1, 1] whatever happens.
func (e *Enricher) polarity(text string) (score float64) {
	if text == "" {
		return 0
	}
	defer func() {
		if recover() != nil {
			score = 0
		}
	}()
	score = e.vader.PolarityScores(text).Compound
	if math.IsNaN(score) {
		return 0
	}
	return max(-1, min(1, score))
}

// normalizeLang turns the language a network gives into an ISO 639-1 code
// where one exists ("en-US", "EN", "eng" -> "en"; "iw" -> "he"). given is
// false when the network gave nothing useful: empty, undetermined ("und"),
// no linguistic content ("zxx"), several ("mul"), private-use codes such as
// X's "qme" or "qht", or something that is not a language tag.
func (e *Enricher) normalizeLang(tag string) (lang string, given bool) {
	tag = strings.TrimSpace(tag)
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	if len(tag) < 2 || len(tag) > 3 {
		return "", false
	}
	lower := true
	for i := range len(tag) {
		c := tag[i]
		switch {
		case c >= 'a' && c <= 'z':
		case c >= 'A' && c <= 'Z':
			lower = false
		default:
			return "", false
		}
	}
	if !lower {
		tag = strings.ToLower(tag)
	}
	switch tag {
	case "und", "mul", "mis", "zxx":
		return "", false
	case "iw":
		return "he", true
	case "in":
		return "id", true
	case "ji":
		return "yi", true
	case "fil":
		return "tl", true
	}
	if len(tag) == 3 && tag >= "qaa" && tag <= "qtz" {
		return "", false
	}
	if code, ok := e.known[tag]; ok {
		return code, true
	}
	return tag, true // a real code for a language the detector does not know
}
