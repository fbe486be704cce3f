package reddit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/chorus-wall/chorus/connectors/wirejson"
)

// The types below are Reddit's own JSON, as its API returns listings
// (https://www.reddit.com/dev/api#listings): a Listing thing whose
// children are links (kind "t3"). Only the fields Chorus uses are named.

// Thing is Reddit's envelope: a kind ("Listing", "t3", ...) and its data.
type Thing struct {
	Kind string          `json:"kind"`
	Data json.RawMessage `json:"data"`
}

// Listing is one page of a listing endpoint (new, search, submitted).
type Listing struct {
	Kind string `json:"kind"`
	Data struct {
		After    string  `json:"after"`
		Before   string  `json:"before"`
		Dist     int     `json:"dist"`
		Children []Thing `json:"children"`
	} `json:"data"`
}

// Link is a post ("t3" thing). It is decoded with wirejson.Unmarshal, so
// a side field of another type than expected is left unread; the fields
// that hide or warn (over_18, spoiler, removed_by_category) are read on the
// safe side whatever shape they come in.
type Link struct {
	ID                    string           `json:"id"`
	Name                  string           `json:"name"` // fullname, "t3_" + id
	Title                 string           `json:"title"`
	Selftext              string           `json:"selftext"`
	Author                string           `json:"author"`
	AuthorFullname        string           `json:"author_fullname"`
	Subreddit             string           `json:"subreddit"`
	SubredditNamePrefixed string           `json:"subreddit_name_prefixed"`
	Permalink             string           `json:"permalink"`
	URL                   string           `json:"url"`
	URLOverriddenByDest   string           `json:"url_overridden_by_dest"`
	Domain                string           `json:"domain"`
	IsSelf                bool             `json:"is_self"`
	IsVideo               bool             `json:"is_video"`
	IsGallery             bool             `json:"is_gallery"`
	PostHint              string           `json:"post_hint"`
	Over18                wirejson.Caution `json:"over_18"`
	Spoiler               wirejson.Caution `json:"spoiler"`
	CreatedUTC            Number           `json:"created_utc"`
	Score                 int64            `json:"score"`
	NumComments           int64            `json:"num_comments"`
	NumCrossposts         int64            `json:"num_crossposts"`
	RemovedByCategory     wirejson.Strings `json:"removed_by_category"`
	// SubredditType is "public", "restricted", "private", ...
	SubredditType string `json:"subreddit_type"`
	// Edited is when the post was last edited (0 when never).
	Edited              Edited               `json:"edited"`
	CrosspostParent     string               `json:"crosspost_parent"`
	CrosspostParentList []Link               `json:"crosspost_parent_list"`
	Preview             *Preview             `json:"preview"`
	Media               *Media               `json:"media"`
	GalleryData         *GalleryData         `json:"gallery_data"`
	MediaMetadata       map[string]MediaMeta `json:"media_metadata"`
}

// Preview holds the images Reddit made for a post.
type Preview struct {
	Images []PreviewImage `json:"images"`
}

// PreviewImage is one preview: the source size and its variants.
type PreviewImage struct {
	ID       string      `json:"id"`
	Source   ImageSource `json:"source"`
	Variants struct {
		GIF *struct {
			Source ImageSource `json:"source"`
		} `json:"gif"`
		MP4 *struct {
			Source ImageSource `json:"source"`
		} `json:"mp4"`
	} `json:"variants"`
}

// ImageSource is an image URL (HTML-escaped: "&amp;") with its size.
type ImageSource struct {
	URL    string `json:"url"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// Media is a post's hosted media; Chorus reads Reddit-hosted video.
type Media struct {
	RedditVideo *struct {
		FallbackURL string `json:"fallback_url"`
		Width       int    `json:"width"`
		Height      int    `json:"height"`
		IsGIF       bool   `json:"is_gif"`
	} `json:"reddit_video"`
}

// GalleryData orders a gallery's items.
type GalleryData struct {
	Items []struct {
		MediaID string `json:"media_id"`
		ID      Number `json:"id"`
		Caption string `json:"caption"`
	} `json:"items"`
}

// MediaMeta describes one gallery item: e is "Image" or "AnimatedImage",
// s its full-size source (u for images, gif and mp4 for animations; all
// HTML-escaped), status "valid" once processed.
type MediaMeta struct {
	Status string `json:"status"`
	E      string `json:"e"`
	M      string `json:"m"`
	S      struct {
		U   string `json:"u"`
		GIF string `json:"gif"`
		MP4 string `json:"mp4"`
		X   int    `json:"x"`
		Y   int    `json:"y"`
	} `json:"s"`
}

// Number reads a JSON number that Reddit sometimes sends as a float
// (created_utc: 1763892000.0) and sometimes as a string.
type Number float64

// UnmarshalJSON accepts a number, a numeric string or null.
func (n *Number) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("not a number: %s", b)
	}
	*n = Number(f)
	return nil
}

// TokenResponse is the answer of POST /api/v1/access_token.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
	Error       string `json:"error"`
}

// parseListing decodes a listing page; the children stay raw so that one
// malformed post does not spoil the page.
func parseListing(body []byte) (*Listing, error) {
	var l Listing
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, fmt.Errorf("reddit: decode listing: %w", err)
	}
	if l.Kind != "Listing" {
		return nil, fmt.Errorf("reddit: decode listing: kind %q, want Listing", l.Kind)
	}
	return &l, nil
}

// childName names a listing child whatever it holds: its fullname
// ("t1_abc" for a comment), else its kind and id, else a digest of the
// child, so that the same child read again has the same name.
func childName(t Thing) string {
	var d struct {
		Name json.RawMessage `json:"name"`
		ID   json.RawMessage `json:"id"`
	}
	if json.Unmarshal(t.Data, &d) == nil {
		var name, id string
		if json.Unmarshal(d.Name, &name) == nil && name != "" {
			return name
		}
		if json.Unmarshal(d.ID, &id) != nil {
			id = string(bytes.Trim(d.ID, `" `))
		}
		if id != "" && id != "null" {
			return t.Kind + "_" + id
		}
	}
	sum := sha256.Sum256(t.Data)
	return t.Kind + "#" + hex.EncodeToString(sum[:8])
}

// parseLink decodes one child of a listing, which must be a link.
func parseLink(t Thing) (*Link, error) {
	if t.Kind != "t3" {
		return nil, fmt.Errorf("reddit: child of kind %q, want t3", t.Kind)
	}
	var l Link
	// A side field of another type than expected is left unread; the post
	// is kept (an id that is not a string still makes it unreadable).
	if _, err := wirejson.Unmarshal(t.Data, &l); err != nil {
		return nil, fmt.Errorf("reddit: decode post: %w", err)
	}
	if l.ID == "" {
		return nil, fmt.Errorf("reddit: post without id")
	}
	if l.Name == "" {
		l.Name = "t3_" + l.ID
	}
	return &l, nil
}

// Edited is Reddit's "edited": false when never, else the time of the last
// edit in epoch seconds. Any other shape reads as never: an odd side field
// never sinks a post.
type Edited float64

// UnmarshalJSON accepts false, true (edited, time unknown: read as never),
// a number, a numeric string or null.
func (e *Edited) UnmarshalJSON(b []byte) error {
	var n Number
	if n.UnmarshalJSON(b) == nil {
		*e = Edited(n)
	}
	return nil
}
