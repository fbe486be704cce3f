package rss

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	jsonfeed "github.com/mmcdole/gofeed/json"

	"github.com/chorus-wall/chorus/post"
)

// Network is the network name of feed posts.
const Network = "rss"

// entry is one feed item turned into a post, or the reason it could not be.
type entry struct {
	// key is the item's stable native id (the hex hash in the post id).
	key        string
	post       post.Post
	categories []string
	dated      bool
	err        error
}

// adaptOptions are the settings the mapping needs.
type adaptOptions struct {
	source    string
	textLimit int
}

// adaptFeed maps every item of f, fetched from feedURL at now, to a
// normalized post. Items are returned in document order; an item that
// cannot be mapped carries its error and no post.
func adaptFeed(feedURL string, f *gofeed.Feed, o adaptOptions, now time.Time) []entry {
	if f == nil {
		return nil
	}
	base := feedBase(feedURL, f)
	jsonByID, jf := jsonItems(f)
	author := feedAuthor(feedURL, f, base)
	if jf != nil && author.AvatarURL == "" && len(jf.Authors) > 0 && jf.Authors[0] != nil {
		author.AvatarURL = resolveURL(base, jf.Authors[0].Avatar)
	}
	out := make([]entry, 0, len(f.Items))
	for _, it := range f.Items {
		if it == nil {
			continue
		}
		var ji *jsonfeed.Item
		if jsonByID != nil {
			ji = jsonByID[it.GUID]
		}
		out = append(out, adaptItem(feedURL, base, f, it, ji, author, o, now))
	}
	return out
}

// itemKey is the item's stable id within all feeds: a hash of the feed URL
// and the item's guid (Atom id, JSON Feed id), else its link, else its
// title and dates, so the same item gets the same id on every fetch.
func itemKey(feedURL string, it *gofeed.Item) (string, error) {
	var native string
	switch {
	case strings.TrimSpace(it.GUID) != "":
		native = "guid:" + strings.TrimSpace(it.GUID)
	case strings.TrimSpace(it.Link) != "":
		native = "link:" + strings.TrimSpace(it.Link)
	case strings.TrimSpace(it.Title) != "" || it.Published != "" || it.Updated != "":
		native = "title:" + strings.TrimSpace(it.Title) + "\n" + it.Published + "\n" + it.Updated
	default:
		return "", errors.New("item has no guid, link, title or date to identify it")
	}
	sum := sha256.Sum256([]byte(feedURL + "\n" + native))
	return hex.EncodeToString(sum[:16]), nil
}

func adaptItem(feedURL string, base *url.URL, f *gofeed.Feed, it *gofeed.Item, ji *jsonfeed.Item, feedAuth post.Author, o adaptOptions, now time.Time) entry {
	key, err := itemKey(feedURL, it)
	if err != nil {
		return entry{err: fmt.Errorf("rss: %s: %w", feedURL, err)}
	}
	e := entry{key: key, categories: it.Categories}
	link := resolveURL(base, it.Link)
	itemBase := base
	if u, err := url.Parse(link); err == nil && link != "" {
		itemBase = u
	}

	// The summary reads best on a wall; the content stands in when there is
	// none, and both may hold pictures.
	title := strings.TrimSpace(htmlToText(it.Title, itemBase).text)
	summary := htmlToText(it.Description, itemBase)
	var content rendered
	if ji != nil && ji.ContentHTML == "" && ji.ContentText != "" {
		content = plainText(ji.ContentText)
	} else {
		content = htmlToText(it.Content, itemBase)
	}
	body := summary
	if strings.TrimSpace(body.text) == "" || (len(content.text) > 0 && strings.HasPrefix(content.text, strings.TrimSuffix(body.text, "…"))) {
		// No summary, or a summary that is just the start of the content.
		body = content
	}
	text, links := joinTitle(title, body)
	text, links = cut(text, links, o.textLimit)

	p := post.Post{
		ID:      Network + ":" + key,
		Network: Network,
		URL:     link,
		Author:  feedAuth,
		Text:    text,
		Links:   links,
		Kind:    post.KindOriginal,
		Lang:    f.Language,
		Source:  o.source,
	}
	if ji != nil && ji.Language != "" {
		p.Lang = ji.Language
	}
	if a := itemAuthor(it); a != "" {
		p.Author.Name = a
		p.Author.ID = feedAuth.ID + "#" + a
	}
	if ji != nil {
		if as := jsonAuthors(ji); len(as) > 0 && as[0] != nil {
			if as[0].Avatar != "" {
				p.Author.AvatarURL = resolveURL(itemBase, as[0].Avatar)
			}
			if as[0].URL != "" {
				p.Author.ProfileURL = resolveURL(itemBase, as[0].URL)
			}
		}
	}
	var adult bool
	p.Media, adult = itemMedia(it, itemBase, summary.images, content.images)
	p.Sensitive = adult
	p.Hashtags = categoryTags(it.Categories)
	switch {
	case it.PublishedParsed != nil && !it.PublishedParsed.IsZero():
		p.CreatedAt, e.dated = *it.PublishedParsed, true
	case it.UpdatedParsed != nil && !it.UpdatedParsed.IsZero():
		p.CreatedAt, e.dated = *it.UpdatedParsed, true
	default:
		p.CreatedAt = now
	}
	if p.CreatedAt.After(now) {
		// A date in the future is a wrong clock or a typo; it must not pin
		// the item on top of every wall.
		p.CreatedAt = now
	}
	p.FetchedAt = now
	if err := p.Normalize(Network, now); err != nil {
		e.err = fmt.Errorf("rss: %s: item %s: %w", feedURL, key, err)
		return e
	}
	e.post = p
	return e
}

func jsonAuthors(ji *jsonfeed.Item) []*jsonfeed.Author {
	if len(ji.Authors) > 0 {
		return ji.Authors
	}
	if ji.Author != nil {
		return []*jsonfeed.Author{ji.Author}
	}
	return nil
}

// joinTitle puts the title on its own paragraph above the body, shifting
// the body's link spans; a body that only repeats the title is dropped.
func joinTitle(title string, body rendered) (string, []post.Link) {
	switch {
	case title == "":
		return body.text, body.links
	case body.text == "" || body.text == title:
		return title, body.links
	}
	shift := utf8.RuneCountInString(title) + 2
	links := make([]post.Link, len(body.links))
	for i, l := range body.links {
		if l.End > l.Start {
			l.Start += shift
			l.End += shift
		}
		links[i] = l
	}
	return title + "\n\n" + body.text, links
}

// plainText is a text that is plain already (JSON Feed content_text).
func plainText(s string) rendered {
	return rendered{text: strings.TrimSpace(post.CleanText(s))}
}

// feedBase is the URL relative links resolve against: the site's home page
// when the feed names it, else the feed's own URL.
func feedBase(feedURL string, f *gofeed.Feed) *url.URL {
	feedU, _ := url.Parse(feedURL)
	if f.Link != "" {
		if u, err := url.Parse(strings.TrimSpace(f.Link)); err == nil {
			if feedU != nil {
				u = feedU.ResolveReference(u)
			}
			if u.Scheme == "http" || u.Scheme == "https" {
				return u
			}
		}
	}
	return feedU
}

// feedAuthor is who stands for the feed: its title, its image as avatar
// and its site as profile. The feed URL identifies it, so a moderator's
// ban holds the feed.
func feedAuthor(feedURL string, f *gofeed.Feed, base *url.URL) post.Author {
	a := post.Author{ID: feedURL, Name: strings.TrimSpace(htmlToText(f.Title, base).text)}
	if a.Name == "" && base != nil {
		a.Name = base.Host
	}
	if f.Image != nil {
		a.AvatarURL = resolveURL(base, f.Image.URL)
	}
	if base != nil && (base.Scheme == "http" || base.Scheme == "https") {
		a.ProfileURL = base.String()
	}
	return a
}

func itemAuthor(it *gofeed.Item) string {
	for _, p := range it.Authors {
		if p != nil && strings.TrimSpace(p.Name) != "" {
			return strings.TrimSpace(p.Name)
		}
	}
	if it.Author != nil {
		return strings.TrimSpace(it.Author.Name)
	}
	return ""
}

// categoryTags keeps the categories that are a single word, as hashtags.
func categoryTags(cats []string) []string {
	var out []string
	for _, c := range cats {
		c = strings.TrimPrefix(strings.TrimSpace(c), "#")
		if c == "" || strings.ContainsFunc(c, func(r rune) bool {
			return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || unicode.Is(unicode.Mn, r))
		}) {
			continue
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// itemMedia gathers the item's pictures and videos: image and video
// enclosures (RSS enclosure, Atom rel="enclosure", JSON Feed attachments),
// Media RSS content and thumbnails, the JSON Feed image and the images in
// its HTML, each URL once. adult reports a Media RSS adult rating.
func itemMedia(it *gofeed.Item, base *url.URL, inline ...[]post.Media) (media []post.Media, adult bool) {
	seen := map[string]bool{}
	add := func(m post.Media) {
		m.URL = resolveURL(base, m.URL)
		if m.PreviewURL != "" {
			m.PreviewURL = resolveURL(base, m.PreviewURL)
		}
		if m.URL == "" || seen[m.URL] {
			return
		}
		seen[m.URL] = true
		media = append(media, m)
	}
	contents, adult := mediaRSS(it.Extensions)
	for _, c := range contents {
		switch kind := mediaKind(c.Type, c.Medium, c.URL); kind {
		case post.MediaImage, post.MediaGIF:
			add(post.Media{Kind: kind, URL: c.URL, Width: c.Width, Height: c.Height, Alt: c.Alt})
		case post.MediaVideo:
			add(post.Media{Kind: kind, URL: c.URL, PreviewURL: c.Thumbnail, Width: c.Width, Height: c.Height, Alt: c.Alt})
		}
	}
	for _, enc := range it.Enclosures {
		if enc == nil {
			continue
		}
		if kind := mediaKind(strings.ToLower(enc.Type), "", ""); kind != "" {
			add(post.Media{Kind: kind, URL: enc.URL})
		}
	}
	for _, list := range inline {
		for _, m := range list {
			add(m)
		}
	}
	if it.Image != nil && it.Image.URL != "" {
		add(post.Media{Kind: post.MediaImage, URL: it.Image.URL, Alt: it.Image.Title})
	}
	return media, adult
}

// mediaKind classifies by MIME type, then Media RSS medium, then (for
// media:content without either) the file extension; "" for audio and
// documents, which a wall cannot show.
func mediaKind(mime, medium, rawURL string) post.MediaKind {
	switch {
	case mime == "image/gif":
		return post.MediaGIF
	case strings.HasPrefix(mime, "image/"):
		return post.MediaImage
	case strings.HasPrefix(mime, "video/"):
		return post.MediaVideo
	case mime != "":
		return ""
	case medium == "image":
		return post.MediaImage
	case medium == "video":
		return post.MediaVideo
	case medium != "":
		return ""
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	p := strings.ToLower(u.Path)
	switch {
	case strings.HasSuffix(p, ".gif"):
		return post.MediaGIF
	case strings.HasSuffix(p, ".jpg"), strings.HasSuffix(p, ".jpeg"), strings.HasSuffix(p, ".png"), strings.HasSuffix(p, ".webp"), strings.HasSuffix(p, ".avif"):
		return post.MediaImage
	case strings.HasSuffix(p, ".mp4"), strings.HasSuffix(p, ".webm"), strings.HasSuffix(p, ".mov"):
		return post.MediaVideo
	}
	return ""
}

// matches reports whether a post passes the keyword and hashtag filter:
// with neither set every post does; otherwise a keyword must appear in
// its text (title and summary) or categories, or a hashtag must be one of
// its categories or appear as #tag in its text, ignoring case.
func matches(p *post.Post, categories []string, keywords, hashtags []string) bool {
	if len(keywords) == 0 && len(hashtags) == 0 {
		return true
	}
	text := strings.ToLower(p.Text)
	for _, k := range keywords {
		k = strings.ToLower(k)
		if strings.Contains(text, k) {
			return true
		}
		for _, c := range categories {
			if strings.Contains(strings.ToLower(c), k) {
				return true
			}
		}
	}
	for _, h := range hashtags {
		for _, c := range categories {
			if strings.EqualFold(strings.TrimPrefix(strings.TrimSpace(c), "#"), h) {
				return true
			}
		}
		if strings.Contains(text, "#"+strings.ToLower(h)) {
			return true
		}
	}
	return false
}
