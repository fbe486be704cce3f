package curation

import (
	"fmt"
	"math/bits"
	"sync"
	"time"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

// Spam defaults, used when a stream's settings leave them zero.
const (
	defaultMaxHashtags      = 10
	defaultMaxMentions      = 8
	defaultMaxLinks         = 4
	defaultDuplicateWindow  = 10 * time.Minute
	defaultNearDistance     = 8
	defaultAuthorRate       = 6
	defaultAuthorRateWindow = time.Minute
	// recentTexts bounds the texts remembered for near-duplicate checks.
	recentTexts = 2048
	// minNearDupTokens: shorter texts are too short to call near-duplicates.
	minNearDupTokens = 8
)

// spamCheck is a stream's spam filter. The counting checks are pure; the
// duplicate, near-duplicate and rate checks remember recent posts, per
// curation worker (several workers on a cluster each see a share). Memory
// is bounded and cleaned in amortized constant time per post.
type spamCheck struct {
	on                              bool
	maxHashtags, maxMentions, links int
	window                          time.Duration
	nearDistance                    int
	rate                            int
	rateWindow                      time.Duration

	mu    sync.Mutex
	texts []recentText // ring buffer of recent texts' SimHashes
	// hashes are texts' SimHashes alone, side by side: every post with a
	// text compares its own with each, and most are far.
	hashes []uint64
	next   int
	// exact maps hash(author, text) to when it was last seen.
	exact     map[uint64]int64
	exactFIFO []stamp
	// byAuthor holds each author's recent post times, oldest first.
	byAuthor map[uint64][]int64
	rateFIFO []stamp
	// outbox holds the texts remembered since the last drain, for the
	// other curation nodes (at most recentTexts).
	outbox []recentText
	// verdicts maps hash(post id, text) to what remember said of it, so a post
	// decided again (a batch whose storing failed, delivered again) gets
	// the same answer and is not counted twice.
	verdicts    map[uint64]verdict
	verdictFIFO []stamp
}

// verdict is what remember said of a post.
type verdict struct {
	reason string
	spam   bool
}

type recentText struct {
	hash   uint64
	author uint64
	at     int64
}

// stamp is a key and when it was recorded, for cleaning up in order.
type stamp struct {
	key uint64
	at  int64
}

func newSpamCheck(f config.SpamFilter) *spamCheck {
	or := func(v, def int) int {
		if v == 0 {
			return def
		}
		return v
	}
	ord := func(v config.Duration, def time.Duration) time.Duration {
		if v == 0 {
			return def
		}
		return v.D()
	}
	return &spamCheck{
		on:           !f.Disabled,
		maxHashtags:  or(f.MaxHashtags, defaultMaxHashtags),
		maxMentions:  or(f.MaxMentions, defaultMaxMentions),
		links:        or(f.MaxLinks, defaultMaxLinks),
		window:       ord(f.DuplicateWindow, defaultDuplicateWindow),
		nearDistance: or(f.NearDuplicateDistance, defaultNearDistance),
		rate:         or(f.AuthorRate, defaultAuthorRate),
		rateWindow:   ord(f.AuthorRateWindow, defaultAuthorRateWindow),
		byAuthor:     map[uint64][]int64{},
		exact:        map[uint64]int64{},
		verdicts:     map[uint64]verdict{},
	}
}

// counts checks how many hashtags, mentions and links p carries.
func (s *spamCheck) counts(p *post.Post) (string, bool) {
	if !s.on {
		return "", false
	}
	switch {
	case s.maxHashtags > 0 && len(p.Hashtags) > s.maxHashtags:
		return fmt.Sprintf("spam: %d hashtags (at most %d)", len(p.Hashtags), s.maxHashtags), true
	case s.maxMentions > 0 && len(p.Mentions) > s.maxMentions:
		return fmt.Sprintf("spam: %d mentions (at most %d)", len(p.Mentions), s.maxMentions), true
	case s.links > 0 && len(p.Links) > s.links:
		return fmt.Sprintf("spam: %d links (at most %d)", len(p.Links), s.links), true
	}
	return "", false
}

// remember records p (whose text's tokens are toks) and reports whether
// it repeats the same author's text, nearly repeats another author's recent
// text, or exceeds the author's rate. With share, its text's fingerprint
// is also kept for the other curation nodes (drain). A post remembered
// before (the same id and text, within the spam windows) gets the answer it
// got then.
func (s *spamCheck) remember(p *post.Post, toks []string, now time.Time, share bool) (string, bool) {
	if !s.on {
		return "", false
	}
	if p.ID == "" {
		return s.record(p, toks, now, share)
	}
	// The text is in the key: an edit's new text is a new post to the
	// memory.
	key := hashTokens(hashString(p.ID), toks)
	s.mu.Lock()
	v, again := s.verdicts[key]
	s.mu.Unlock()
	if again {
		return v.reason, v.spam
	}
	reason, spam := s.record(p, toks, now, share)
	s.mu.Lock()
	s.verdicts[key] = verdict{reason: reason, spam: spam}
	s.verdictFIFO = append(s.verdictFIFO, stamp{key, now.UnixNano()})
	s.mu.Unlock()
	return reason, spam
}

// record is remember for a post not remembered before.
func (s *spamCheck) record(p *post.Post, toks []string, now time.Time, share bool) (string, bool) {
	author := p.AuthorKey()
	aKey := hashString(author)
	textKey := hashTokens(aKey, toks)
	var near uint64
	if len(toks) >= minNearDupTokens {
		near = simhash(toks)
	}
	at := now.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(at)
	if author != "" && s.rate > 0 {
		times := append(s.byAuthor[aKey], at)
		s.byAuthor[aKey] = times
		s.rateFIFO = append(s.rateFIFO, stamp{aKey, at})
		if n := len(times); n > s.rate {
			return fmt.Sprintf("spam: %d posts from %s in %s (at most %d)", n, author, s.rateWindow, s.rate), true
		}
	}
	if s.window > 0 && len(toks) > 0 && author != "" {
		last, seen := s.exact[textKey]
		s.exact[textKey] = at
		s.exactFIFO = append(s.exactFIFO, stamp{textKey, at})
		if seen && at-last <= int64(s.window) {
			return "spam: same text from the same author", true
		}
	}
	if near != 0 && s.nearDistance >= 0 {
		oldest := at - int64(s.window)
		dup := false
		for i, h := range s.hashes {
			if bits.OnesCount64(h^near) > s.nearDistance {
				continue
			}
			if t := &s.texts[i]; t.author != aKey && t.at >= oldest {
				dup = true
				break
			}
		}
		s.add(recentText{hash: near, author: aKey, at: at})
		if share && len(s.outbox) < recentTexts {
			s.outbox = append(s.outbox, recentText{hash: near, author: aKey, at: at})
		}
		if dup {
			return "spam: nearly the same text as another author's recent post", true
		}
	}
	return "", false
}

// drain returns the texts remembered since the last drain.
func (s *spamCheck) drain() []recentText {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.outbox
	s.outbox = nil
	return out
}

// learn remembers texts another curation node decided, so a near-duplicate
// of them decided here is caught too.
func (s *spamCheck) learn(texts []recentText) {
	if !s.on || s.nearDistance < 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range texts {
		s.add(t)
	}
}

// memory is how far back the spam memory looks (0 when it is off).
func (s *spamCheck) memory() time.Duration {
	if !s.on {
		return 0
	}
	return max(s.window, s.rateWindow)
}

// reset forgets every recent post.
func (s *spamCheck) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.texts, s.hashes, s.next = nil, nil, 0
	s.exact, s.exactFIFO = map[uint64]int64{}, nil
	s.byAuthor, s.rateFIFO = map[uint64][]int64{}, nil
	s.outbox = nil
}

func (s *spamCheck) add(t recentText) {
	if len(s.texts) < recentTexts {
		s.texts = append(s.texts, t)
		s.hashes = append(s.hashes, t.hash)
		return
	}
	s.texts[s.next] = t
	s.hashes[s.next] = t.hash
	s.next = (s.next + 1) % recentTexts
}

// expire forgets what has left the windows, oldest first.
func (s *spamCheck) expire(now int64) {
	cut := 0
	for cut < len(s.rateFIFO) && now-s.rateFIFO[cut].at > int64(s.rateWindow) {
		st := s.rateFIFO[cut]
		if times := s.byAuthor[st.key]; len(times) > 0 {
			if len(times) == 1 {
				delete(s.byAuthor, st.key)
			} else {
				s.byAuthor[st.key] = times[1:]
			}
		}
		cut++
	}
	s.rateFIFO = compact(s.rateFIFO, cut)
	cut = 0
	for cut < len(s.exactFIFO) && now-s.exactFIFO[cut].at > int64(s.window) {
		if st := s.exactFIFO[cut]; s.exact[st.key] == st.at {
			delete(s.exact, st.key)
		}
		cut++
	}
	s.exactFIFO = compact(s.exactFIFO, cut)
	cut = 0
	for cut < len(s.verdictFIFO) && now-s.verdictFIFO[cut].at > int64(s.memory()) {
		delete(s.verdicts, s.verdictFIFO[cut].key)
		cut++
	}
	s.verdictFIFO = compact(s.verdictFIFO, cut)
}

// compact drops the first n stamps, reusing the array once half is dead.
func compact(q []stamp, n int) []stamp {
	if n == 0 {
		return q
	}
	q = q[n:]
	if cap(q) > 64 && len(q) < cap(q)/2 {
		q = append(make([]stamp, 0, len(q)*2), q...)
	}
	return q
}

func hashString(s string) uint64 { return fnvString(fnvOffset64, s) }

// hashTokens hashes an author and a text's words, so texts differing only
// in case, spacing and punctuation hash the same.
func hashTokens(author uint64, toks []string) uint64 {
	h := uint64(fnvOffset64)
	for i := range 8 {
		h = fnvByte(h, byte(author>>(8*i)))
	}
	for _, t := range toks {
		h = fnvByte(fnvString(h, t), 0)
	}
	return h
}

// simhash is Charikar's SimHash of a text's word pairs: texts that differ
// in a word or two differ in few bits, while texts that merely share
// vocabulary (in any order) do not come out close. Each of the 64 bits is
// set when more than half the pairs' hashes have it. The counts are kept
// eight to a word, one byte per bit, and moved to ones before a byte can
// overflow: every post with a text is hashed once per stream.
func simhash(toks []string) uint64 {
	var ones [64]int
	var lanes [8]uint64 // lanes[j] byte k counts bit 8k+j
	n, pending := 0, 0
	flush := func() {
		for j, l := range lanes {
			for k := range 8 {
				ones[8*k+j] += int(l >> (8 * k) & 0xff)
			}
		}
		lanes = [8]uint64{}
		pending = 0
	}
	for i := 0; i+1 < len(toks); i++ {
		h := fnvString(fnvOffset64, toks[i])
		h = fnvByte(h, ' ')
		x := mix(fnvString(h, toks[i+1]))
		for j := range lanes {
			lanes[j] += x >> j & 0x0101010101010101
		}
		n++
		if pending++; pending == 255 {
			flush()
		}
	}
	flush()
	var out uint64
	for b := range 64 {
		if 2*ones[b] > n {
			out |= 1 << b
		}
	}
	return out
}

// FNV-1a, 64 bits (hash/fnv's New64a, without its interface).
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime64
	}
	return h
}

func fnvByte(h uint64, c byte) uint64 { return (h ^ uint64(c)) * fnvPrime64 }

// mix spreads a hash's bits (the splitmix64 finalizer), so similar words
// do not share hash bits.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
