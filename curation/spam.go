package curation

import (
	"fmt"
	"hash/fnv"
	"math/bits"
	"strings"
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
// curation worker (several workers on a cluster each see a share).
type spamCheck struct {
	on                              bool
	maxHashtags, maxMentions, links int
	window                          time.Duration
	nearDistance                    int
	rate                            int
	rateWindow                      time.Duration

	mu     sync.Mutex
	texts  []recentText // ring buffer
	next   int
	byAuth map[string][]time.Time
	exact  map[string]time.Time // author + "\x00" + text -> last seen
	lastGC time.Time
}

type recentText struct {
	hash   uint64
	author string
	at     time.Time
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
		byAuth:       map[string][]time.Time{},
		exact:        map[string]time.Time{},
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

// remember records p and reports whether it repeats the same author's text,
// nearly repeats another author's recent text, or exceeds the author's rate.
func (s *spamCheck) remember(p *post.Post, now time.Time) (string, bool) {
	if !s.on {
		return "", false
	}
	author := p.AuthorKey()
	norm := strings.Join(strings.Fields(strings.ToLower(p.Text)), " ")
	toks := tokenize(p.Text)
	var hash uint64
	if len(toks) >= minNearDupTokens {
		hash = simhash(toks)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gc(now)
	if author != "" && s.rate > 0 {
		times := append(s.byAuth[author], now)
		s.byAuth[author] = times
		if n := countSince(times, now.Add(-s.rateWindow)); n > s.rate {
			return fmt.Sprintf("spam: %d posts from %s in %s (at most %d)", n, author, s.rateWindow, s.rate), true
		}
	}
	if s.window > 0 && norm != "" {
		key := author + "\x00" + norm
		last, seen := s.exact[key]
		s.exact[key] = now
		if seen && now.Sub(last) <= s.window {
			return "spam: same text from the same author", true
		}
	}
	if hash != 0 && s.nearDistance >= 0 {
		for _, t := range s.texts {
			if t.hash == 0 || t.author == author || now.Sub(t.at) > s.window {
				continue
			}
			if bits.OnesCount64(t.hash^hash) <= s.nearDistance {
				s.add(recentText{hash: hash, author: author, at: now})
				return "spam: nearly the same text as another author's recent post", true
			}
		}
		s.add(recentText{hash: hash, author: author, at: now})
	}
	return "", false
}

func (s *spamCheck) add(t recentText) {
	if len(s.texts) < recentTexts {
		s.texts = append(s.texts, t)
		return
	}
	s.texts[s.next] = t
	s.next = (s.next + 1) % recentTexts
}

// gc forgets what is older than the windows, at most once a second.
func (s *spamCheck) gc(now time.Time) {
	if now.Sub(s.lastGC) < time.Second {
		return
	}
	s.lastGC = now
	for a, times := range s.byAuth {
		cut := 0
		for cut < len(times) && now.Sub(times[cut]) > s.rateWindow {
			cut++
		}
		if cut == len(times) {
			delete(s.byAuth, a)
		} else {
			s.byAuth[a] = times[cut:]
		}
	}
	for k, at := range s.exact {
		if now.Sub(at) > s.window {
			delete(s.exact, k)
		}
	}
}

func countSince(times []time.Time, since time.Time) int {
	n := 0
	for _, t := range times {
		if !t.Before(since) {
			n++
		}
	}
	return n
}

// simhash is Charikar's SimHash of a text's words and word pairs: texts
// that differ in a word or two differ in few bits.
func simhash(toks []string) uint64 {
	var v [64]int
	add := func(x uint64) {
		x = mix(x)
		for b := range 64 {
			if x&(1<<b) != 0 {
				v[b]++
			} else {
				v[b]--
			}
		}
	}
	h := fnv.New64a()
	for i := range toks {
		h.Reset()
		h.Write([]byte(toks[i]))
		word := h.Sum64()
		add(word)
		if i+1 < len(toks) {
			h.Write([]byte{' '})
			h.Write([]byte(toks[i+1]))
			add(h.Sum64())
		}
	}
	var out uint64
	for b := range 64 {
		if v[b] > 0 {
			out |= 1 << b
		}
	}
	return out
}

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
