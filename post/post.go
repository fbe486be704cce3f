// Package post defines the normalized, display-ready post that every part of
// Chorus shares: connectors produce it, curation judges it, the index and the
// display show it.
package post

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind says how a post relates to other posts.
type Kind string

// The kinds of post a network can deliver.
const (
	KindOriginal Kind = "original"
	KindReply    Kind = "reply"
	KindRepost   Kind = "repost"
	KindQuote    Kind = "quote"
)

// MediaKind says what a media attachment is.
type MediaKind string

// The kinds of media a post can carry.
const (
	MediaImage MediaKind = "image"
	MediaVideo MediaKind = "video"
	MediaGIF   MediaKind = "gif"
)

// Post is one item from one network in the form displays and rules need.
// Text is plain text, never HTML: pages must render it with DOM text APIs.
type Post struct {
	ID       string   `json:"id"`
	Network  string   `json:"network"`
	URL      string   `json:"url,omitempty"`
	Author   Author   `json:"author"`
	Text     string   `json:"text"`
	Hashtags []string `json:"hashtags,omitempty"`
	Mentions []string `json:"mentions,omitempty"`
	Links    []Link   `json:"links,omitempty"`
	Media    []Media  `json:"media,omitempty"`
	Kind     Kind     `json:"kind"`
	// ReplyTo is the id of the post this one answers, when the network
	// says (a reply granting the right to use a post is matched by it).
	ReplyTo string `json:"reply_to,omitempty"`
	Lang    string `json:"lang,omitempty"`
	// Sentiment is the text's tone from -1 (negative) to 1 (positive), set by
	// curation's enrichment; 0 is neutral or unknown.
	Sentiment      float64   `json:"sentiment,omitempty"`
	Sensitive      bool      `json:"sensitive,omitempty"`
	ContentWarning string    `json:"content_warning,omitempty"`
	Counts         Counts    `json:"counts"`
	CreatedAt      time.Time `json:"created_at"`
	FetchedAt      time.Time `json:"fetched_at"`
	// EditedAt is when the author last edited the post at its source. A
	// post published again with a later EditedAt is an edit: curation
	// judges the new version.
	EditedAt time.Time `json:"edited_at,omitzero"`
	Source   string    `json:"source"`
	// Deleted marks a takedown notice: the post was deleted at its source
	// and must leave every screen. A takedown carries only the id, network
	// and source, and why when it is not a plain deletion (Gone).
	Deleted bool `json:"deleted,omitempty"`
	// Gone says why a takedown's post left its source: GoneDeleted (the
	// default), GonePrivate or GoneSensitive.
	Gone string `json:"gone,omitempty"`
}

// Why a post left its source (Post.Gone).
const (
	GoneDeleted   = "deleted"
	GonePrivate   = "private"
	GoneSensitive = "sensitive"
)

// IsEdit reports whether p is a later version of a post published before.
func (p *Post) IsEdit() bool { return !p.EditedAt.IsZero() && !p.Deleted }

// AuthorKey identifies a post's author within its network, for bans, trust
// and rate limits: "<network>:<handle>" lowercased, or "<network>:#<id>" when
// the network gives no handle.
func (p *Post) AuthorKey() string {
	if h := strings.ToLower(strings.TrimPrefix(p.Author.Handle, "@")); h != "" {
		return p.Network + ":" + h
	}
	if p.Author.ID != "" {
		return p.Network + ":#" + p.Author.ID
	}
	return ""
}

// Takedown returns the takedown notice for the post with id (a native id
// or "<network>:<native id>") on network, from source.
func Takedown(network, id, source string, now time.Time) Post {
	return Post{ID: id, Network: network, Source: source, Deleted: true, FetchedAt: now}
}

// Author is who wrote a post, as the network describes them.
type Author struct {
	ID         string `json:"id,omitempty"`
	Handle     string `json:"handle,omitempty"`
	Name       string `json:"name,omitempty"`
	AvatarURL  string `json:"avatar_url,omitempty"`
	ProfileURL string `json:"profile_url,omitempty"`
	Followers  int64  `json:"followers,omitempty"`
	Verified   bool   `json:"verified,omitempty"`
}

// Link is a link found in a post's text. Start and End are offsets in Unicode
// code points into Text; both are zero when the network gives no span.
type Link struct {
	URL   string `json:"url"`
	Title string `json:"title,omitempty"`
	Start int    `json:"start,omitempty"`
	End   int    `json:"end,omitempty"`
}

// Media is one image or video attached to a post.
type Media struct {
	Kind       MediaKind `json:"kind"`
	URL        string    `json:"url"`
	PreviewURL string    `json:"preview_url,omitempty"`
	Width      int       `json:"width,omitempty"`
	Height     int       `json:"height,omitempty"`
	Alt        string    `json:"alt,omitempty"`
}

// Counts are the engagement figures at fetch time.
type Counts struct {
	Likes   int64 `json:"likes,omitempty"`
	Reposts int64 `json:"reposts,omitempty"`
	Replies int64 `json:"replies,omitempty"`
}

// Limits on what a post may carry; anything longer is cut, so one hostile
// payload cannot bloat every screen's state.
const (
	MaxTextRunes  = 5000
	MaxNameRunes  = 200
	MaxURLBytes   = 2048
	MaxListLength = 50
	MaxIDBytes    = 512
)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid post")

// Normalize makes p safe and consistent in place: it fills defaults (network,
// kind, fetch time, id prefix), strips control characters, cuts fields to
// their limits and drops every URL that is not http(s) or a same-site path,
// so a javascript: or data: URL can never reach a page. It then validates p
// and returns an error naming the first bad field.
func (p *Post) Normalize(defaultNetwork string, now time.Time) error {
	p.Network = strings.ToLower(strings.TrimSpace(p.Network))
	if p.Network == "" {
		p.Network = defaultNetwork
	}
	if !IsToken(p.Network) {
		return fmt.Errorf("%w: network %q must be lowercase letters, digits, '-' or '_'", ErrInvalid, p.Network)
	}
	p.ID = strings.TrimSpace(p.ID)
	if p.ID == "" {
		return fmt.Errorf("%w: id is required", ErrInvalid)
	}
	if !strings.HasPrefix(p.ID, p.Network+":") {
		p.ID = p.Network + ":" + p.ID
	}
	if len(p.ID) > MaxIDBytes || strings.ContainsFunc(p.ID, isControl) {
		return fmt.Errorf("%w: id must be at most %d bytes without control characters", ErrInvalid, MaxIDBytes)
	}
	p.Text = cleanText(p.Text, MaxTextRunes)
	switch p.Kind {
	case "":
		p.Kind = KindOriginal
	case KindOriginal, KindReply, KindRepost, KindQuote:
	default:
		return fmt.Errorf("%w: kind %q must be original, reply, repost or quote", ErrInvalid, p.Kind)
	}
	p.URL = SafeURL(p.URL)
	if p.ReplyTo = cleanLine(p.ReplyTo, MaxIDBytes); p.ReplyTo != "" && !strings.HasPrefix(p.ReplyTo, p.Network+":") {
		p.ReplyTo = p.Network + ":" + p.ReplyTo
	}
	switch p.Gone {
	case "", GoneDeleted, GonePrivate, GoneSensitive:
	default:
		p.Gone = GoneDeleted
	}
	p.Author.ID = cleanLine(p.Author.ID, MaxNameRunes)
	p.Author.Handle = cleanLine(p.Author.Handle, MaxNameRunes)
	p.Author.Name = cleanLine(p.Author.Name, MaxNameRunes)
	p.Author.AvatarURL = SafeURL(p.Author.AvatarURL)
	p.Author.ProfileURL = SafeURL(p.Author.ProfileURL)
	p.Lang = cleanLine(p.Lang, 16)
	p.ContentWarning = cleanLine(p.ContentWarning, MaxNameRunes)
	p.Source = cleanLine(p.Source, MaxNameRunes)
	p.Hashtags = cleanWords(p.Hashtags, "#")
	p.Mentions = cleanWords(p.Mentions, "@")
	p.Links = cleanLinks(p.Links, utf8.RuneCountInString(p.Text))
	p.Media = cleanMedia(p.Media)
	// Checked after cleaning: media whose URLs were all unsafe is no media.
	if strings.TrimSpace(p.Text) == "" && len(p.Media) == 0 && !p.Deleted {
		return fmt.Errorf("%w: text is required", ErrInvalid)
	}
	if p.FetchedAt.IsZero() {
		p.FetchedAt = now
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = p.FetchedAt
	}
	p.CreatedAt = p.CreatedAt.UTC()
	p.FetchedAt = p.FetchedAt.UTC()
	p.EditedAt = p.EditedAt.UTC()
	return nil
}

// IsToken reports whether s can stand as one NATS subject token and one URL
// path segment: 1 to 64 of a-z, 0-9, '-' and '_'.
func IsToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func cleanWords(words []string, sigil string) []string {
	var out []string
	for _, w := range words {
		w = strings.TrimPrefix(cleanLine(w, MaxNameRunes), sigil)
		if w != "" && len(out) < MaxListLength {
			out = append(out, w)
		}
	}
	return out
}

// cleanLinks keeps safe links; a span past the end of the (possibly cut)
// text of n runes is dropped, the link kept.
func cleanLinks(links []Link, n int) []Link {
	var out []Link
	for _, l := range links {
		l.URL = SafeURL(l.URL)
		if l.URL == "" || len(out) >= MaxListLength {
			continue
		}
		l.Title = cleanLine(l.Title, MaxNameRunes)
		if l.Start < 0 || l.End < l.Start || l.End > n {
			l.Start, l.End = 0, 0
		}
		out = append(out, l)
	}
	return out
}

func cleanMedia(media []Media) []Media {
	var out []Media
	for _, m := range media {
		m.URL = SafeURL(m.URL)
		m.PreviewURL = SafeURL(m.PreviewURL)
		if m.URL == "" || len(out) >= MaxListLength {
			continue
		}
		switch m.Kind {
		case MediaImage, MediaVideo, MediaGIF:
		default:
			m.Kind = MediaImage
		}
		m.Alt = cleanText(m.Alt, 1500)
		m.Width, m.Height = max(m.Width, 0), max(m.Height, 0)
		out = append(out, m)
	}
	return out
}
