package bluesky

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/chorus-wall/chorus/post"
)

// Network is the network name of every post this package makes.
const Network = "bluesky"

// Where Bluesky's own apps show posts and serve blobs.
const (
	webURL   = "https://bsky.app"
	cdnURL   = "https://cdn.bsky.app/img"
	videoURL = "https://video.bsky.app/watch"
)

// postCollection is the collection of posts.
const postCollection = "app.bsky.feed.post"

// maxFutureSkew is how far ahead of now a record's createdAt (set by the
// client, so not to be trusted) may be before the event time replaces it.
const maxFutureSkew = 10 * time.Minute

// PostID is the native id of a post: "<did>/<rkey>".
func PostID(did, rkey string) string { return did + "/" + rkey }

// PostURL is the post's page on bsky.app.
func PostURL(did, rkey string) string { return webURL + "/profile/" + did + "/post/" + rkey }

// Adapt turns a post record from a Jetstream commit into a normalized
// post. prof is the author's profile when known (nil: the DID stands in
// for the handle); timeUS is the event time, used when the record's own
// createdAt is missing, malformed or in the future.
func Adapt(did, rkey string, rec *PostRecord, prof *Profile, timeUS int64, source string, now time.Time) (post.Post, error) {
	if err := checkRef(did, rkey); err != nil {
		return post.Post{}, err
	}
	if rec == nil {
		return post.Post{}, errors.New("bluesky: empty record")
	}
	p := fromRecord(did, rkey, rec, source, now)
	p.Author = author(did, prof)
	p.CreatedAt = createdAt(rec.CreatedAt, time.UnixMicro(timeUS), now)
	p.Media = recordMedia(did, rec.Embed)
	if err := p.Normalize(Network, now); err != nil {
		return post.Post{}, fmt.Errorf("bluesky: post %s: %w", PostID(did, rkey), err)
	}
	return p, nil
}

// AdaptView turns an app.bsky.feed.defs#postView (searchPosts) into a
// normalized post; the view carries the author's profile, counts and
// embed views with their CDN URLs.
func AdaptView(v *PostView, source string, now time.Time) (post.Post, error) {
	did, collection, rkey, err := parseATURI(v.URI)
	if err != nil {
		return post.Post{}, err
	}
	if collection != postCollection {
		return post.Post{}, fmt.Errorf("bluesky: %s is not a post", v.URI)
	}
	if err := checkRef(did, rkey); err != nil {
		return post.Post{}, err
	}
	var rec PostRecord
	if err := json.Unmarshal(v.Record, &rec); err != nil {
		return post.Post{}, fmt.Errorf("bluesky: post %s: record: %w", v.URI, err)
	}
	p := fromRecord(did, rkey, &rec, source, now)
	prof := v.Author
	if prof.DID == "" {
		prof.DID = did
	}
	p.Author = author(did, &prof)
	indexed, err := time.Parse(time.RFC3339Nano, v.IndexedAt)
	if err != nil {
		indexed = now
	}
	p.CreatedAt = createdAt(rec.CreatedAt, indexed, now)
	p.Counts = post.Counts{Likes: v.LikeCount, Reposts: v.RepostCount + v.QuoteCount, Replies: v.ReplyCount}
	if v.Embed != nil {
		p.Media = viewMedia(v.Embed)
	} else {
		p.Media = recordMedia(did, rec.Embed)
	}
	var vals []string
	for _, l := range v.Labels {
		if !l.Neg {
			vals = append(vals, l.Val)
		}
	}
	if cw := warning(vals); cw != "" {
		p.Sensitive, p.ContentWarning = true, joinWarning(p.ContentWarning, cw)
	}
	if err := p.Normalize(Network, now); err != nil {
		return post.Post{}, fmt.Errorf("bluesky: post %s: %w", v.URI, err)
	}
	return p, nil
}

// fromRecord fills what a record alone says: text and its entities, kind,
// language, self-labels.
func fromRecord(did, rkey string, rec *PostRecord, source string, now time.Time) post.Post {
	p := post.Post{
		ID:        Network + ":" + PostID(did, rkey),
		Network:   Network,
		URL:       PostURL(did, rkey),
		Kind:      post.KindOriginal,
		FetchedAt: now,
		Source:    source,
	}
	rt := richText(rec.Text, rec.Facets)
	p.Text, p.Hashtags, p.Mentions, p.Links = rt.text, rt.tags, rt.mentions, rt.links
	p.Hashtags = addTags(p.Hashtags, rec.Tags)
	if len(rec.Langs) > 0 {
		p.Lang = rec.Langs[0]
	}
	if quoted := quotedURI(rec.Embed); quoted != "" {
		p.Kind = post.KindQuote
		if qd, qc, qr, err := parseATURI(quoted); err == nil && qc == postCollection {
			p.Links = append(p.Links, post.Link{URL: PostURL(qd, qr)})
		}
	} else if rec.Reply != nil {
		p.Kind = post.KindReply
	}
	if ext := external(rec.Embed); ext != nil && !hasLink(p.Links, ext.URI) {
		link := post.Link{URL: ext.URI, Title: ext.Title}
		if strings.TrimSpace(p.Text) == "" {
			// A bare shared link: the app shows only its card, so the
			// post shows what the card says.
			if text, l, ok := cardText(ext); ok {
				p.Text, link = text, l
			}
		}
		p.Links = append(p.Links, link)
	}
	if rec.Labels != nil {
		var vals []string
		for _, v := range rec.Labels.Values {
			vals = append(vals, v.Val)
		}
		if cw := warning(vals); cw != "" {
			p.Sensitive, p.ContentWarning = true, cw
		}
	}
	return p
}

// Limits on what a post without text shows of its link card.
const (
	maxCardHeadRunes  = 280
	maxCardLabelRunes = 40
)

// cardText is the text of a post that has none but a link card: the card's
// title (its description when it has none) on one line, then the link as a
// span, named by its host and path as Bluesky's apps name links. ok is
// false when the card's link is not a web link.
func cardText(ext *External) (string, post.Link, bool) {
	uri := post.SafeURL(ext.URI)
	u, err := url.Parse(uri)
	if uri == "" || err != nil || u.Host == "" {
		return "", post.Link{}, false
	}
	label := strings.TrimPrefix(strings.ToLower(u.Host), "www.") + strings.TrimSuffix(u.Path, "/")
	if u.RawQuery != "" {
		label += "?" + u.RawQuery
	}
	label = shorten(oneLine(label), maxCardLabelRunes)
	title := oneLine(ext.Title)
	head := shorten(title, maxCardHeadRunes)
	if head == "" {
		head = shorten(oneLine(ext.Description), maxCardHeadRunes)
	}
	text, start := label, 0
	if head != "" {
		text, start = head+"\n"+label, utf8.RuneCountInString(head)+1
	}
	return text, post.Link{URL: uri, Title: title, Start: start, End: start + utf8.RuneCountInString(label)}, true
}

// oneLine is s as post text keeps it, on one line with single spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(post.CleanText(s)), " ")
}

// shorten cuts s to at most limit runes, ending with "…" when cut.
func shorten(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	return string([]rune(s)[:limit-1]) + "…"
}

// checkRef rejects what cannot make an id and a URL: a DID that is not
// one, a record key outside the lexicon's syntax.
func checkRef(did, rkey string) error {
	if !strings.HasPrefix(did, "did:") || len(did) > 2048 || strings.ContainsAny(did, "/?#% ") {
		return fmt.Errorf("bluesky: %q is not a DID", did)
	}
	if rkey == "" || len(rkey) > 512 || rkey == "." || rkey == ".." {
		return fmt.Errorf("bluesky: %q is not a record key", rkey)
	}
	for _, r := range rkey {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._:~-", r)) {
			return fmt.Errorf("bluesky: %q is not a record key", rkey)
		}
	}
	return nil
}

// parseATURI splits at://<did>/<collection>/<rkey>.
func parseATURI(uri string) (did, collection, rkey string, err error) {
	rest, ok := strings.CutPrefix(uri, "at://")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", fmt.Errorf("bluesky: %q is not an at:// record URI", uri)
	}
	return parts[0], parts[1], parts[2], nil
}

func author(did string, prof *Profile) post.Author {
	a := post.Author{ID: did, Handle: did, ProfileURL: webURL + "/profile/" + did}
	if prof == nil {
		return a
	}
	if prof.Handle != "" && prof.Handle != "handle.invalid" {
		a.Handle = prof.Handle
	}
	a.Name = prof.DisplayName
	a.AvatarURL = prof.Avatar
	a.Followers = prof.FollowersCount
	a.Verified = prof.Verification != nil && prof.Verification.VerifiedStatus == "valid"
	return a
}

// createdAt reads the record's createdAt; a missing, malformed or future
// one gives way to fallback (the event or indexing time).
func createdAt(raw string, fallback, now time.Time) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, raw); err == nil {
			if t.After(now.Add(maxFutureSkew)) || t.Year() < 2000 {
				break
			}
			return t
		}
	}
	return fallback
}

// rich is a record's text with its entities, spans in code points.
type rich struct {
	text     string
	tags     []string
	mentions []string
	links    []post.Link
}

// richText applies the facets to text. Facet indexes are UTF-8 byte
// offsets; they become code-point offsets into the text as post.Normalize
// will leave it (controls and bidi overrides dropped, CRLF folded, invalid
// UTF-8 replaced), so spans stay true. A facet whose range is out of
// bounds or splits a character keeps its feature without a span.
func richText(text string, facets []Facet) rich {
	clean, offset := cleanOffsets(text)
	out := rich{text: clean}
	for _, f := range facets {
		start, okStart := offset(f.Index.ByteStart)
		end, okEnd := offset(f.Index.ByteEnd)
		inRange := okStart && okEnd && f.Index.ByteStart < f.Index.ByteEnd
		for _, feat := range f.Features {
			switch feat.Type {
			case featureTag:
				out.tags = addTags(out.tags, []string{feat.Tag})
			case featureMention:
				handle := ""
				if inRange {
					handle = strings.TrimPrefix(strings.TrimSpace(string([]rune(clean)[start:end])), "@")
				}
				if handle == "" || strings.ContainsFunc(handle, unicode.IsSpace) {
					handle = feat.DID
				}
				if handle != "" && len(out.mentions) < post.MaxListLength {
					out.mentions = append(out.mentions, handle)
				}
			case featureLink:
				l := post.Link{URL: feat.URI}
				if inRange {
					l.Start, l.End = start, end
				}
				out.links = append(out.links, l)
			}
		}
	}
	return out
}

// cleanOffsets returns text as post.Normalize leaves it and a function
// from a UTF-8 byte offset of the original text to a code-point offset of
// the clean text (false when the offset is out of range or inside a
// character).
func cleanOffsets(text string) (string, func(int) (int, bool)) {
	offsets := make([]int32, len(text)+1)
	var b strings.Builder
	b.Grow(len(text))
	n := int32(0)
	invalid := false
	for i := 0; i < len(text); {
		r, w := utf8.DecodeRuneInString(text[i:])
		offsets[i] = n
		for k := 1; k < w; k++ {
			offsets[i+k] = -1
		}
		switch {
		case r == utf8.RuneError && w == 1:
			// A run of invalid bytes becomes one U+FFFD, as
			// strings.ToValidUTF8 does.
			if !invalid {
				b.WriteRune(utf8.RuneError)
				n++
			} else {
				offsets[i] = -1
			}
			invalid = true
			i += w
			continue
		case r == '\r':
			if i+1 < len(text) && text[i+1] == '\n' {
				break // CRLF: the \n stands for both
			}
			b.WriteByte('\n')
			n++
		case post.Dropped(r):
		default:
			b.WriteRune(r)
			n++
		}
		invalid = false
		i += w
	}
	offsets[len(text)] = n
	return b.String(), func(byteOff int) (int, bool) {
		if byteOff < 0 || byteOff >= len(offsets) || offsets[byteOff] < 0 {
			return 0, false
		}
		return int(offsets[byteOff]), true
	}
}

// addTags appends tags not yet in list (case-insensitively), without '#'.
func addTags(list, tags []string) []string {
	for _, t := range tags {
		t = strings.TrimPrefix(strings.TrimSpace(t), "#")
		if t == "" {
			continue
		}
		dup := false
		for _, have := range list {
			if strings.EqualFold(have, t) {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, t)
		}
	}
	return list
}

func hasLink(links []post.Link, uri string) bool {
	for _, l := range links {
		if l.URL == uri {
			return true
		}
	}
	return false
}

// quotedURI is the at:// URI of the record a post embeds (quotes).
func quotedURI(e *Embed) string {
	if e == nil || e.Record == nil {
		return ""
	}
	switch e.Type {
	case embedRecord:
		return e.Record.URI
	case embedRecordWithMedia:
		if e.Record.Record != nil {
			return e.Record.Record.URI
		}
	}
	return ""
}

func external(e *Embed) *External {
	if e == nil {
		return nil
	}
	if e.Type == embedRecordWithMedia {
		return external(e.Media)
	}
	if e.Type == embedExternal {
		return e.External
	}
	return nil
}

// recordMedia lists a record's images and video with the URLs Bluesky's
// CDN serves them from.
func recordMedia(did string, e *Embed) []post.Media {
	if e == nil {
		return nil
	}
	switch e.Type {
	case embedRecordWithMedia:
		if e.Media != nil && e.Media.Type != embedRecordWithMedia {
			return recordMedia(did, e.Media)
		}
	case embedImages:
		var out []post.Media
		for _, img := range e.Images {
			cid := img.Image.CIDOf()
			if !validCID(cid) {
				continue
			}
			m := post.Media{
				Kind:       post.MediaImage,
				URL:        cdnURL + "/feed_fullsize/plain/" + did + "/" + cid + "@jpeg",
				PreviewURL: cdnURL + "/feed_thumbnail/plain/" + did + "/" + cid + "@jpeg",
				Alt:        img.Alt,
			}
			if img.AspectRatio != nil {
				m.Width, m.Height = img.AspectRatio.Width, img.AspectRatio.Height
			}
			out = append(out, m)
		}
		return out
	case embedVideo:
		cid := e.Video.CIDOf()
		if !validCID(cid) {
			return nil
		}
		m := post.Media{
			Kind:       post.MediaVideo,
			URL:        videoURL + "/" + did + "/" + cid + "/playlist.m3u8",
			PreviewURL: videoURL + "/" + did + "/" + cid + "/thumbnail.jpg",
			Alt:        e.Alt,
		}
		if e.AspectRatio != nil {
			m.Width, m.Height = e.AspectRatio.Width, e.AspectRatio.Height
		}
		return []post.Media{m}
	}
	return nil
}

// validCID accepts what can stand in a URL path: CIDs are base32/base58.
func validCID(cid string) bool {
	if cid == "" || len(cid) > 128 {
		return false
	}
	for _, r := range cid {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// viewMedia lists the media of an embed view (searchPosts), whose URLs the
// AppView gives.
func viewMedia(e *EmbedView) []post.Media {
	switch e.Type {
	case embedImages + "#view":
		var out []post.Media
		for _, img := range e.Images {
			m := post.Media{Kind: post.MediaImage, URL: img.Fullsize, PreviewURL: img.Thumb, Alt: img.Alt}
			if img.AspectRatio != nil {
				m.Width, m.Height = img.AspectRatio.Width, img.AspectRatio.Height
			}
			out = append(out, m)
		}
		return out
	case embedVideo + "#view":
		m := post.Media{Kind: post.MediaVideo, URL: e.Playlist, PreviewURL: e.Thumbnail, Alt: e.Alt}
		if e.AspectRatio != nil {
			m.Width, m.Height = e.AspectRatio.Width, e.AspectRatio.Height
		}
		return []post.Media{m}
	case embedRecordWithMedia + "#view":
		if e.Media != nil && e.Media.Type != e.Type {
			return viewMedia(e.Media)
		}
	}
	return nil
}

// warnings maps the self-labels (and the Bluesky moderation labels of the
// same names) to the warning the Bluesky app shows.
var warnings = []struct{ val, text string }{
	{"porn", "Adult content"},
	{"sexual", "Sexually suggestive"},
	{"nudity", "Non-sexual nudity"},
	{"graphic-media", "Graphic media"},
	{"gore", "Graphic media"},
}

// warning is the content warning for label values ("" when none applies).
func warning(vals []string) string {
	var out []string
	for _, w := range warnings {
		for _, v := range vals {
			if v == w.val && !contains(out, w.text) {
				out = append(out, w.text)
			}
		}
	}
	return strings.Join(out, ", ")
}

func joinWarning(a, b string) string {
	if a == "" {
		return b
	}
	for _, part := range strings.Split(b, ", ") {
		if !strings.Contains(a, part) {
			a += ", " + part
		}
	}
	return a
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
