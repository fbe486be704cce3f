package twitternative

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dghubble/go-twitter/twitter"

	"github.com/chorus-wall/chorus/connectors/wirejson"
	"github.com/chorus-wall/chorus/connectors/x/xtext"
	"github.com/chorus-wall/chorus/post"
)

// Network is the network of every post this package makes; the ids are the
// same as the x source's, so a tweet gathered by both is stored once.
const Network = "x"

// createdLayout is X's created_at format, "Mon Jan 02 15:04:05 -0700 2006".
const createdLayout = time.RubyDate

// The notices a native stream sends besides tweets, as Adapt names them.
const (
	NoticeLimit        = "limit"
	NoticeScrubGeo     = "scrub_geo"
	NoticeWarning      = "warning"
	NoticeUserWithheld = "user_withheld"
	NoticeDisconnect   = "disconnect"
	NoticeUnknown      = "unknown"
)

// Parse decodes one line. Only a line that is not a JSON object fails; a
// field of another type than go-twitter expects is left unread (Odd).
func Parse(line []byte) (*Message, error) {
	var m Message
	odd, err := wirejson.Unmarshal(bytes.TrimSpace(line), &m)
	if err != nil {
		return nil, fmt.Errorf("twitter_native: decode: %w", err)
	}
	if odd != nil {
		m.odd = fmt.Errorf("twitter_native: %w", odd)
	}
	return &m, nil
}

// Adapt turns a message into a post from source, fetched at now: a tweet
// into a post, a delete or status_withheld notice (and a tweet withheld in
// some country) into a takedown. Other notices give no post and their name
// (NoticeLimit, ...).
//
// A retweet shows the original (its author, full text, media and counts)
// under the retweet's own id, with a first line "🔁 @retweeter", as the
// other sources show reposts.
func Adapt(m *Message, source string, now time.Time) (post.Post, string, error) {
	switch {
	case m.Delete != nil:
		if m.Delete.Status == nil {
			return post.Post{}, "", errors.New("twitter_native: delete notice without a status")
		}
		return takedown(idOf(m.Delete.Status.IDStr, m.Delete.Status.ID), source, now)
	case m.StatusWithheld != nil:
		return takedown(idOf("", m.StatusWithheld.ID), source, now)
	case m.Limit != nil:
		return post.Post{}, NoticeLimit, nil
	case m.ScrubGeo != nil:
		return post.Post{}, NoticeScrubGeo, nil
	case m.Warning != nil:
		return post.Post{}, NoticeWarning, nil
	case m.UserWithheld != nil:
		return post.Post{}, NoticeUserWithheld, nil
	case m.Disconnect != nil:
		return post.Post{}, NoticeDisconnect, nil
	case m.Archived != nil && m.IDStr == "" && m.ID == 0:
		p, err := AdaptTweet(m.Archived, source, now)
		return p, "", err
	case m.IDStr != "" || m.ID != 0:
		p, err := AdaptTweet(&m.Tweet, source, now)
		return p, "", err
	}
	return post.Post{}, NoticeUnknown, nil
}

func idOf(idStr string, id int64) string {
	if idStr != "" {
		return idStr
	}
	if id > 0 {
		return strconv.FormatInt(id, 10)
	}
	return ""
}

func takedown(id, source string, now time.Time) (post.Post, string, error) {
	if !xtext.IsID(id) {
		return post.Post{}, "", fmt.Errorf("twitter_native: notice names no tweet id (%q)", id)
	}
	p := post.Takedown(Network, Network+":"+id, source, now)
	if err := p.Normalize(Network, now); err != nil {
		return post.Post{}, "", fmt.Errorf("twitter_native: takedown %s: %w", id, err)
	}
	return p, "", nil
}

// AdaptTweet turns one tweet into a post.
func AdaptTweet(t *Tweet, source string, now time.Time) (post.Post, error) {
	id := idOf(t.IDStr, t.ID)
	if !xtext.IsID(id) {
		return post.Post{}, fmt.Errorf("twitter_native: tweet id %q is not an X id", id)
	}
	if t.WithheldCopyright || len(t.WithheldInCountries) > 0 {
		p, _, err := takedown(id, source, now)
		return p, err
	}
	shown, kind := t, post.KindOriginal
	switch {
	case t.RetweetedStatus != nil:
		shown, kind = t.RetweetedStatus, post.KindRepost
		if shown.WithheldCopyright || len(shown.WithheldInCountries) > 0 {
			p, _, err := takedown(id, source, now)
			return p, err
		}
	case t.QuotedStatus != nil || t.IsQuoteStatus || t.QuotedStatusIDStr != "":
		kind = post.KindQuote
	case t.InReplyToStatusIDStr != "" || t.InReplyToStatusID != 0:
		kind = post.KindReply
	}
	text, ents, rng, attached := content(shown)
	body, links := xtext.Render(text, ents, rng)
	shownID := idOf(shown.IDStr, shown.ID)
	p := post.Post{
		ID:        Network + ":" + id,
		Network:   Network,
		URL:       xtext.PostURL(screenName(shown), shownID),
		Author:    author(shown),
		Text:      body,
		Hashtags:  xtext.Words(ents, xtext.Hashtag),
		Mentions:  xtext.Words(ents, xtext.Mention),
		Links:     links,
		Media:     media(attached),
		Kind:      kind,
		Lang:      xtext.Lang(shown.Lang),
		Sensitive: bool(t.PossiblySensitive || shown.PossiblySensitive),
		Counts:    post.Counts{Likes: int64(shown.FavoriteCount), Reposts: int64(shown.RetweetCount), Replies: int64(shown.ReplyCount)},
		CreatedAt: createdAt(t),
		FetchedAt: now,
		Source:    source,
	}
	switch kind {
	case post.KindRepost:
		line := "🔁"
		if by := screenName(t); by != "" {
			line += " @" + by
		}
		p.Text, p.Links = xtext.Prefix(line, p.Text, p.Links)
	case post.KindQuote:
		qid := t.QuotedStatusIDStr
		if t.QuotedStatus != nil {
			qid = idOf(t.QuotedStatus.IDStr, t.QuotedStatus.ID)
		}
		if xtext.IsID(qid) && !xtext.LinksTo(p.Links, qid) {
			p.Links = append(p.Links, post.Link{URL: xtext.PostURL(screenName(t.QuotedStatus), qid)})
		}
	}
	if err := p.Normalize(Network, now); err != nil {
		return post.Post{}, fmt.Errorf("twitter_native: tweet %s: %w", id, err)
	}
	xtext.FitLinks(&p)
	return p, nil
}

// content is the fullest text of t with its entities, display range and
// media: extended_tweet.full_text for a long tweet a stream delivers
// truncated, full_text for a tweet fetched in extended mode (archives),
// else text.
func content(t *Tweet) (string, []xtext.Entity, *xtext.Range, []MediaEntity) {
	if et := t.ExtendedTweet; et != nil && strings.TrimSpace(et.FullText) != "" {
		m := mediaOf(et.ExtendedEntities, et.Entities)
		return et.FullText, entities(et.Entities, m), displayRange(et.DisplayTextRange), m
	}
	text := t.FullText
	if strings.TrimSpace(text) == "" {
		text = t.Text
	}
	m := mediaOf(t.ExtendedEntities, t.Entities)
	return text, entities(t.Entities, m), displayRange(t.DisplayTextRange), m
}

// mediaOf prefers extended_entities, which list every photo; entities
// lists only the first.
func mediaOf(ext *ExtendedEntity, e *twitter.Entities) []MediaEntity {
	if ext != nil && len(ext.Media) > 0 {
		return ext.Media
	}
	if e == nil {
		return nil
	}
	out := make([]MediaEntity, len(e.Media))
	for i, m := range e.Media {
		out[i] = MediaEntity{MediaEntity: m}
	}
	return out
}

func displayRange(r twitter.Indices) *xtext.Range {
	if r.End() <= r.Start() || r.Start() < 0 {
		return nil
	}
	return &xtext.Range{Start: r.Start(), End: r.End()}
}

// entities lists the spans for xtext.Render; the t.co link of attached
// media (one link for all of a tweet's photos) is removed from the text.
func entities(e *twitter.Entities, media []MediaEntity) []xtext.Entity {
	var out []xtext.Entity
	if e != nil {
		out = make([]xtext.Entity, 0, len(e.Hashtags)+len(e.Symbols)+len(e.UserMentions)+len(e.Urls)+1)
		for _, h := range e.Hashtags {
			out = append(out, xtext.Entity{Kind: xtext.Hashtag, Start: h.Indices.Start(), End: h.Indices.End(), Text: h.Text})
		}
		for _, c := range e.Symbols {
			out = append(out, xtext.Entity{Kind: xtext.Cashtag, Start: c.Indices.Start(), End: c.Indices.End(), Text: c.Text})
		}
		for _, m := range e.UserMentions {
			out = append(out, xtext.Entity{Kind: xtext.Mention, Start: m.Indices.Start(), End: m.Indices.End(), Text: m.ScreenName})
		}
		for _, u := range e.Urls {
			out = append(out, xtext.Entity{Kind: xtext.URL, Start: u.Indices.Start(), End: u.Indices.End(), Text: u.URL, Display: u.DisplayURL, Target: u.ExpandedURL})
		}
	}
	seen := map[string]bool{}
	for _, m := range media {
		if m.URL == "" || seen[m.URL] {
			continue
		}
		seen[m.URL] = true
		out = append(out, xtext.Entity{Kind: xtext.Media, Start: m.Indices.Start(), End: m.Indices.End(), Text: m.URL})
	}
	return out
}

// media are the attachments in X's order; a video or GIF is shown by its
// best MP4 rendition with its still as preview.
func media(list []MediaEntity) []post.Media {
	var out []post.Media
	for _, m := range list {
		still := m.MediaURLHttps
		if still == "" {
			still = m.MediaURL
		}
		large := m.Sizes.Large
		pm := post.Media{Width: large.Width, Height: large.Height, Alt: m.ExtAltText}
		switch m.Type {
		case "photo":
			pm.Kind, pm.URL = post.MediaImage, still
		case "video", "animated_gif":
			pm.Kind, pm.URL, pm.PreviewURL = post.MediaVideo, bestMP4(m.VideoInfo.Variants), still
			if m.Type == "animated_gif" {
				pm.Kind = post.MediaGIF
			}
			if pm.URL == "" {
				pm.Kind, pm.URL, pm.PreviewURL = post.MediaImage, still, ""
			}
		default:
			continue
		}
		if pm.URL != "" {
			out = append(out, pm)
		}
	}
	return out
}

func bestMP4(vs []twitter.VideoVariant) string {
	best, rate := "", -1
	for _, v := range vs {
		if v.ContentType == "video/mp4" && v.URL != "" && v.Bitrate > rate {
			best, rate = v.URL, v.Bitrate
		}
	}
	return best
}

func screenName(t *Tweet) string {
	if t == nil || t.User == nil {
		return ""
	}
	return t.User.ScreenName
}

func author(t *Tweet) post.Author {
	u := t.User
	if u == nil {
		return post.Author{}
	}
	name := u.Name
	if strings.TrimSpace(name) == "" {
		name = u.ScreenName
	}
	avatar := u.ProfileImageURLHttps
	if avatar == "" {
		avatar = u.ProfileImageURL
	}
	return post.Author{
		ID:         idOf(u.IDStr, u.ID),
		Handle:     u.ScreenName,
		Name:       name,
		AvatarURL:  xtext.Avatar(avatar),
		ProfileURL: xtext.ProfileURL(u.ScreenName),
		Followers:  int64(u.FollowersCount),
		Verified:   u.Verified,
	}
}

// createdAt reads created_at, falling back on the stream's timestamp_ms.
func createdAt(t *Tweet) time.Time {
	if c, err := time.Parse(createdLayout, t.CreatedAt); err == nil {
		return c
	}
	if ms, err := strconv.ParseInt(t.TimestampMS, 10, 64); err == nil && ms > 0 {
		return time.UnixMilli(ms)
	}
	return time.Time{}
}
