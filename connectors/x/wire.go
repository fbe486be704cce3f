package x

import (
	"encoding/json"

	"github.com/chorus-wall/chorus/connectors/wirejson"
)

// The X API v2 objects this source reads, as
// https://docs.x.com/x-api/fundamentals/data-dictionary documents them.
// Lists of tweets, users and media stay raw until adapted, so that one
// malformed item is skipped without losing the rest of its page. Every
// object is decoded with wirejson.Unmarshal: a side field X sends in
// another JSON type than documented is left unread, never fatal. Ids X has
// sent as numbers are wirejson.ID; flags that hide or warn are
// wirejson.Caution and wirejson.Strings, read on the safe side.

// Response is the answer of GET /2/tweets/search/recent (data is an array of
// tweets) and one line of GET /2/tweets/search/stream (data is one tweet,
// with matching_rules).
type Response struct {
	Data          json.RawMessage `json:"data"`
	Includes      Includes        `json:"includes"`
	Errors        []Problem       `json:"errors"`
	Meta          Meta            `json:"meta"`
	MatchingRules []MatchingRule  `json:"matching_rules"`

	// odd is the first field of the envelope that could not be read.
	odd error
}

// Includes are the expanded objects the tweets refer to.
type Includes struct {
	Users  []json.RawMessage `json:"users"`
	Media  []json.RawMessage `json:"media"`
	Tweets []json.RawMessage `json:"tweets"`
}

// Meta describes a search page.
type Meta struct {
	NewestID    string `json:"newest_id"`
	OldestID    string `json:"oldest_id"`
	ResultCount int    `json:"result_count"`
	NextToken   string `json:"next_token"`
}

// Problem is an entry of an errors array: a partial error (a referenced
// tweet deleted or from a protected account) next to data, or a stream's
// operational message.
type Problem struct {
	Title           string `json:"title"`
	Detail          string `json:"detail"`
	Type            string `json:"type"`
	ResourceType    string `json:"resource_type"`
	ResourceID      string `json:"resource_id"`
	Parameter       string `json:"parameter"`
	Value           string `json:"value"`
	Section         string `json:"section"`
	DisconnectType  string `json:"disconnect_type"`
	ConnectionIssue string `json:"connection_issue"`
	// Details explain an invalid rule.
	Details []string `json:"details"`
	// ID is the existing rule's id in a DuplicateRule error.
	ID wirejson.ID `json:"id"`
}

// MatchingRule names a filtered-stream rule a tweet matched. X documents
// the id as a string and has sent it as a number.
type MatchingRule struct {
	ID  wirejson.ID `json:"id"`
	Tag string      `json:"tag"`
}

// Tweet is a tweet object with the tweet.fields this source asks for.
type Tweet struct {
	ID                wirejson.ID       `json:"id"`
	Text              string            `json:"text"`
	AuthorID          wirejson.ID       `json:"author_id"`
	CreatedAt         string            `json:"created_at"`
	Lang              string            `json:"lang"`
	ConversationID    wirejson.ID       `json:"conversation_id"`
	InReplyToUserID   wirejson.ID       `json:"in_reply_to_user_id"`
	PossiblySensitive wirejson.Caution  `json:"possibly_sensitive"`
	PublicMetrics     *TweetMetrics     `json:"public_metrics"`
	Entities          *Entities         `json:"entities"`
	Attachments       *Attachments      `json:"attachments"`
	ReferencedTweets  []ReferencedTweet `json:"referenced_tweets"`
	NoteTweet         *NoteTweet        `json:"note_tweet"`
	Withheld          *Withheld         `json:"withheld"`
	EditHistory       []wirejson.ID     `json:"edit_history_tweet_ids"`
}

// TweetMetrics are a tweet's public engagement counts.
type TweetMetrics struct {
	RetweetCount    int64 `json:"retweet_count"`
	ReplyCount      int64 `json:"reply_count"`
	LikeCount       int64 `json:"like_count"`
	QuoteCount      int64 `json:"quote_count"`
	BookmarkCount   int64 `json:"bookmark_count"`
	ImpressionCount int64 `json:"impression_count"`
}

// Entities are the spans X found in a tweet's text; start and end count
// Unicode code points, end exclusive.
type Entities struct {
	Hashtags []TagEntity     `json:"hashtags"`
	Cashtags []TagEntity     `json:"cashtags"`
	Mentions []MentionEntity `json:"mentions"`
	URLs     []URLEntity     `json:"urls"`
}

// TagEntity is a hashtag or cashtag, without its sigil.
type TagEntity struct {
	Start int    `json:"start"`
	End   int    `json:"end"`
	Tag   string `json:"tag"`
}

// MentionEntity is an @mention.
type MentionEntity struct {
	Start    int         `json:"start"`
	End      int         `json:"end"`
	Username string      `json:"username"`
	ID       wirejson.ID `json:"id"`
}

// URLEntity is a t.co link; media links carry the media_key.
type URLEntity struct {
	Start       int    `json:"start"`
	End         int    `json:"end"`
	URL         string `json:"url"`
	ExpandedURL string `json:"expanded_url"`
	DisplayURL  string `json:"display_url"`
	MediaKey    string `json:"media_key"`
	Status      int    `json:"status"`
	Title       string `json:"title"`
	Description string `json:"description"`
	UnwoundURL  string `json:"unwound_url"`
}

// Attachments name the media (and polls) attached to a tweet.
type Attachments struct {
	MediaKeys []string `json:"media_keys"`
	PollIDs   []string `json:"poll_ids"`
}

// ReferencedTweet links a tweet to the one it retweets, quotes or replies to.
type ReferencedTweet struct {
	Type string      `json:"type"` // retweeted, quoted, replied_to
	ID   wirejson.ID `json:"id"`
}

// NoteTweet is the full text of a post longer than 280 characters, whose
// text field holds only the beginning.
type NoteTweet struct {
	Text     string    `json:"text"`
	Entities *Entities `json:"entities"`
}

// Withheld says a tweet is withheld in some countries or for copyright.
type Withheld struct {
	Copyright    wirejson.Caution `json:"copyright"`
	CountryCodes wirejson.Strings `json:"country_codes"`
	Scope        string           `json:"scope"`
}

// User is a user object with the user.fields this source asks for.
type User struct {
	ID              wirejson.ID  `json:"id"`
	Name            string       `json:"name"`
	Username        string       `json:"username"`
	ProfileImageURL string       `json:"profile_image_url"`
	Verified        bool         `json:"verified"`
	PublicMetrics   *UserMetrics `json:"public_metrics"`
}

// UserMetrics are a user's public counts.
type UserMetrics struct {
	FollowersCount int64 `json:"followers_count"`
	FollowingCount int64 `json:"following_count"`
	TweetCount     int64 `json:"tweet_count"`
	ListedCount    int64 `json:"listed_count"`
	LikeCount      int64 `json:"like_count"`
}

// Media is a media object with the media.fields this source asks for.
type Media struct {
	MediaKey        string    `json:"media_key"`
	Type            string    `json:"type"` // photo, video, animated_gif
	URL             string    `json:"url"`
	PreviewImageURL string    `json:"preview_image_url"`
	Width           int       `json:"width"`
	Height          int       `json:"height"`
	AltText         string    `json:"alt_text"`
	DurationMS      int       `json:"duration_ms"`
	Variants        []Variant `json:"variants"`
}

// Variant is one encoding of a video or animated GIF.
type Variant struct {
	BitRate     int    `json:"bit_rate"`
	ContentType string `json:"content_type"`
	URL         string `json:"url"`
}

// Rule is a filtered-stream rule.
type Rule struct {
	ID    wirejson.ID `json:"id,omitempty"`
	Value string      `json:"value"`
	Tag   string      `json:"tag,omitempty"`
}

// RulesResponse answers GET and POST /2/tweets/search/stream/rules.
type RulesResponse struct {
	Data   []Rule    `json:"data"`
	Meta   RulesMeta `json:"meta"`
	Errors []Problem `json:"errors"`
}

// RulesMeta describes a rules answer.
type RulesMeta struct {
	Sent        string        `json:"sent"`
	ResultCount int           `json:"result_count"`
	Summary     *RulesSummary `json:"summary"`
}

// RulesSummary counts what a rules change did.
type RulesSummary struct {
	Created    int `json:"created"`
	NotCreated int `json:"not_created"`
	Valid      int `json:"valid"`
	Invalid    int `json:"invalid"`
	Deleted    int `json:"deleted"`
	NotDeleted int `json:"not_deleted"`
}

// RulesRequest is the body of POST /2/tweets/search/stream/rules: either
// rules to add or rule ids to delete.
type RulesRequest struct {
	Add    []Rule     `json:"add,omitempty"`
	Delete *DeleteIDs `json:"delete,omitempty"`
}

// DeleteIDs names rules to delete.
type DeleteIDs struct {
	IDs []string `json:"ids"`
}
