package demo

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chorus-wall/chorus/post"
)

// Generator makes the demo's invented posts. It is pure: the same fields,
// sequence number and time always give the same post, so a source that
// replays a sequence number after a failed publish produces the same id and
// the bus's dedupe absorbs it.
type Generator struct {
	// SourceID names the source in post ids and in each post's Source.
	SourceID string
	// Seed varies the whole stream; the same seed gives the same posts.
	Seed int64
	// SpamShare and OffensiveShare are the expected fractions of spam and
	// of offensive posts (each in [0, 0.5]).
	SpamShare      float64
	OffensiveShare float64
	// Audience, when above zero, spreads the fans over that many people,
	// as a large event's crowd: each fan's post comes from one of them, a
	// numbered account sharing the cast member's voice ("maya_patel_4821"),
	// so per-author limits see a crowd rather than 36 very busy people.
	// Load tests use it; the demo source does not.
	Audience int
	// UnlabelledShare is the share of posts that come without a language,
	// as from networks that give none (RSS, Instagram, most webhooks).
	UnlabelledShare float64
}

// class is what a generated post is meant to be, for tests.
type class int

const (
	classNormal class = iota
	classSpam
	classOffensive
)

// Post returns post number seq, created a little before now and fetched at
// now. Its id is <network>:demo-<source id>-<seq>.
func (g Generator) Post(seq int64, now time.Time) post.Post {
	p, _ := g.generate(seq, now)
	return p
}

func (g Generator) generate(seq int64, now time.Time) (post.Post, class) {
	d := &draft{
		r:   rand.New(rand.NewPCG(mix(uint64(g.Seed)), mix(uint64(seq)^0xa0761d6478bd642f))),
		seq: seq,
	}
	c := classNormal
	switch roll := d.r.Float64(); {
	case roll < g.SpamShare:
		c = classSpam
		d.spam()
	case roll < g.SpamShare+g.OffensiveShare:
		c = classOffensive
		d.offensive()
	default:
		d.normal()
	}
	a := d.author
	likes := int64(float64(a.followers)*0.02*d.r.ExpFloat64()) + int64(d.r.IntN(12))
	lag := 500*time.Millisecond + time.Duration(d.r.IntN(40000))*time.Millisecond
	native := nativeID(d.net, seq, d.r)
	id := a.key
	if g.Audience > 0 && a.role == roleFan {
		// Drawn after everything else, so posts without an audience stay
		// the same.
		n := d.r.IntN(g.Audience)
		fan := *a
		fan.slug, fan.short = fmt.Sprintf("%s_%d", a.slug, n), fmt.Sprintf("%s%d", a.short, n)
		a, id = &fan, fmt.Sprintf("%s-%d", a.key, n)
	}
	if g.UnlabelledShare > 0 && d.r.Float64() < g.UnlabelledShare {
		d.lang = ""
	}
	p := post.Post{
		ID:      fmt.Sprintf("%s:demo-%s-%d", d.net, g.SourceID, seq),
		Network: d.net,
		URL:     permalink(d.net, a, native),
		Author: post.Author{
			ID:         id,
			Handle:     handle(a, d.net),
			Name:       a.name,
			AvatarURL:  avatarURL(a.key),
			ProfileURL: profileURL(a, d.net),
			Followers:  a.followers,
			Verified:   a.verified,
		},
		Text:           d.text.b.String(),
		Hashtags:       d.text.hashtags,
		Mentions:       d.text.mentions,
		Links:          d.text.links,
		Media:          d.media,
		Kind:           d.kind,
		Lang:           d.lang,
		Sensitive:      d.warning != "",
		ContentWarning: d.warning,
		Counts: post.Counts{
			Likes:   likes,
			Reposts: int64(float64(likes) * 0.25 * d.r.Float64()),
			Replies: int64(float64(likes) * 0.12 * d.r.Float64()),
		},
		CreatedAt: now.Add(-lag).UTC(),
		FetchedAt: now.UTC(),
		Source:    g.SourceID,
	}
	return p, c
}

// draft is a post being composed.
type draft struct {
	r       *rand.Rand
	seq     int64
	author  *person
	net     string
	lang    string
	kind    post.Kind
	text    textBuilder
	media   []post.Media
	warning string
	used    []string // lines already in the text
}

func (d *draft) normal() {
	if d.r.Float64() < 0.08 {
		d.author = d.pick(roleOfficial, nil)
	} else {
		d.author = d.pick(roleFan, nil)
	}
	nets := d.author.networks()
	d.net = nets[d.r.IntN(len(nets))]
	d.lang = d.author.lang
	if d.lang != "en" && d.r.Float64() < 0.15 {
		d.lang = "en"
	}
	t := topic(d.r.IntN(int(topicCount)))
	switch k := d.r.Float64(); {
	case k < 0.62:
		d.kind = post.KindOriginal
		d.original(t)
	case k < 0.77:
		d.kind = post.KindReply
		d.reply(t)
	case k < 0.89:
		d.kind = post.KindRepost
		d.repost(t)
	default:
		d.kind = post.KindQuote
		d.quote(t)
	}
	if d.net == "instagram" || d.r.Float64() < 0.22 {
		d.photos(t)
	}
	sensitive := 0.04
	if d.net == "mastodon" {
		sensitive = 0.12
	}
	if d.r.Float64() < sensitive {
		d.warning = pick(d.r, banks[d.lang].warnings)
	}
}

func (d *draft) original(t topic) {
	n, long := 1+d.r.IntN(2), d.r.Float64() < 0.1 || d.net == "reddit" && d.r.Float64() < 0.3
	if long {
		n = 3 + d.r.IntN(4)
	}
	for i := range n {
		if long && i > 0 && i%2 == 0 {
			d.text.write("\n\n")
		} else {
			d.text.sep(joiner(d.lang))
		}
		tt := t
		if long && i > 0 {
			tt = topic(d.r.IntN(int(topicCount)))
		}
		d.text.write(d.sentence(d.lang, tt))
	}
	d.emoji(t, 0.7)
	if d.r.Float64() < 0.15 {
		d.text.sep(" ")
		d.text.mention(handle(d.pick(roleFan, d.author), d.net))
	}
	if d.r.Float64() < 0.15 {
		l := links[d.r.IntN(len(links))]
		d.text.sep(" ")
		d.text.link(l.url, l.title)
	}
	first := " "
	if long {
		first = "\n\n"
	}
	d.hashtags(t, 1, first)
}

func (d *draft) reply(t topic) {
	parent := d.pick(roleFan, d.author)
	if d.r.Float64() < 0.2 {
		parent = d.pick(roleOfficial, d.author)
	}
	d.text.mention(handle(parent, d.net))
	d.text.write(" " + pick(d.r, banks[d.lang].reactions))
	if d.r.Float64() < 0.6 {
		d.text.sep(joiner(d.lang))
		d.text.write(d.sentence(d.lang, t))
	}
	d.emoji(t, 0.5)
	d.hashtags(t, 0.3, " ")
}

func (d *draft) repost(t topic) {
	orig := d.pick(roleFan, d.author)
	if d.r.Float64() < 0.3 {
		orig = d.pick(roleOfficial, d.author)
	}
	d.lang = orig.lang
	if d.net == "x" {
		d.text.write("RT ")
	} else {
		d.text.write("🔁 ")
	}
	d.text.mention(handle(orig, d.net))
	d.text.write(": " + d.sentence(d.lang, t))
	d.emoji(t, 0.6)
	d.hashtags(t, 1, " ")
}

func (d *draft) quote(t topic) {
	quoted := d.pick(roleFan, d.author)
	d.text.write(pick(d.r, banks[d.lang].reactions))
	if d.r.Float64() < 0.5 {
		d.text.sep(joiner(d.lang))
		d.text.write(d.sentence(d.lang, t))
	}
	d.emoji(t, 0.5)
	d.text.sep(" ")
	d.text.link(permalink(d.net, quoted, nativeID(d.net, max(d.seq-1-int64(d.r.IntN(40)), 0), d.r)), "")
	d.hashtags(t, 0.6, " ")
}

func (d *draft) spam() {
	d.author = d.pick(roleSpam, nil)
	d.net = pick(d.r, []string{"x", "x", "instagram", "instagram", "youtube", "reddit", "bluesky", "mastodon"})
	d.lang, d.kind = "en", post.KindOriginal
	if d.r.Float64() < 0.3 {
		d.kind = post.KindReply
		d.text.mention(handle(d.pick(roleFan, nil), d.net))
		d.text.write(" ")
	}
	if d.r.Float64() < 0.3 {
		// Nothing but hashtags: no blocked word, caught only by other rules.
		d.text.write("Follow for follow 😍😍")
		tags := d.r.Perm(len(spamTags))[:12+d.r.IntN(7)]
		d.text.sep(" ")
		d.text.hashtag("ChorusLive")
		for _, i := range tags {
			d.text.sep(" ")
			d.text.hashtag(spamTags[i])
		}
	} else {
		line := spamLines[d.r.IntN(len(spamLines))]
		d.lang = line.lang
		before, after, ok := strings.Cut(line.text, "{link}")
		d.text.write(before)
		if ok {
			d.text.link(line.link, "")
			d.text.write(after)
		}
		for _, i := range d.r.Perm(len(spamTags))[:1+d.r.IntN(3)] {
			d.text.sep(" ")
			d.text.hashtag(spamTags[i])
		}
		d.text.sep(" ")
		d.text.hashtag("ChorusLive")
	}
	if d.net == "instagram" || d.r.Float64() < 0.2 {
		d.media = append(d.media, photo(sceneConfetti+sceneCount*d.r.IntN(photoVariants)))
	}
}

func (d *draft) offensive() {
	d.author = d.pick(roleTroll, nil)
	d.net = networks[d.r.IntN(len(networks))]
	d.lang, d.kind = "en", post.KindOriginal
	if d.r.Float64() < 0.5 {
		d.kind = post.KindReply
		d.text.mention(handle(d.pick(roleFan, nil), d.net))
		d.text.write(" ")
	}
	if d.author.rude && d.r.Float64() < 0.5 {
		// The blocked word is only in the author's name or handle.
		d.text.write(pick(d.r, grumbles))
	} else {
		in := insults[d.r.IntN(len(insults))]
		d.lang = in.lang
		d.text.write(d.fill(in.text))
	}
	if d.r.Float64() < 0.5 {
		d.text.sep(" ")
		d.text.hashtag("ChorusLive")
	}
}

// pick returns a random cast member of role r other than not.
func (d *draft) pick(r role, not *person) *person {
	var in []*person
	for i := range cast {
		if cast[i].role == r && &cast[i] != not {
			in = append(in, &cast[i])
		}
	}
	return in[d.r.IntN(len(in))]
}

// sentence returns a line about t, one the post has not used yet if it can.
func (d *draft) sentence(lang string, t topic) string {
	lines := banks[lang].lines[t]
	i := d.r.IntN(len(lines))
	for tries := 0; tries < len(lines) && slices.Contains(d.used, lines[i]); tries++ {
		i = (i + 1) % len(lines)
	}
	d.used = append(d.used, lines[i])
	return d.fill(lines[i])
}

// fill replaces the placeholders of a phrase.
func (d *draft) fill(s string) string {
	for _, f := range []struct {
		key    string
		values []string
	}{{"{artist}", artists}, {"{stage}", stages}, {"{talk}", talks}} {
		if strings.Contains(s, f.key) {
			s = strings.ReplaceAll(s, f.key, pick(d.r, f.values))
		}
	}
	return s
}

// emoji adds one to three emoji with probability p.
func (d *draft) emoji(t topic, p float64) {
	if d.r.Float64() >= p {
		return
	}
	var b strings.Builder
	for range 1 + d.r.IntN(3) {
		switch k := d.r.Float64(); {
		case k < 0.5:
			b.WriteString(pick(d.r, emojiTopic[t]))
		case k < 0.85 || len(emojiFlags[d.lang]) == 0:
			b.WriteString(pick(d.r, emojiGeneral))
		default:
			b.WriteString(pick(d.r, emojiFlags[d.lang]))
		}
	}
	d.text.sep(" ")
	d.text.write(b.String())
}

// hashtags ends the post with its hashtags, the first after first; p
// scales how likely each is.
func (d *draft) hashtags(t topic, p float64, first string) {
	var tags []string
	if d.r.Float64() < 0.75*p {
		tags = append(tags, "ChorusLive")
	}
	if d.r.Float64() < 0.2*p {
		tags = append(tags, "DemoConf")
	}
	if d.r.Float64() < 0.3*p {
		tags = append(tags, pick(d.r, banks[d.lang].tags))
	}
	if d.r.Float64() < 0.25*p {
		tags = append(tags, pick(d.r, topicTags[t]))
	}
	for _, tag := range tags {
		if d.text.has(tag) {
			continue
		}
		d.text.sep(first)
		d.text.hashtag(tag)
		first = " "
	}
}

// photos attaches one to four images that suit the topic.
func (d *draft) photos(t topic) {
	n := 1
	switch k := d.r.Float64(); {
	case k < 0.15:
		n = 4
	case k < 0.25:
		n = 3
	case k < 0.45:
		n = 2
	}
	kinds := topicScenes[t]
	for range n {
		d.media = append(d.media, photo(kinds[d.r.IntN(len(kinds))]+sceneCount*d.r.IntN(photoVariants)))
	}
}

// photo describes demo image n as the media handler serves it.
func photo(n int) post.Media {
	sc := sceneOf(n)
	u := photoURL(n)
	return post.Media{Kind: post.MediaImage, URL: u, PreviewURL: u, Width: sc.width, Height: sc.height, Alt: sc.alt()}
}

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// joiner separates sentences: nothing in Chinese and Japanese, a space elsewhere.
func joiner(lang string) string {
	if lang == "ja" || lang == "zh" {
		return ""
	}
	return " "
}

// mix is splitmix64's finalizer: neighbouring sequence numbers get unrelated
// random streams.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func hash(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// networks is where a cast member posts: officials everywhere, others on
// two to four networks.
func (p *person) networks() []string {
	if p.role == roleOfficial {
		return networks
	}
	h := int(hash(p.key))
	start, n := h%len(networks), 2+(h/len(networks))%3
	out := make([]string, 0, n)
	for i := range n {
		out = append(out, networks[(start+i)%len(networks)])
	}
	return out
}

func (p *person) instance() string {
	return mastodonInstances[int(hash(p.key+"@"))%len(mastodonInstances)]
}

// handle is p's handle on net, without a leading '@'.
func handle(p *person, net string) string {
	switch net {
	case "mastodon":
		return p.short + "@" + p.instance()
	case "bluesky":
		if p.role == roleOfficial {
			return p.key + ".example"
		}
		return strings.ReplaceAll(p.short, "_", "-") + ".bsky.social"
	case "instagram":
		return strings.ReplaceAll(p.slug, "_", ".")
	case "youtube":
		return strings.ReplaceAll(p.slug, "_", "-")
	}
	return p.slug
}

func profileURL(p *person, net string) string {
	h := handle(p, net)
	switch net {
	case "x":
		return "https://x.example/" + h
	case "mastodon":
		return "https://" + p.instance() + "/@" + p.short
	case "bluesky":
		return "https://bsky.example/profile/" + h
	case "instagram":
		return "https://instagram.example/" + h + "/"
	case "youtube":
		return "https://youtube.example/@" + h
	default:
		return "https://reddit.example/user/" + h + "/"
	}
}

// liveVideo is the invented livestream that YouTube comments belong to.
const liveVideo = "ChorusLive1"

func permalink(net string, p *person, native string) string {
	switch net {
	case "x":
		return "https://x.example/" + handle(p, net) + "/status/" + native
	case "mastodon":
		return "https://" + p.instance() + "/@" + p.short + "/" + native
	case "bluesky":
		return "https://bsky.example/profile/" + handle(p, net) + "/post/" + native
	case "instagram":
		return "https://instagram.example/p/" + native + "/"
	case "youtube":
		return "https://youtube.example/watch?v=" + liveVideo + "&lc=" + native
	default:
		return "https://reddit.example/r/ChorusLive/comments/" + native + "/"
	}
}

const (
	base32Sortable = "234567abcdefghijklmnopqrstuvwxyz"
	base64URL      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)

// nativeID makes an id shaped like the network's own for post seq.
func nativeID(net string, seq int64, r *rand.Rand) string {
	chars := func(prefix, alphabet string, n int) string {
		b := []byte(prefix)
		for range n {
			b = append(b, alphabet[r.IntN(len(alphabet))])
		}
		return string(b)
	}
	switch net {
	case "x":
		return strconv.FormatUint(1_790_000_000_000_000_000+uint64(seq)<<12+r.Uint64N(1<<12), 10)
	case "mastodon":
		return strconv.FormatUint(113_400_000_000_000_000+uint64(seq)<<8+r.Uint64N(1<<8), 10)
	case "bluesky":
		return chars("3l", base32Sortable, 11)
	case "instagram":
		return chars("C", base64URL, 10)
	case "youtube":
		return chars("Ugx", base64URL, 20)
	default:
		return strconv.FormatInt(60466176+seq, 36)
	}
}

// textBuilder writes a post's text and records its entities, with link
// spans in code points.
type textBuilder struct {
	b        strings.Builder
	runes    int
	hashtags []string
	mentions []string
	links    []post.Link
}

func (t *textBuilder) write(s string) {
	t.b.WriteString(s)
	t.runes += utf8.RuneCountInString(s)
}

// sep writes s unless the text is empty or already ends in white space.
func (t *textBuilder) sep(s string) {
	text := t.b.String()
	if text == "" || strings.HasSuffix(text, " ") || strings.HasSuffix(text, "\n") {
		return
	}
	t.write(s)
}

func (t *textBuilder) link(url, title string) {
	start := t.runes
	t.write(url)
	t.links = append(t.links, post.Link{URL: url, Title: title, Start: start, End: t.runes})
}

func (t *textBuilder) hashtag(tag string) {
	t.write("#" + tag)
	if !t.has(tag) {
		t.hashtags = append(t.hashtags, tag)
	}
}

func (t *textBuilder) has(tag string) bool {
	for _, h := range t.hashtags {
		if h == tag {
			return true
		}
	}
	return false
}

func (t *textBuilder) mention(h string) {
	t.write("@" + h)
	for _, m := range t.mentions {
		if m == h {
			return
		}
	}
	t.mentions = append(t.mentions, h)
}
