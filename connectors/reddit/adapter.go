package reddit

import (
	"fmt"
	"html"
	"math"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/chorus-wall/chorus/post"
)

// Network is the network name of Reddit posts.
const Network = "reddit"

// site is where permalinks and profiles live.
const site = "https://www.reddit.com"

// removedText is what Reddit leaves of a removed or deleted post's body.
var removedText = map[string]bool{"[removed]": true, "[deleted]": true}

// Removed reports whether a post was removed by moderators or Reddit, or
// deleted by its author: it must leave the screens if it is on them.
func Removed(l *Link) bool {
	return len(l.RemovedByCategory) > 0 || l.Author == "[deleted]" || removedText[strings.TrimSpace(l.Selftext)]
}

// Created is when the post was made.
func Created(l *Link) time.Time {
	f := float64(l.CreatedUTC)
	if f <= 0 || math.IsNaN(f) || math.IsInf(f, 0) || f > 1e11 {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// PostID is the Chorus id of a Reddit post: "reddit:<base36 id>".
func PostID(l *Link) string { return Network + ":" + l.ID }

// Adapt maps a link to a normalized post for source, fetched at now.
// Removed posts are not adapted (see Removed).
func Adapt(l *Link, source string, now time.Time) (post.Post, error) {
	if Removed(l) {
		return post.Post{}, fmt.Errorf("reddit: post %s was removed", l.Name)
	}
	p := post.Post{
		ID:      PostID(l),
		Network: Network,
		URL:     permalink(l.Permalink),
		Author:  author(l),
		Kind:    post.KindOriginal,
		Source:  source,
		Counts: post.Counts{
			Likes:   max(l.Score, 0),
			Replies: max(l.NumComments, 0),
			Reposts: max(l.NumCrossposts, 0),
		},
		CreatedAt: Created(l),
		FetchedAt: now,
	}
	title := plain(l.Title)
	body := l
	if len(l.CrosspostParentList) > 0 {
		// A crosspost shows what it shares: the parent's body and media
		// under the crossposter's title. Same title: a repost; its own
		// title: a quote.
		parent := &l.CrosspostParentList[0]
		body = parent
		p.Kind = post.KindQuote
		if strings.EqualFold(title, plain(parent.Title)) {
			p.Kind = post.KindRepost
		}
		if u := permalink(parent.Permalink); u != "" {
			p.Links = append(p.Links, post.Link{URL: u, Title: parent.SubredditNamePrefixed})
		}
	}
	text, links := markdownToText(body.Selftext)
	if removedText[strings.TrimSpace(body.Selftext)] {
		text, links = "", nil
	}
	p.Text, links = joinTitle(title, text, links)
	p.Links = append(links, p.Links...)
	if dest := outbound(body); dest != "" {
		p.Links = append(p.Links, post.Link{URL: dest, Title: body.Domain})
	}
	p.Media = media(body)
	p.Hashtags, p.Mentions = entities(p.Text)
	var warnings []string
	if l.Over18 || body.Over18 {
		p.Sensitive = true
		warnings = append(warnings, "NSFW")
	}
	if l.Spoiler || body.Spoiler {
		p.Sensitive = true
		warnings = append(warnings, "Spoiler")
	}
	p.ContentWarning = strings.Join(warnings, ", ")
	if err := p.Normalize(Network, now); err != nil {
		return post.Post{}, fmt.Errorf("reddit: post %s: %w", l.Name, err)
	}
	return p, nil
}

func permalink(p string) string {
	if p == "" {
		return ""
	}
	if strings.HasPrefix(p, "http") {
		return p
	}
	return site + p
}

func author(l *Link) post.Author {
	a := post.Author{ID: l.AuthorFullname, Handle: l.Author, Name: l.Author}
	if l.Author != "" {
		a.ProfileURL = site + "/user/" + url.PathEscape(l.Author)
	}
	return a
}

// joinTitle puts the title above the body, shifting the body's spans. A
// text over post.MaxTextRunes is cut with "…" (Normalize would cut it
// silently).
func joinTitle(title, body string, links []post.Link) (string, []post.Link) {
	text := body
	if title != "" {
		text = title
		if body != "" {
			shift := utf8.RuneCountInString(title) + 2
			for i := range links {
				if links[i].End > links[i].Start {
					links[i].Start += shift
					links[i].End += shift
				}
			}
			text = title + "\n\n" + body
		}
	}
	if utf8.RuneCountInString(text) > post.MaxTextRunes {
		head := string([]rune(text)[:post.MaxTextRunes-1])
		if sp := strings.LastIndexFunc(head, unicode.IsSpace); sp > 0 && utf8.RuneCountInString(head[:sp]) > post.MaxTextRunes*4/5 {
			head = head[:sp]
		}
		text = strings.TrimRightFunc(head, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }) + "…"
		n := utf8.RuneCountInString(text) - 1
		for i := range links {
			if links[i].End > n {
				links[i].Start, links[i].End = 0, 0
			}
		}
	}
	return text, links
}

// outbound is where a link post points, when it is neither Reddit-hosted
// media (shown as media) nor a Reddit post (a self post, a crosspost).
func outbound(l *Link) string {
	dest := l.URLOverriddenByDest
	if dest == "" && !l.IsSelf {
		dest = l.URL
	}
	dest = html.UnescapeString(strings.TrimSpace(dest))
	u, err := url.Parse(dest)
	if err != nil || u.Host == "" {
		return ""
	}
	switch strings.TrimPrefix(strings.ToLower(u.Host), "www.") {
	case "i.redd.it", "v.redd.it", "preview.redd.it":
		return ""
	case "reddit.com", "old.reddit.com", "new.reddit.com":
		if strings.Contains(u.Path, "/gallery/") || strings.Contains(u.Path, "/comments/") {
			return ""
		}
	}
	return dest
}

// media gathers a post's pictures and videos: a gallery in its order, a
// Reddit-hosted video, else the preview (the image itself for an image
// post, the link card's picture for a link post).
func media(l *Link) []post.Media {
	var out []post.Media
	if l.IsGallery && l.GalleryData != nil {
		for _, it := range l.GalleryData.Items {
			m, ok := l.MediaMetadata[it.MediaID]
			if !ok || (m.Status != "" && m.Status != "valid") {
				continue
			}
			alt := plain(it.Caption)
			switch m.E {
			case "Image":
				out = append(out, post.Media{Kind: post.MediaImage, URL: html.UnescapeString(m.S.U), Width: m.S.X, Height: m.S.Y, Alt: alt})
			case "AnimatedImage":
				if m.S.MP4 != "" {
					out = append(out, post.Media{Kind: post.MediaGIF, URL: html.UnescapeString(m.S.MP4), PreviewURL: html.UnescapeString(m.S.GIF), Width: m.S.X, Height: m.S.Y, Alt: alt})
				} else if m.S.GIF != "" {
					out = append(out, post.Media{Kind: post.MediaGIF, URL: html.UnescapeString(m.S.GIF), Width: m.S.X, Height: m.S.Y, Alt: alt})
				}
			}
		}
		return out
	}
	var preview *PreviewImage
	if l.Preview != nil && len(l.Preview.Images) > 0 {
		preview = &l.Preview.Images[0]
	}
	if l.Media != nil && l.Media.RedditVideo != nil && l.Media.RedditVideo.FallbackURL != "" {
		v := l.Media.RedditVideo
		m := post.Media{Kind: post.MediaVideo, URL: html.UnescapeString(v.FallbackURL), Width: v.Width, Height: v.Height}
		if v.IsGIF {
			m.Kind = post.MediaGIF
		}
		if preview != nil {
			m.PreviewURL = html.UnescapeString(preview.Source.URL)
		}
		return append(out, m)
	}
	if preview == nil || preview.Source.URL == "" {
		return nil
	}
	if g := preview.Variants.MP4; g != nil && g.Source.URL != "" {
		return append(out, post.Media{Kind: post.MediaGIF, URL: html.UnescapeString(g.Source.URL), PreviewURL: html.UnescapeString(preview.Source.URL), Width: g.Source.Width, Height: g.Source.Height})
	}
	src := html.UnescapeString(preview.Source.URL)
	if dest := html.UnescapeString(l.URLOverriddenByDest); l.PostHint == "image" && strings.HasPrefix(dest, "https://i.redd.it/") {
		// The original upload beats the re-encoded preview of the same size.
		src = dest
	}
	return append(out, post.Media{Kind: post.MediaImage, URL: src, Width: preview.Source.Width, Height: preview.Source.Height})
}

// entities finds #hashtags and u/user mentions in text.
func entities(text string) (hashtags, mentions []string) {
	runes := []rune(text)
	boundary := func(i int) bool {
		return i == 0 || unicode.IsSpace(runes[i-1]) || strings.ContainsRune("([{\"'", runes[i-1])
	}
	word := func(i int, ok func(rune) bool) int {
		j := i
		for j < len(runes) && ok(runes[j]) {
			j++
		}
		return j
	}
	for i := 0; i < len(runes); i++ {
		switch {
		case runes[i] == '#' && boundary(i):
			j := word(i+1, func(r rune) bool {
				return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || unicode.Is(unicode.Mn, r)
			})
			if j > i+1 && !allDigits(runes[i+1:j]) {
				hashtags = appendNew(hashtags, string(runes[i+1:j]))
			}
			i = j - 1
		case (runes[i] == 'u' || runes[i] == 'U') && i+1 < len(runes) && runes[i+1] == '/' && (boundary(i) || i > 0 && runes[i-1] == '/' && (i == 1 || boundary(i-1))):
			j := word(i+2, func(r rune) bool {
				return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-')
			})
			if j-(i+2) >= 3 && j-(i+2) <= 20 {
				mentions = appendNew(mentions, string(runes[i+2:j]))
			}
			i = j - 1
		}
	}
	return hashtags, mentions
}

func allDigits(rs []rune) bool {
	for _, r := range rs {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return list
		}
	}
	return append(list, s)
}
