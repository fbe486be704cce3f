package mastodon

import (
	"encoding/json"
	"time"
)

// The types below follow Mastodon's published REST entities
// (docs.joinmastodon.org/entities/): only the fields Chorus reads.

// Status is the Status entity.
type Status struct {
	ID                 string        `json:"id"`
	URI                string        `json:"uri"`
	URL                *string       `json:"url"`
	CreatedAt          time.Time     `json:"created_at"`
	EditedAt           *time.Time    `json:"edited_at"`
	Account            Account       `json:"account"`
	Content            string        `json:"content"`
	Visibility         string        `json:"visibility"`
	Sensitive          bool          `json:"sensitive"`
	SpoilerText        string        `json:"spoiler_text"`
	MediaAttachments   []Attachment  `json:"media_attachments"`
	Mentions           []Mention     `json:"mentions"`
	Tags               []Tag         `json:"tags"`
	Emojis             []CustomEmoji `json:"emojis"`
	ReblogsCount       int64         `json:"reblogs_count"`
	FavouritesCount    int64         `json:"favourites_count"`
	RepliesCount       int64         `json:"replies_count"`
	InReplyToID        *string       `json:"in_reply_to_id"`
	InReplyToAccountID *string       `json:"in_reply_to_account_id"`
	Reblog             *Status       `json:"reblog"`
	Language           *string       `json:"language"`
	Card               *PreviewCard  `json:"card"`
	// Quote is Mastodon 4.4's Quote or ShallowQuote entity; some other
	// servers (Fedibird, Akkoma) put a whole Status here instead.
	Quote json.RawMessage `json:"quote"`
}

// Account is the Account entity.
type Account struct {
	ID             string `json:"id"`
	Username       string `json:"username"`
	Acct           string `json:"acct"`
	URL            string `json:"url"`
	URI            string `json:"uri"`
	DisplayName    string `json:"display_name"`
	Avatar         string `json:"avatar"`
	AvatarStatic   string `json:"avatar_static"`
	FollowersCount int64  `json:"followers_count"`
	Bot            bool   `json:"bot"`
}

// Attachment is the MediaAttachment entity.
type Attachment struct {
	ID          string     `json:"id"`
	Type        string     `json:"type"` // unknown, image, gifv, video, audio
	URL         *string    `json:"url"`
	PreviewURL  *string    `json:"preview_url"`
	RemoteURL   *string    `json:"remote_url"`
	Meta        *MediaMeta `json:"meta"`
	Description *string    `json:"description"`
	Blurhash    *string    `json:"blurhash"`
}

// MediaMeta is an attachment's meta: sizes of the original and the small
// preview (and for videos, duration and frame rate, unused here).
type MediaMeta struct {
	Original *MediaSize `json:"original"`
	Small    *MediaSize `json:"small"`
}

// MediaSize is one size entry of MediaMeta.
type MediaSize struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

// Mention is Status::Mention.
type Mention struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	URL      string `json:"url"`
	Acct     string `json:"acct"`
}

// Tag is Status::Tag.
type Tag struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// CustomEmoji is the CustomEmoji entity; its shortcode stays in the text.
type CustomEmoji struct {
	Shortcode string `json:"shortcode"`
	URL       string `json:"url"`
}

// PreviewCard is the PreviewCard entity of a link in the status.
type PreviewCard struct {
	URL   string `json:"url"`
	Title string `json:"title"`
}

// Quote is Mastodon 4.4's Quote entity (quoted_status) or ShallowQuote
// (quoted_status_id), told apart by which field is set.
type Quote struct {
	State          string  `json:"state"`
	QuotedStatus   *Status `json:"quoted_status"`
	QuotedStatusID *string `json:"quoted_status_id"`
}

// Event is one Server-Sent Event of the streaming API.
type Event struct {
	Name string // update, delete, status.update, ...
	Data string
}
