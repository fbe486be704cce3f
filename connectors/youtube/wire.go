package youtube

import (
	"encoding/json"
	"fmt"
)

// The types below are the YouTube Data API v3 resources as its reference
// documents them (https://developers.google.com/youtube/v3/docs): the
// search.list, videos.list and liveChatMessages.list responses and the
// API's error body. Only the fields Chorus uses are named.

// SearchListResponse is the answer of search.list.
type SearchListResponse struct {
	Kind          string   `json:"kind"` // youtube#searchListResponse
	ETag          string   `json:"etag"`
	NextPageToken string   `json:"nextPageToken"`
	PrevPageToken string   `json:"prevPageToken"`
	RegionCode    string   `json:"regionCode"`
	PageInfo      PageInfo `json:"pageInfo"`
	// Items stay raw so that one malformed hit does not spoil the page.
	Items []json.RawMessage `json:"items"`
}

// PageInfo counts a page's results.
type PageInfo struct {
	TotalResults   int `json:"totalResults"`
	ResultsPerPage int `json:"resultsPerPage"`
}

// SearchResult is one search hit: its id says what it is.
type SearchResult struct {
	Kind string `json:"kind"` // youtube#searchResult
	ETag string `json:"etag"`
	ID   struct {
		Kind    string `json:"kind"` // youtube#video, youtube#channel, youtube#playlist
		VideoID string `json:"videoId"`
	} `json:"id"`
	Snippet SearchSnippet `json:"snippet"`
}

// SearchSnippet is a search hit's snippet. Its title and description are
// HTML-escaped ("&#39;", "&quot;", "&amp;"), and the description is cut.
type SearchSnippet struct {
	PublishedAt          string     `json:"publishedAt"`
	ChannelID            string     `json:"channelId"`
	Title                string     `json:"title"`
	Description          string     `json:"description"`
	Thumbnails           Thumbnails `json:"thumbnails"`
	ChannelTitle         string     `json:"channelTitle"`
	LiveBroadcastContent string     `json:"liveBroadcastContent"` // none, upcoming, live
	PublishTime          string     `json:"publishTime"`
}

// Thumbnails are a video's thumbnail sizes.
type Thumbnails struct {
	Default  *Thumbnail `json:"default"`
	Medium   *Thumbnail `json:"medium"`
	High     *Thumbnail `json:"high"`
	Standard *Thumbnail `json:"standard"`
	Maxres   *Thumbnail `json:"maxres"`
}

// Thumbnail is one thumbnail image.
type Thumbnail struct {
	URL    string `json:"url"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// VideoListResponse is the answer of videos.list.
type VideoListResponse struct {
	Kind     string   `json:"kind"` // youtube#videoListResponse
	ETag     string   `json:"etag"`
	PageInfo PageInfo `json:"pageInfo"`
	Items    []Video  `json:"items"`
}

// Video is a video resource with the parts Chorus asks for.
type Video struct {
	Kind    string `json:"kind"` // youtube#video
	ETag    string `json:"etag"`
	ID      string `json:"id"`
	Snippet *struct {
		PublishedAt          string     `json:"publishedAt"`
		ChannelID            string     `json:"channelId"`
		Title                string     `json:"title"`
		Description          string     `json:"description"`
		Thumbnails           Thumbnails `json:"thumbnails"`
		ChannelTitle         string     `json:"channelTitle"`
		Tags                 []string   `json:"tags"`
		CategoryID           string     `json:"categoryId"`
		LiveBroadcastContent string     `json:"liveBroadcastContent"`
		DefaultLanguage      string     `json:"defaultLanguage"`
		DefaultAudioLanguage string     `json:"defaultAudioLanguage"`
	} `json:"snippet"`
	ContentDetails *struct {
		Duration      string `json:"duration"`
		ContentRating struct {
			YtRating string `json:"ytRating"` // ytAgeRestricted
		} `json:"contentRating"`
	} `json:"contentDetails"`
	// Statistics are counts as decimal strings.
	Statistics *struct {
		ViewCount    string `json:"viewCount"`
		LikeCount    string `json:"likeCount"`
		CommentCount string `json:"commentCount"`
	} `json:"statistics"`
	LiveStreamingDetails *LiveStreamingDetails `json:"liveStreamingDetails"`
	// Status is asked by the compliance sweep.
	Status *struct {
		UploadStatus  string `json:"uploadStatus"`  // processed, uploaded, deleted, failed, rejected
		PrivacyStatus string `json:"privacyStatus"` // public, unlisted, private
	} `json:"status"`
}

// LiveStreamingDetails are a live broadcast's times and its chat.
type LiveStreamingDetails struct {
	ActualStartTime    string `json:"actualStartTime"`
	ActualEndTime      string `json:"actualEndTime"`
	ScheduledStartTime string `json:"scheduledStartTime"`
	ConcurrentViewers  string `json:"concurrentViewers"`
	ActiveLiveChatID   string `json:"activeLiveChatId"`
}

// LiveChatMessageListResponse is the answer of liveChatMessages.list.
type LiveChatMessageListResponse struct {
	Kind                  string            `json:"kind"` // youtube#liveChatMessageListResponse
	ETag                  string            `json:"etag"`
	NextPageToken         string            `json:"nextPageToken"`
	PollingIntervalMillis int64             `json:"pollingIntervalMillis"`
	OfflineAt             string            `json:"offlineAt"`
	PageInfo              PageInfo          `json:"pageInfo"`
	Items                 []json.RawMessage `json:"items"`
}

// LiveChatMessage is one chat event: a message, a Super Chat, a deletion,
// a ban and more, told apart by snippet.type.
type LiveChatMessage struct {
	Kind    string `json:"kind"` // youtube#liveChatMessage
	ETag    string `json:"etag"`
	ID      string `json:"id"`
	Snippet struct {
		Type               string `json:"type"`
		LiveChatID         string `json:"liveChatId"`
		AuthorChannelID    string `json:"authorChannelId"`
		PublishedAt        string `json:"publishedAt"`
		HasDisplayContent  bool   `json:"hasDisplayContent"`
		DisplayMessage     string `json:"displayMessage"`
		TextMessageDetails *struct {
			MessageText string `json:"messageText"`
		} `json:"textMessageDetails"`
		SuperChatDetails *struct {
			AmountMicros        json.Number `json:"amountMicros"`
			Currency            string      `json:"currency"`
			AmountDisplayString string      `json:"amountDisplayString"`
			UserComment         string      `json:"userComment"`
			Tier                int         `json:"tier"`
		} `json:"superChatDetails"`
		SuperStickerDetails *struct {
			SuperStickerMetadata struct {
				StickerID string `json:"stickerId"`
				AltText   string `json:"altText"`
			} `json:"superStickerMetadata"`
			AmountDisplayString string `json:"amountDisplayString"`
		} `json:"superStickerDetails"`
		MessageDeletedDetails *struct {
			DeletedMessageID string `json:"deletedMessageId"`
		} `json:"messageDeletedDetails"`
		UserBannedDetails *struct {
			BannedUserDetails struct {
				ChannelID   string `json:"channelId"`
				DisplayName string `json:"displayName"`
			} `json:"bannedUserDetails"`
			BanType            string      `json:"banType"`
			BanDurationSeconds json.Number `json:"banDurationSeconds"`
		} `json:"userBannedDetails"`
	} `json:"snippet"`
	AuthorDetails *struct {
		ChannelID       string `json:"channelId"`
		ChannelURL      string `json:"channelUrl"`
		DisplayName     string `json:"displayName"`
		ProfileImageURL string `json:"profileImageUrl"`
		IsVerified      bool   `json:"isVerified"`
		IsChatOwner     bool   `json:"isChatOwner"`
		IsChatSponsor   bool   `json:"isChatSponsor"`
		IsChatModerator bool   `json:"isChatModerator"`
	} `json:"authorDetails"`
}

// ErrorResponse is the API's error body.
type ErrorResponse struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Errors  []struct {
			Message string `json:"message"`
			Domain  string `json:"domain"`
			Reason  string `json:"reason"`
		} `json:"errors"`
		Status string `json:"status"`
	} `json:"error"`
}

// parseChatMessage decodes one chat item.
func parseChatMessage(raw json.RawMessage) (*LiveChatMessage, error) {
	var m LiveChatMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("youtube: decode chat message: %w", err)
	}
	if m.ID == "" {
		return nil, fmt.Errorf("youtube: chat message without id")
	}
	return &m, nil
}

// parseSearchResult decodes one search hit.
func parseSearchResult(raw json.RawMessage) (*SearchResult, error) {
	var r SearchResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("youtube: decode search result: %w", err)
	}
	return &r, nil
}
