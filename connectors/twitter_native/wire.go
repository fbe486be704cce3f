package twitternative

import (
	"github.com/dghubble/go-twitter/twitter"

	"github.com/chorus-wall/chorus/connectors/wirejson"
)

// The native (v1.1) JSON of X, as enterprise streams (PowerTrack) deliver it
// and archives keep it, decoded with github.com/dghubble/go-twitter's types.
// Where those types lack a field a wall needs, a type here embeds theirs
// and adds it: JSON decoding takes the outer (less nested) field, so one
// pass fills both. The additions are ext_alt_text on media (alt text),
// is_quote_status and timestamp_ms; extended_tweet, extended_entities,
// retweeted_status and quoted_status are re-declared to carry them.
//
// Lines are decoded with wirejson.Unmarshal, because go-twitter's types do
// not always match what X sends: entities.polls[].duration_minutes is a
// number on the wire (a string in PollEntity), and a place's geometry can
// be a point (polygon rings in BoundingBox). Such a field is left unread and
// the tweet kept. The flags that hide or warn (possibly_sensitive,
// withheld_copyright, withheld_in_countries) are re-declared here with
// wirejson types, read on the safe side whatever shape they come in.

// Message is one line of a stream or file: a tweet, or one of the stream's
// notices. An archive line wraps its tweet as {"tweet": {...}}.
type Message struct {
	Tweet
	Delete         *DeleteNotice             `json:"delete"`
	StatusWithheld *twitter.StatusWithheld   `json:"status_withheld"`
	UserWithheld   *twitter.UserWithheld     `json:"user_withheld"`
	Limit          *twitter.StreamLimit      `json:"limit"`
	ScrubGeo       *twitter.LocationDeletion `json:"scrub_geo"`
	Warning        *twitter.StallWarning     `json:"warning"`
	Disconnect     *twitter.StreamDisconnect `json:"disconnect"`
	Archived       *Tweet                    `json:"tweet"`

	// odd is the first field of the line that could not be read.
	odd error
}

// Odd names the first field of the line left unread (see wirejson), or is nil.
func (m *Message) Odd() error { return m.odd }

// DeleteNotice says a tweet was deleted:
// {"delete":{"status":{"id":…,"id_str":"…","user_id":…,"user_id_str":"…"},"timestamp_ms":"…"}}.
type DeleteNotice struct {
	Status      *twitter.StatusDeletion `json:"status"`
	TimestampMS string                  `json:"timestamp_ms"`
}

// Tweet is a native tweet object.
type Tweet struct {
	twitter.Tweet
	ExtendedTweet    *ExtendedTweet  `json:"extended_tweet"`
	ExtendedEntities *ExtendedEntity `json:"extended_entities"`
	RetweetedStatus  *Tweet          `json:"retweeted_status"`
	QuotedStatus     *Tweet          `json:"quoted_status"`
	IsQuoteStatus    bool            `json:"is_quote_status"`
	TimestampMS      string          `json:"timestamp_ms"`

	PossiblySensitive   wirejson.Caution `json:"possibly_sensitive"`
	WithheldCopyright   wirejson.Caution `json:"withheld_copyright"`
	WithheldInCountries wirejson.Strings `json:"withheld_in_countries"`
}

// ExtendedTweet holds the full text and entities of a tweet longer than 140
// characters, which a stream in compatibility mode delivers truncated.
type ExtendedTweet struct {
	twitter.ExtendedTweet
	ExtendedEntities *ExtendedEntity `json:"extended_entities"`
}

// ExtendedEntity lists every attached photo, video or GIF.
type ExtendedEntity struct {
	Media []MediaEntity `json:"media"`
}

// MediaEntity is one attached photo, video or GIF, with its alt text.
type MediaEntity struct {
	twitter.MediaEntity
	ExtAltText string `json:"ext_alt_text"`
}
