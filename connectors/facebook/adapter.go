package facebook

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/chorus-wall/chorus/connectors/facebook/graph"
	"github.com/chorus-wall/chorus/post"
)

// Network is the network name of every post this source produces.
const Network = "facebook"

// profileBase is where Facebook profiles and pages live.
const profileBase = "https://www.facebook.com/"

// ParsePost decodes one item of a posts or tagged edge and its creation
// time.
func ParsePost(raw []byte) (Post, time.Time, error) {
	var w Post
	if err := json.Unmarshal(raw, &w); err != nil {
		return Post{}, time.Time{}, fmt.Errorf("facebook: decode post: %w", err)
	}
	if w.ID == "" {
		return Post{}, time.Time{}, fmt.Errorf("facebook: post without id")
	}
	created, err := graph.ParseTime(w.CreatedTime)
	if err != nil {
		return Post{}, time.Time{}, fmt.Errorf("facebook: post %s: created_time: %w", w.ID, err)
	}
	return w, created, nil
}

// ParseComment decodes one item of a comments edge and its creation time.
func ParseComment(raw []byte) (Comment, time.Time, error) {
	var w Comment
	if err := json.Unmarshal(raw, &w); err != nil {
		return Comment{}, time.Time{}, fmt.Errorf("facebook: decode comment: %w", err)
	}
	if w.ID == "" {
		return Comment{}, time.Time{}, fmt.Errorf("facebook: comment without id")
	}
	created, err := graph.ParseTime(w.CreatedTime)
	if err != nil {
		return Comment{}, time.Time{}, fmt.Errorf("facebook: comment %s: created_time: %w", w.ID, err)
	}
	return w, created, nil
}

// AdaptPost turns a page post into a normalized post from source. A post
// that shares another (parent_id) is a repost, or a quote when it says
// something of its own.
func AdaptPost(w Post, created time.Time, source string, now time.Time) (post.Post, error) {
	raw, tags := w.Message, w.MessageTags
	if strings.TrimSpace(raw) == "" {
		raw, tags = w.Story, nil
	}
	p := post.Post{
		ID:        Network + ":" + w.ID,
		Network:   Network,
		URL:       w.PermalinkURL,
		Author:    author(w.From),
		Kind:      post.KindOriginal,
		CreatedAt: created,
		FetchedAt: now,
		Source:    source,
	}
	if p.URL == "" {
		p.URL = profileBase + url.PathEscape(w.ID)
	}
	if w.ParentID != "" {
		p.Kind = post.KindRepost
		if strings.TrimSpace(w.Message) != "" {
			p.Kind = post.KindQuote
		}
	}
	setText(&p, ParseText(raw, tags))
	if w.Attachments != nil {
		for _, a := range w.Attachments.Data {
			attach(&p, a, 0)
		}
	}
	if w.Shares != nil {
		p.Counts.Reposts = max(w.Shares.Count, 0)
	}
	if w.Reactions != nil {
		p.Counts.Likes = max(w.Reactions.Summary.TotalCount, 0)
	}
	if w.Comments != nil {
		p.Counts.Replies = max(w.Comments.Summary.TotalCount, 0)
	}
	return finish(p, now)
}

// AdaptComment turns a comment into a normalized reply post from source.
func AdaptComment(w Comment, created time.Time, source string, now time.Time) (post.Post, error) {
	p := post.Post{
		ID:        Network + ":" + w.ID,
		Network:   Network,
		URL:       w.PermalinkURL,
		Author:    author(w.From),
		Kind:      post.KindReply,
		CreatedAt: created,
		FetchedAt: now,
		Source:    source,
		Counts:    post.Counts{Likes: max(w.LikeCount, 0), Replies: max(w.CommentCount, 0)},
	}
	setText(&p, ParseText(w.Message, w.MessageTags))
	if w.Attachment != nil {
		attach(&p, *w.Attachment, 0)
	}
	return finish(p, now)
}

func finish(p post.Post, now time.Time) (post.Post, error) {
	if err := p.Normalize(Network, now); err != nil {
		return post.Post{}, fmt.Errorf("facebook: %s: %w", p.ID, err)
	}
	if strings.TrimSpace(p.Text) == "" && len(p.Media) == 0 {
		// Normalize drops unsafe media URLs after its emptiness check.
		return post.Post{}, fmt.Errorf("facebook: %s: %w: text is required (no text, and no media with a usable URL)", p.ID, post.ErrInvalid)
	}
	return p, nil
}

func author(f *Profile) post.Author {
	if f == nil {
		return post.Author{}
	}
	a := post.Author{ID: f.ID, Name: f.Name}
	if f.ID != "" {
		a.ProfileURL = profileBase + url.PathEscape(f.ID)
	}
	if f.Picture != nil {
		a.AvatarURL = f.Picture.Data.URL
	}
	return a
}

// Text is a message as plain text with its entities; every span is in
// code points into Text.
type Text struct {
	Text     string
	Hashtags []graph.Span
	URLs     []graph.Span
	Mentions []Mention
}

// Mention is a profile, page, group or event tagged in a message.
type Mention struct {
	ID, Name, Type string
	// Start and End are code points into the text; both 0 when the tag's
	// UTF-16 range did not fit the message.
	Start, End int
}

// ParseText cleans raw the way post.Normalize does and finds its links and
// hashtags, and places its message_tags (whose offsets the Graph API gives
// in UTF-16 code units) in code points.
func ParseText(raw string, tags MessageTags) Text {
	t := Text{Text: graph.Clean(raw)}
	e := graph.Scan(t.Text, false)
	t.Hashtags, t.URLs = e.Hashtags, e.URLs
	if len(tags) == 0 {
		return t
	}
	off := graph.NewOffsets(raw)
	for _, tag := range tags {
		m := Mention{ID: tag.ID, Name: tag.Name, Type: tag.Type}
		if start, end, ok := off.Span(tag.Offset, tag.Length); ok {
			m.Start, m.End = start, end
			if m.Name == "" {
				m.Name = string([]rune(t.Text)[start:end])
			}
		}
		if m.Name != "" {
			t.Mentions = append(t.Mentions, m)
		}
	}
	return t
}

// setText puts t into p. The post keeps hashtags and mentions by name (it
// has no spans for them) and links with their spans.
func setText(p *post.Post, t Text) {
	p.Text = t.Text
	for _, h := range t.Hashtags {
		p.Hashtags = graph.AppendUnique(p.Hashtags, h.Value)
	}
	for _, m := range t.Mentions {
		p.Mentions = graph.AppendUnique(p.Mentions, m.Name)
	}
	for _, u := range t.URLs {
		p.Links = append(p.Links, post.Link{URL: unshim(u.Value), Start: u.Start, End: u.End})
	}
}

// attach adds one attachment: photos and album photos as images, videos
// as video media with their thumbnail as preview, animated images as GIFs,
// shared links as links (titled, merged with the same link in the text).
func attach(p *post.Post, a Attachment, depth int) {
	if a.Subattachments != nil && len(a.Subattachments.Data) > 0 && depth < 2 {
		// An album's (or multi-share's) own media repeats its first child.
		for _, sub := range a.Subattachments.Data {
			attach(p, sub, depth+1)
		}
		return
	}
	kind, typ := strings.ToLower(a.MediaType), strings.ToLower(a.Type)
	var img struct {
		src  string
		w, h int
	}
	if a.Media != nil && a.Media.Image != nil {
		img.src, img.w, img.h = a.Media.Image.Src, a.Media.Image.Width, a.Media.Image.Height
	}
	switch {
	case kind == "link" || typ == "share" || typ == "multi_share" || strings.HasSuffix(typ, "_share") && !strings.HasPrefix(typ, "animated_image"):
		addLink(p, unshim(a.URL), a.Title)
	case kind == "video" || strings.HasPrefix(typ, "video"):
		u := a.URL
		if a.Media != nil && a.Media.Source != "" {
			u = a.Media.Source
		}
		if u == "" {
			u = img.src
		}
		p.Media = append(p.Media, post.Media{Kind: post.MediaVideo, URL: u, PreviewURL: img.src, Width: img.w, Height: img.h})
	case strings.HasPrefix(typ, "animated_image"):
		if img.src != "" {
			p.Media = append(p.Media, post.Media{Kind: post.MediaGIF, URL: img.src, Width: img.w, Height: img.h})
		}
	case img.src != "":
		p.Media = append(p.Media, post.Media{Kind: post.MediaImage, URL: img.src, Width: img.w, Height: img.h})
	}
}

func addLink(p *post.Post, u, title string) {
	if u == "" {
		return
	}
	for i := range p.Links {
		if p.Links[i].URL == u {
			if p.Links[i].Title == "" {
				p.Links[i].Title = title
			}
			return
		}
	}
	p.Links = append(p.Links, post.Link{URL: u, Title: title})
}

// unshim returns the destination of Facebook's outbound link redirect
// (l.facebook.com/l.php?u=...), which shared links' attachment URLs often
// are, and u itself otherwise.
func unshim(u string) string {
	parsed, err := url.Parse(u)
	if err != nil || parsed.Path != "/l.php" {
		return u
	}
	if host := strings.ToLower(parsed.Host); host != "l.facebook.com" && host != "lm.facebook.com" {
		return u
	}
	if dest := parsed.Query().Get("u"); post.SafeURL(dest) != "" && !strings.HasPrefix(dest, "/") {
		return dest
	}
	return u
}

// sortByTime orders posts oldest first (by id within a second), the order
// in which a source returns them.
func sortByTime(ps []post.Post) {
	sort.SliceStable(ps, func(i, j int) bool {
		if !ps[i].CreatedAt.Equal(ps[j].CreatedAt) {
			return ps[i].CreatedAt.Before(ps[j].CreatedAt)
		}
		return ps[i].ID < ps[j].ID
	})
}
