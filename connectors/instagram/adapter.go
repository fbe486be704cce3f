package instagram

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/chorus-wall/chorus/connectors/facebook/graph"
	"github.com/chorus-wall/chorus/post"
)

// Network is the network name of every post this source produces.
const Network = "instagram"

// AuthorName is the name given to every post's author: hashtag search
// results do not say who posted (no username, no owner), and this source
// does not make one up.
const AuthorName = "Instagram"

// ParseMedia decodes one item of a recent_media edge and its timestamp.
func ParseMedia(raw []byte) (Media, time.Time, error) {
	var w Media
	if err := json.Unmarshal(raw, &w); err != nil {
		return Media{}, time.Time{}, fmt.Errorf("instagram: decode media: %w", err)
	}
	if w.ID == "" {
		return Media{}, time.Time{}, fmt.Errorf("instagram: media without id")
	}
	created, err := graph.ParseTime(w.Timestamp)
	if err != nil {
		return Media{}, time.Time{}, fmt.Errorf("instagram: media %s: timestamp: %w", w.ID, err)
	}
	return w, created, nil
}

// Text is a caption as plain text with its hashtags, @mentions and links,
// their spans in code points into Text.
type Text struct {
	Text string
	graph.Entities
}

// ParseText cleans a caption the way post.Normalize does and finds its
// entities.
func ParseText(caption string) Text {
	t := Text{Text: graph.Clean(caption)}
	t.Entities = graph.Scan(t.Text, true)
	return t
}

// AdaptMedia turns hashtag media into a normalized post from source. The
// author is unknown (AuthorName, no handle); a carousel becomes several
// media; a video shows its thumbnail; children without a media_url
// (copyrighted material) are left out.
func AdaptMedia(w Media, created time.Time, source string, now time.Time) (post.Post, error) {
	p := post.Post{
		ID:        Network + ":" + w.ID,
		Network:   Network,
		URL:       w.Permalink,
		Author:    post.Author{Name: AuthorName},
		Kind:      post.KindOriginal,
		CreatedAt: created,
		FetchedAt: now,
		Source:    source,
		Counts:    post.Counts{Replies: max(w.CommentsCount, 0)},
	}
	if w.LikeCount != nil {
		p.Counts.Likes = max(*w.LikeCount, 0)
	}
	t := ParseText(w.Caption)
	p.Text = t.Text
	for _, h := range t.Hashtags {
		p.Hashtags = graph.AppendUnique(p.Hashtags, h.Value)
	}
	for _, m := range t.Mentions {
		p.Mentions = graph.AppendUnique(p.Mentions, m.Value)
	}
	for _, u := range t.URLs {
		p.Links = append(p.Links, post.Link{URL: u.Value, Start: u.Start, End: u.End})
	}
	switch strings.ToUpper(w.MediaType) {
	case "CAROUSEL_ALBUM":
		if w.Children != nil {
			for _, c := range w.Children.Data {
				p.Media = appendMedia(p.Media, c.MediaType, c.MediaURL, c.ThumbnailURL, w.Permalink)
			}
		}
		if len(p.Media) == 0 {
			p.Media = appendMedia(p.Media, "IMAGE", w.MediaURL, w.ThumbnailURL, "")
		}
	default:
		p.Media = appendMedia(p.Media, w.MediaType, w.MediaURL, w.ThumbnailURL, w.Permalink)
	}
	if err := p.Normalize(Network, now); err != nil {
		return post.Post{}, fmt.Errorf("instagram: %s: %w", p.ID, err)
	}
	if strings.TrimSpace(p.Text) == "" && len(p.Media) == 0 {
		// Normalize drops unsafe media URLs after its emptiness check.
		return post.Post{}, fmt.Errorf("instagram: %s: %w: text is required (no caption, and no media with a usable URL)", p.ID, post.ErrInvalid)
	}
	return p, nil
}

// appendMedia adds one image or video. A video without media_url
// (copyrighted audio, for one) still shows its thumbnail, linking to the
// post (permalink) when it has one; anything without a URL is left out.
func appendMedia(list []post.Media, kind, mediaURL, thumb, permalink string) []post.Media {
	switch strings.ToUpper(kind) {
	case "VIDEO", "REELS":
		u := mediaURL
		if u == "" {
			u = permalink
		}
		if u == "" || thumb == "" && mediaURL == "" {
			return list
		}
		return append(list, post.Media{Kind: post.MediaVideo, URL: u, PreviewURL: thumb})
	default:
		if mediaURL == "" {
			return list
		}
		return append(list, post.Media{Kind: post.MediaImage, URL: mediaURL})
	}
}
