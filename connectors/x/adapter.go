package x

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/chorus-wall/chorus/connectors/wirejson"
	"github.com/chorus-wall/chorus/connectors/x/xtext"
	"github.com/chorus-wall/chorus/post"
)

// Network is the network of every post this package makes.
const Network = "x"

// Result is what one search page or stream line gives.
type Result struct {
	// Posts in X's order (a search page is newest first), takedowns among
	// them.
	Posts []post.Post
	// Skipped are the items that could not be read or adapted.
	Skipped []error
	// Odd are fields left unread in items that were kept (see wirejson).
	Odd []error
	// Newest and Oldest are the ids of the tweets in data that could be read
	// ("" when none): a page moves the cursor even when every tweet on it is
	// skipped.
	Newest, Oldest string
}

// ParseResponse decodes a search page or a stream line. Only a body that is
// not a JSON object fails; bad items inside it are skipped by Adapt, and
// side fields of another type than documented are left unread.
func ParseResponse(body []byte) (*Response, error) {
	var r Response
	odd, err := wirejson.Unmarshal(body, &r)
	if err != nil {
		return nil, fmt.Errorf("x: decode response: %w", err)
	}
	if odd != nil {
		r.odd = fmt.Errorf("x: response: %w", odd)
	}
	return &r, nil
}

// expansions are a response's includes, by id.
type expansions struct {
	users  map[string]*User
	media  map[string]*Media
	tweets map[string]*Tweet
	// deleted are referenced tweets X reported as not found.
	deleted map[string]bool
}

// Adapt turns a decoded response into posts from source, fetched at now.
// A retweet shows the original (its author, full text, media and counts)
// under the retweet's own id, with a first line "🔁 @reposter"; a
// withheld tweet, and a retweet whose original was deleted, become
// takedowns; a tweet quoting a deleted tweet is kept, and the deleted one
// is taken down.
func Adapt(r *Response, source string, now time.Time) Result {
	var res Result
	if r.odd != nil {
		res.Odd = append(res.Odd, r.odd)
	}
	x := expand(&r.Includes, r.Errors, &res)
	for _, raw := range items(r.Data, &res) {
		var t Tweet
		if !res.decode(raw, &t, "tweet") {
			continue
		}
		if !xtext.IsID(string(t.ID)) {
			res.Skipped = append(res.Skipped, fmt.Errorf("x: tweet id %q is not an X id", string(t.ID)))
			continue
		}
		if res.Newest == "" || xtext.Less(res.Newest, string(t.ID)) {
			res.Newest = string(t.ID)
		}
		if res.Oldest == "" || xtext.Less(string(t.ID), res.Oldest) {
			res.Oldest = string(t.ID)
		}
		posts, err := adaptTweet(&t, x, source, now)
		if err != nil {
			res.Skipped = append(res.Skipped, err)
			continue
		}
		res.Posts = append(res.Posts, posts...)
	}
	return res
}

// decode reads one item into v, noting what it could not read; false when
// the item is skipped.
func (res *Result) decode(raw json.RawMessage, v any, what string) bool {
	odd, err := wirejson.Unmarshal(raw, v)
	if err != nil {
		res.Skipped = append(res.Skipped, fmt.Errorf("x: decode %s: %w", what, err))
		return false
	}
	if odd != nil {
		res.Odd = append(res.Odd, fmt.Errorf("x: %s: %w", what, odd))
	}
	return true
}

// items splits data, an array of tweets (search) or one tweet (stream).
func items(data json.RawMessage, res *Result) []json.RawMessage {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0 || string(data) == "null":
		return nil
	case data[0] == '{':
		return []json.RawMessage{data}
	}
	var list []json.RawMessage
	if err := json.Unmarshal(data, &list); err != nil {
		res.Skipped = append(res.Skipped, fmt.Errorf("x: decode data: %w", err))
		return nil
	}
	return list
}

func expand(inc *Includes, problems []Problem, res *Result) *expansions {
	x := &expansions{
		users:   make(map[string]*User, len(inc.Users)),
		media:   make(map[string]*Media, len(inc.Media)),
		tweets:  make(map[string]*Tweet, len(inc.Tweets)),
		deleted: map[string]bool{},
	}
	for _, raw := range inc.Users {
		u := new(User)
		if !res.decode(raw, u, "included user") {
			continue
		}
		x.users[string(u.ID)] = u
	}
	for _, raw := range inc.Media {
		m := new(Media)
		if !res.decode(raw, m, "included media") {
			continue
		}
		x.media[m.MediaKey] = m
	}
	for _, raw := range inc.Tweets {
		t := new(Tweet)
		if !res.decode(raw, t, "included tweet") {
			continue
		}
		x.tweets[string(t.ID)] = t
	}
	for _, p := range problems {
		if p.ResourceType == "tweet" && isNotFound(p) && xtext.IsID(p.ResourceID) {
			x.deleted[p.ResourceID] = true
		}
	}
	return x
}

// isNotFound recognises X's "Not Found Error" problem: the tweet was deleted.
func isNotFound(p Problem) bool {
	return p.Title == "Not Found Error" || strings.HasSuffix(p.Type, "/resource-not-found")
}

// Kinds of referenced tweet.
const (
	refRetweeted = "retweeted"
	refQuoted    = "quoted"
	refReplied   = "replied_to"
)

func kindOf(t *Tweet) (post.Kind, string) {
	var kind post.Kind = post.KindOriginal
	ref := ""
	for _, r := range t.ReferencedTweets {
		switch {
		case r.Type == refRetweeted:
			return post.KindRepost, string(r.ID)
		case r.Type == refQuoted:
			kind, ref = post.KindQuote, string(r.ID)
		case r.Type == refReplied && kind == post.KindOriginal:
			kind, ref = post.KindReply, string(r.ID)
		}
	}
	return kind, ref
}

func takedown(id, source string, now time.Time) post.Post {
	p := post.Takedown(Network, Network+":"+id, source, now)
	_ = p.Normalize(Network, now) // cannot fail: the id is an X id
	return p
}

func withheld(t *Tweet) bool {
	return t.Withheld != nil && (bool(t.Withheld.Copyright) || len(t.Withheld.CountryCodes) > 0)
}

func adaptTweet(t *Tweet, x *expansions, source string, now time.Time) ([]post.Post, error) {
	if withheld(t) {
		return []post.Post{takedown(string(t.ID), source, now)}, nil
	}
	kind, ref := kindOf(t)
	shown := t
	var extra []post.Post
	switch kind {
	case post.KindRepost:
		switch orig := x.tweets[ref]; {
		case x.deleted[ref]:
			// X removes the retweets of a deleted tweet.
			return []post.Post{takedown(string(t.ID), source, now), takedown(ref, source, now)}, nil
		case orig != nil && withheld(orig):
			return []post.Post{takedown(string(t.ID), source, now), takedown(ref, source, now)}, nil
		case orig != nil:
			shown = orig
		}
	case post.KindQuote:
		if x.deleted[ref] {
			extra = append(extra, takedown(ref, source, now))
		}
	}
	author := x.users[string(shown.AuthorID)]
	text, ents := shown.Text, entities(shown.Entities)
	if shown.NoteTweet != nil && strings.TrimSpace(shown.NoteTweet.Text) != "" {
		text = shown.NoteTweet.Text
		if shown.NoteTweet.Entities != nil {
			ents = entities(shown.NoteTweet.Entities)
		}
	}
	body, links := xtext.Render(text, ents, nil)
	p := post.Post{
		ID:        Network + ":" + string(t.ID),
		Network:   Network,
		URL:       xtext.PostURL(handle(author), string(shown.ID)),
		Author:    authorOf(author, string(shown.AuthorID)),
		Text:      body,
		Hashtags:  xtext.Words(ents, xtext.Hashtag),
		Mentions:  xtext.Words(ents, xtext.Mention),
		Links:     links,
		Media:     media(shown.Attachments, x.media),
		Kind:      kind,
		Lang:      xtext.Lang(shown.Lang),
		Sensitive: bool(t.PossiblySensitive || shown.PossiblySensitive),
		Counts:    counts(shown.PublicMetrics),
		CreatedAt: parseTime(t.CreatedAt),
		FetchedAt: now,
		Source:    source,
	}
	switch kind {
	case post.KindRepost:
		if shown != t {
			line := "🔁"
			if by := handle(x.users[string(t.AuthorID)]); by != "" {
				line += " @" + by
			}
			p.Text, p.Links = xtext.Prefix(line, p.Text, p.Links)
		}
	case post.KindQuote:
		if q := x.tweets[ref]; q != nil || xtext.IsID(ref) {
			quoted := xtext.PostURL(handle(x.users[authorID(q)]), ref)
			if !xtext.LinksTo(p.Links, ref) {
				p.Links = append(p.Links, post.Link{URL: quoted})
			}
		}
	}
	if err := p.Normalize(Network, now); err != nil {
		return nil, fmt.Errorf("x: tweet %s: %w", string(t.ID), err)
	}
	xtext.FitLinks(&p)
	return append([]post.Post{p}, extra...), nil
}

func authorID(t *Tweet) string {
	if t == nil {
		return ""
	}
	return string(t.AuthorID)
}

func handle(u *User) string {
	if u == nil {
		return ""
	}
	return u.Username
}

func authorOf(u *User, id string) post.Author {
	if u == nil {
		return post.Author{ID: id}
	}
	name := u.Name
	if strings.TrimSpace(name) == "" {
		name = u.Username
	}
	a := post.Author{
		ID:         string(u.ID),
		Handle:     u.Username,
		Name:       name,
		AvatarURL:  xtext.Avatar(u.ProfileImageURL),
		ProfileURL: xtext.ProfileURL(u.Username),
		Verified:   u.Verified,
	}
	if u.PublicMetrics != nil {
		a.Followers = u.PublicMetrics.FollowersCount
	}
	return a
}

func counts(m *TweetMetrics) post.Counts {
	if m == nil {
		return post.Counts{}
	}
	return post.Counts{Likes: m.LikeCount, Reposts: m.RetweetCount, Replies: m.ReplyCount}
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// entities lists e's spans for xtext.Render; links to attached media (they
// carry a media_key and read pic.x.com/…) are removed from the text.
func entities(e *Entities) []xtext.Entity {
	if e == nil {
		return nil
	}
	out := make([]xtext.Entity, 0, len(e.Hashtags)+len(e.Cashtags)+len(e.Mentions)+len(e.URLs))
	for _, h := range e.Hashtags {
		out = append(out, xtext.Entity{Kind: xtext.Hashtag, Start: h.Start, End: h.End, Text: h.Tag})
	}
	for _, c := range e.Cashtags {
		out = append(out, xtext.Entity{Kind: xtext.Cashtag, Start: c.Start, End: c.End, Text: c.Tag})
	}
	for _, m := range e.Mentions {
		out = append(out, xtext.Entity{Kind: xtext.Mention, Start: m.Start, End: m.End, Text: m.Username})
	}
	for _, u := range e.URLs {
		ent := xtext.Entity{Kind: xtext.URL, Start: u.Start, End: u.End, Text: u.URL, Display: u.DisplayURL, Target: u.ExpandedURL, Title: u.Title}
		if u.UnwoundURL != "" {
			ent.Target = u.UnwoundURL
		}
		if u.MediaKey != "" || strings.HasPrefix(u.DisplayURL, "pic.x.com/") || strings.HasPrefix(u.DisplayURL, "pic.twitter.com/") {
			ent.Kind = xtext.Media
		}
		out = append(out, ent)
	}
	return out
}

// media are the attachments in X's order; a video or GIF is shown by its
// best MP4 rendition (a still of it when X gave none).
func media(a *Attachments, byKey map[string]*Media) []post.Media {
	if a == nil {
		return nil
	}
	var out []post.Media
	for _, key := range a.MediaKeys {
		m := byKey[key]
		if m == nil {
			continue
		}
		pm := post.Media{Width: m.Width, Height: m.Height, Alt: m.AltText}
		switch m.Type {
		case "photo":
			pm.Kind, pm.URL = post.MediaImage, m.URL
		case "video", "animated_gif":
			pm.Kind, pm.PreviewURL = post.MediaVideo, m.PreviewImageURL
			if m.Type == "animated_gif" {
				pm.Kind = post.MediaGIF
			}
			pm.URL = bestMP4(m.Variants)
			if pm.URL == "" {
				pm.Kind, pm.URL, pm.PreviewURL = post.MediaImage, m.PreviewImageURL, ""
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

func bestMP4(vs []Variant) string {
	best, rate := "", -1
	for _, v := range vs {
		if v.ContentType == "video/mp4" && v.URL != "" && v.BitRate > rate {
			best, rate = v.URL, v.BitRate
		}
	}
	return best
}
