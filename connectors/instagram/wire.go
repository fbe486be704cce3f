package instagram

// The Graph API's own types for Instagram hashtag search, as the IG Hashtag
// Search, IG Hashtag Recent Media and IG Media references document them.
// Hashtag media carry no owner or username: the API does not return them.

// HashtagSearch is the answer of GET /ig_hashtag_search.
type HashtagSearch struct {
	Data []struct {
		ID string `json:"id"`
	} `json:"data"`
}

// Media is an IG Media object from /{ig-hashtag-id}/recent_media.
type Media struct {
	ID        string `json:"id"`
	Caption   string `json:"caption"`
	MediaType string `json:"media_type"` // IMAGE, VIDEO or CAROUSEL_ALBUM
	// MediaURL is missing for albums and for media with copyrighted
	// material.
	MediaURL     string `json:"media_url"`
	ThumbnailURL string `json:"thumbnail_url"`
	Permalink    string `json:"permalink"`
	Timestamp    string `json:"timestamp"`
	// LikeCount is missing when the owner hides like counts.
	LikeCount     *int64 `json:"like_count"`
	CommentsCount int64  `json:"comments_count"`
	Children      *struct {
		Data []Child `json:"data"`
	} `json:"children"`
}

// Child is one image or video of a carousel album.
type Child struct {
	ID           string `json:"id"`
	MediaType    string `json:"media_type"`
	MediaURL     string `json:"media_url"`
	ThumbnailURL string `json:"thumbnail_url"`
}
