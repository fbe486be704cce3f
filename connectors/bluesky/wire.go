package bluesky

import "encoding/json"

// The types below follow the published Jetstream event format
// (github.com/bluesky-social/jetstream) and the AT Protocol lexicons
// (app.bsky.feed.post, app.bsky.embed.*, app.bsky.feed.defs#postView,
// app.bsky.actor.defs#profileViewDetailed): only the fields Chorus reads.

// Event is one Jetstream message.
type Event struct {
	DID      string        `json:"did"`
	TimeUS   int64         `json:"time_us"`
	Kind     string        `json:"kind"` // commit, identity, account
	Commit   *Commit       `json:"commit,omitempty"`
	Identity *Identity     `json:"identity,omitempty"`
	Account  *AccountEvent `json:"account,omitempty"`
}

// Commit is a repository write of one record.
type Commit struct {
	Rev        string          `json:"rev"`
	Operation  string          `json:"operation"` // create, update, delete
	Collection string          `json:"collection"`
	RKey       string          `json:"rkey"`
	Record     json.RawMessage `json:"record,omitempty"`
	CID        string          `json:"cid,omitempty"`
}

// Identity is an identity event: the DID's handle changed (or was
// re-verified).
type Identity struct {
	DID    string `json:"did"`
	Handle string `json:"handle"`
	Seq    int64  `json:"seq"`
	Time   string `json:"time"`
}

// AccountEvent is an account status change (deactivated, taken down...).
type AccountEvent struct {
	Active bool   `json:"active"`
	DID    string `json:"did"`
	Seq    int64  `json:"seq"`
	Time   string `json:"time"`
	Status string `json:"status,omitempty"`
}

// PostRecord is an app.bsky.feed.post record.
type PostRecord struct {
	Type      string      `json:"$type"`
	Text      string      `json:"text"`
	Facets    []Facet     `json:"facets,omitempty"`
	Langs     []string    `json:"langs,omitempty"`
	CreatedAt string      `json:"createdAt"`
	Reply     *ReplyRef   `json:"reply,omitempty"`
	Embed     *Embed      `json:"embed,omitempty"`
	Labels    *SelfLabels `json:"labels,omitempty"`
	Tags      []string    `json:"tags,omitempty"`
}

// Facet is app.bsky.richtext.facet: features over a byte range of the
// UTF-8 text.
type Facet struct {
	Index    ByteSlice `json:"index"`
	Features []Feature `json:"features"`
}

// ByteSlice is a facet's range: UTF-8 byte offsets, end exclusive.
type ByteSlice struct {
	ByteStart int `json:"byteStart"`
	ByteEnd   int `json:"byteEnd"`
}

// Feature is one facet feature: #mention (did), #link (uri) or #tag (tag).
type Feature struct {
	Type string `json:"$type"`
	DID  string `json:"did,omitempty"`
	URI  string `json:"uri,omitempty"`
	Tag  string `json:"tag,omitempty"`
}

// Facet feature types.
const (
	featureMention = "app.bsky.richtext.facet#mention"
	featureLink    = "app.bsky.richtext.facet#link"
	featureTag     = "app.bsky.richtext.facet#tag"
)

// ReplyRef points at the thread's root and the post replied to.
type ReplyRef struct {
	Root   StrongRef `json:"root"`
	Parent StrongRef `json:"parent"`
}

// StrongRef is com.atproto.repo.strongRef.
type StrongRef struct {
	URI string `json:"uri"`
	CID string `json:"cid"`
}

// Embed is the union of the record embeds, told apart by $type:
// app.bsky.embed.images, .video, .external, .record, .recordWithMedia.
type Embed struct {
	Type        string          `json:"$type"`
	Images      []ImageEmbed    `json:"images,omitempty"`
	Video       *Blob           `json:"video,omitempty"`
	Alt         string          `json:"alt,omitempty"`
	AspectRatio *AspectRatio    `json:"aspectRatio,omitempty"`
	External    *External       `json:"external,omitempty"`
	Record      *EmbeddedRecord `json:"record,omitempty"`
	Media       *Embed          `json:"media,omitempty"`
}

// EmbeddedRecord is the record of app.bsky.embed.record (a strongRef:
// uri, cid) or of app.bsky.embed.recordWithMedia (an app.bsky.embed.record
// holding the strongRef in record).
type EmbeddedRecord struct {
	URI    string     `json:"uri,omitempty"`
	CID    string     `json:"cid,omitempty"`
	Record *StrongRef `json:"record,omitempty"`
}

// Embed types.
const (
	embedImages          = "app.bsky.embed.images"
	embedVideo           = "app.bsky.embed.video"
	embedExternal        = "app.bsky.embed.external"
	embedRecord          = "app.bsky.embed.record"
	embedRecordWithMedia = "app.bsky.embed.recordWithMedia"
)

// ImageEmbed is one image of app.bsky.embed.images.
type ImageEmbed struct {
	Image       *Blob        `json:"image"`
	Alt         string       `json:"alt"`
	AspectRatio *AspectRatio `json:"aspectRatio,omitempty"`
}

// AspectRatio is the width and height of an image or video.
type AspectRatio struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

// Blob is a blob reference: {"$type":"blob","ref":{"$link":cid},...}, or
// the legacy form {"cid":cid,"mimeType":...}.
type Blob struct {
	Type     string   `json:"$type,omitempty"`
	Ref      *BlobRef `json:"ref,omitempty"`
	CID      string   `json:"cid,omitempty"`
	MimeType string   `json:"mimeType,omitempty"`
	Size     int64    `json:"size,omitempty"`
}

// BlobRef is a blob's CID link.
type BlobRef struct {
	Link string `json:"$link"`
}

// CIDOf returns the blob's CID in either form.
func (b *Blob) CIDOf() string {
	if b == nil {
		return ""
	}
	if b.Ref != nil && b.Ref.Link != "" {
		return b.Ref.Link
	}
	return b.CID
}

// External is an app.bsky.embed.external link card.
type External struct {
	URI         string `json:"uri"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Thumb       *Blob  `json:"thumb,omitempty"`
}

// SelfLabels is com.atproto.label.defs#selfLabels.
type SelfLabels struct {
	Type   string       `json:"$type"`
	Values []LabelValue `json:"values"`
}

// LabelValue is one self-label.
type LabelValue struct {
	Val string `json:"val"`
}

// Label is com.atproto.label.defs#label, as views carry them.
type Label struct {
	Src string `json:"src"`
	URI string `json:"uri"`
	Val string `json:"val"`
	Neg bool   `json:"neg,omitempty"`
}

// Profile is app.bsky.actor.defs#profileViewDetailed (and, with fewer
// fields, profileViewBasic).
type Profile struct {
	DID            string        `json:"did"`
	Handle         string        `json:"handle"`
	DisplayName    string        `json:"displayName,omitempty"`
	Avatar         string        `json:"avatar,omitempty"`
	FollowersCount int64         `json:"followersCount,omitempty"`
	Labels         []Label       `json:"labels,omitempty"`
	Verification   *Verification `json:"verification,omitempty"`
}

// Verification is app.bsky.actor.defs#verificationState.
type Verification struct {
	VerifiedStatus string `json:"verifiedStatus"`
}

// ProfilesResponse is the output of app.bsky.actor.getProfiles.
type ProfilesResponse struct {
	Profiles []Profile `json:"profiles"`
}

// ResolveHandleResponse is the output of com.atproto.identity.resolveHandle.
type ResolveHandleResponse struct {
	DID string `json:"did"`
}

// Session is the output of com.atproto.server.createSession.
type Session struct {
	AccessJwt  string `json:"accessJwt"`
	RefreshJwt string `json:"refreshJwt"`
	Handle     string `json:"handle"`
	DID        string `json:"did"`
}

// SearchResponse is the output of app.bsky.feed.searchPosts.
type SearchResponse struct {
	Cursor    string            `json:"cursor,omitempty"`
	HitsTotal int               `json:"hitsTotal,omitempty"`
	Posts     []json.RawMessage `json:"posts"`
}

// PostView is app.bsky.feed.defs#postView.
type PostView struct {
	URI         string          `json:"uri"`
	CID         string          `json:"cid"`
	Author      Profile         `json:"author"`
	Record      json.RawMessage `json:"record"`
	Embed       *EmbedView      `json:"embed,omitempty"`
	ReplyCount  int64           `json:"replyCount"`
	RepostCount int64           `json:"repostCount"`
	LikeCount   int64           `json:"likeCount"`
	QuoteCount  int64           `json:"quoteCount"`
	IndexedAt   string          `json:"indexedAt"`
	Labels      []Label         `json:"labels,omitempty"`
}

// EmbedView is the union of the embed views (#view of each embed type).
type EmbedView struct {
	Type        string          `json:"$type"`
	Images      []ImageView     `json:"images,omitempty"`
	CID         string          `json:"cid,omitempty"`
	Playlist    string          `json:"playlist,omitempty"`
	Thumbnail   string          `json:"thumbnail,omitempty"`
	Alt         string          `json:"alt,omitempty"`
	AspectRatio *AspectRatio    `json:"aspectRatio,omitempty"`
	External    *ExternalView   `json:"external,omitempty"`
	Record      json.RawMessage `json:"record,omitempty"`
	Media       *EmbedView      `json:"media,omitempty"`
}

// ImageView is app.bsky.embed.images#viewImage.
type ImageView struct {
	Thumb       string       `json:"thumb"`
	Fullsize    string       `json:"fullsize"`
	Alt         string       `json:"alt"`
	AspectRatio *AspectRatio `json:"aspectRatio,omitempty"`
}

// ExternalView is app.bsky.embed.external#viewExternal.
type ExternalView struct {
	URI         string `json:"uri"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Thumb       string `json:"thumb,omitempty"`
}

// ViewRecord is the quoted post in app.bsky.embed.record#view
// (app.bsky.embed.record#viewRecord), or a notFound/blocked stand-in.
type ViewRecord struct {
	Type string `json:"$type"`
	URI  string `json:"uri"`
	// Record is set in recordWithMedia#view: the embed.record#view itself.
	Record json.RawMessage `json:"record,omitempty"`
}
