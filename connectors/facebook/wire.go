package facebook

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
)

// The Graph API's own types for the page post and comment fields this
// source asks for, as the Page Post, Comment and Story Attachment
// references document them. Only fields the adapter reads are declared.

// Post is a Page Post (from /{page-id}/posts or /{page-id}/tagged).
type Post struct {
	ID           string       `json:"id"`
	Message      string       `json:"message"`
	MessageTags  MessageTags  `json:"message_tags"`
	Story        string       `json:"story"`
	CreatedTime  string       `json:"created_time"`
	PermalinkURL string       `json:"permalink_url"`
	ParentID     string       `json:"parent_id"`
	From         *Profile     `json:"from"`
	Attachments  *Attachments `json:"attachments"`
	Shares       *struct {
		Count int64 `json:"count"`
	} `json:"shares"`
	Reactions *Summarized `json:"reactions"`
	Comments  *Summarized `json:"comments"`
}

// Comment is a Comment (from /{object-id}/comments).
type Comment struct {
	ID           string      `json:"id"`
	Message      string      `json:"message"`
	MessageTags  MessageTags `json:"message_tags"`
	CreatedTime  string      `json:"created_time"`
	PermalinkURL string      `json:"permalink_url"`
	From         *Profile    `json:"from"`
	Attachment   *Attachment `json:"attachment"`
	LikeCount    int64       `json:"like_count"`
	CommentCount int64       `json:"comment_count"`
	Parent       *struct {
		ID string `json:"id"`
	} `json:"parent"`
}

// Profile is the author (`from`): a Page or a User.
type Profile struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Picture *struct {
		Data struct {
			URL          string `json:"url"`
			Width        int    `json:"width"`
			Height       int    `json:"height"`
			IsSilhouette bool   `json:"is_silhouette"`
		} `json:"data"`
	} `json:"picture"`
}

// MessageTag is a profile, page, group or event tagged in a message, at
// Offset for Length, both in UTF-16 code units.
type MessageTag struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	Offset int    `json:"offset"`
	Length int    `json:"length"`
}

// MessageTags reads the current form (an array) and the older one (an
// object mapping offsets to arrays of tags) that some objects still return.
type MessageTags []MessageTag

// UnmarshalJSON accepts both forms.
func (m *MessageTags) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var byOffset map[string][]MessageTag
		if err := json.Unmarshal(b, &byOffset); err != nil {
			return err
		}
		keys := make([]string, 0, len(byOffset))
		for k := range byOffset {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			a, _ := strconv.Atoi(keys[i])
			b, _ := strconv.Atoi(keys[j])
			return a < b
		})
		*m = nil
		for _, k := range keys {
			*m = append(*m, byOffset[k]...)
		}
		return nil
	}
	var list []MessageTag
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*m = list
	return nil
}

// Attachments is the post's attachments edge.
type Attachments struct {
	Data []Attachment `json:"data"`
}

// Attachment is a Story Attachment: a photo, video, album (with
// subattachments), shared link, event...
type Attachment struct {
	MediaType      string       `json:"media_type"`
	Type           string       `json:"type"`
	URL            string       `json:"url"`
	Title          string       `json:"title"`
	Description    string       `json:"description"`
	Media          *Media       `json:"media"`
	Subattachments *Attachments `json:"subattachments"`
	Target         *struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	} `json:"target"`
}

// Media is a Story Attachment Media: an image (for videos, the thumbnail)
// and, for videos, the source.
type Media struct {
	Image *struct {
		Src    string `json:"src"`
		Width  int    `json:"width"`
		Height int    `json:"height"`
	} `json:"image"`
	Source string `json:"source"`
}

// Summarized is an edge asked for with .summary(total_count).limit(0).
type Summarized struct {
	Summary struct {
		TotalCount int64 `json:"total_count"`
	} `json:"summary"`
}
