package mastodon

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/chorus-wall/chorus/post"
)

// Network is the network name of every post this package makes.
const Network = "mastodon"

// errNotPublic marks a status that must not reach a wall (private or
// direct); it is skipped quietly rather than counted as malformed.
var errNotPublic = errors.New("mastodon: status is not public")

// maxIDPath bounds the readable part of an id; longer status URIs are hashed.
const maxIDPath = 200

// PostID returns the native id of the status with the ActivityPub uri, the
// same on every server the status federated to: "<host>/<id>" for
// Mastodon's own URIs (https://host/users/name/statuses/<id>[/activity]), "<host><path>"
// for other software's URIs, and "<host>/h<hash>" for very long ones.
func PostID(uri string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(uri))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("mastodon: status uri %q is not an http(s) URL", uri)
	}
	host := strings.ToLower(u.Host)
	path := strings.TrimRight(u.EscapedPath(), "/")
	// Mastodon: /users/<name>/statuses/<id>, and /activity after it for a
	// reblog (which has its own id on its server).
	parts := strings.Split(path, "/")
	if len(parts) == 6 && parts[5] == "activity" {
		parts = parts[:5]
	}
	if len(parts) == 5 && parts[1] == "users" && parts[3] == "statuses" && parts[4] != "" {
		return host + "/" + parts[4], nil
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	if path == "" || len(host)+len(path) > maxIDPath {
		sum := sha256.Sum256([]byte(uri))
		return host + "/h" + hex.EncodeToString(sum[:16]), nil
	}
	return host + path, nil
}

// Adapt turns a status into a normalized post from source. A reblog
// becomes a repost showing the reblogged status (its author, text, media
// and counts) under the reblog's own id, with the booster noted on a first
// line "🔁 @booster@host". Statuses that are neither public nor unlisted
// return errNotPublic.
func Adapt(s *Status, source string, now time.Time) (post.Post, error) {
	if s == nil {
		return post.Post{}, errors.New("mastodon: empty status")
	}
	switch s.Visibility {
	case "", "public", "unlisted":
	default:
		return post.Post{}, errNotPublic
	}
	id, err := PostID(s.URI)
	if err != nil {
		return post.Post{}, err
	}
	shown := s
	if s.Reblog != nil {
		shown = s.Reblog
	}
	p := post.Post{
		ID:             Network + ":" + id,
		Network:        Network,
		URL:            statusURL(shown),
		Author:         author(&shown.Account),
		Kind:           post.KindOriginal,
		Sensitive:      shown.Sensitive || strings.TrimSpace(shown.SpoilerText) != "",
		ContentWarning: strings.TrimSpace(shown.SpoilerText),
		Counts:         post.Counts{Likes: shown.FavouritesCount, Reposts: shown.ReblogsCount, Replies: shown.RepliesCount},
		CreatedAt:      shown.CreatedAt,
		FetchedAt:      now,
		Source:         source,
	}
	if shown.Language != nil {
		p.Lang = *shown.Language
	}
	if shown.EditedAt != nil && shown.EditedAt.After(shown.CreatedAt) {
		// A later version than the one first published: curation judges
		// it again where the first was decided.
		p.EditedAt = *shown.EditedAt
	}
	rt := parseContent(shown.Content)
	p.Text = rt.Text
	p.Links = rt.Links
	p.Hashtags = hashtags(rt.Hashtags, shown.Tags)
	p.Mentions = mentions(rt.Mentions, shown.Mentions)
	p.Media = media(shown.MediaAttachments)
	switch {
	case s.Reblog != nil:
		p.Kind = post.KindRepost
		prefix := "🔁 @" + fullAcct(&s.Account)
		if p.Text != "" {
			prefix += "\n"
		}
		shift := len([]rune(prefix))
		for i := range p.Links {
			p.Links[i].Start += shift
			p.Links[i].End += shift
		}
		p.Text = prefix + p.Text
		p.CreatedAt = s.CreatedAt
	case isQuote(shown.Quote):
		p.Kind = post.KindQuote
		if u := quotedURL(shown.Quote); u != "" {
			p.Links = append(p.Links, post.Link{URL: u})
		}
	case shown.InReplyToID != nil && *shown.InReplyToID != "":
		p.Kind = post.KindReply
	}
	if err := p.Normalize(Network, now); err != nil {
		return post.Post{}, fmt.Errorf("mastodon: status %s: %w", s.ID, err)
	}
	return p, nil
}

// statusURL is the original post's web page, which every server reports in
// url (its uri where the software has no separate page).
func statusURL(s *Status) string {
	if s.URL != nil && *s.URL != "" {
		return *s.URL
	}
	return s.URI
}

// fullAcct is user@domain whether the server reports the account as local
// ("ana") or remote ("ana@example.social"), so every server gives one form.
func fullAcct(a *Account) string {
	acct := strings.TrimPrefix(strings.TrimSpace(a.Acct), "@")
	if acct == "" {
		acct = a.Username
	}
	if strings.Contains(acct, "@") {
		return acct
	}
	if host := hostOf(a.URL); host != "" {
		return acct + "@" + host
	}
	return acct
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

func author(a *Account) post.Author {
	name := a.DisplayName
	if strings.TrimSpace(name) == "" {
		name = a.Username
	}
	avatar := a.Avatar
	if avatar == "" {
		avatar = a.AvatarStatic
	}
	acct := fullAcct(a)
	return post.Author{
		ID:         acct,
		Handle:     acct,
		Name:       name,
		AvatarURL:  avatar,
		ProfileURL: a.URL,
		Followers:  a.FollowersCount,
	}
}

// hashtags are the tags as written in the text, then any others the status
// carries (Mastodon lists tags a remote post had outside its text too).
func hashtags(inText []string, tags []Tag) []string {
	var out []string
	seen := map[string]bool{}
	add := func(t string) {
		t = strings.TrimPrefix(strings.TrimSpace(t), "#")
		if k := strings.ToLower(t); t != "" && !seen[k] {
			seen[k] = true
			out = append(out, t)
		}
	}
	for _, t := range inText {
		add(t)
	}
	for _, t := range tags {
		add(t.Name)
	}
	return out
}

// mentions resolves the mention links to full accts through the status's
// mentions list (matched by profile URL), falling back to the shown text
// and the link's host.
func mentions(inText []mentionRef, listed []Mention) []string {
	byURL := make(map[string]string, len(listed))
	for _, m := range listed {
		acct := m.Acct
		if !strings.Contains(acct, "@") {
			if host := hostOf(m.URL); host != "" {
				acct += "@" + host
			}
		}
		byURL[m.URL] = acct
	}
	var out []string
	seen := map[string]bool{}
	add := func(a string) {
		if k := strings.ToLower(a); a != "" && !seen[k] {
			seen[k] = true
			out = append(out, a)
		}
	}
	for _, m := range inText {
		acct, ok := byURL[m.href]
		if !ok {
			acct = m.text
			if !strings.Contains(acct, "@") {
				if host := hostOf(m.href); host != "" {
					acct += "@" + host
				}
			}
		}
		add(acct)
	}
	for _, m := range listed {
		add(byURL[m.URL])
	}
	return out
}

func media(atts []Attachment) []post.Media {
	var out []post.Media
	for _, a := range atts {
		var kind post.MediaKind
		switch a.Type {
		case "image":
			kind = post.MediaImage
		case "gifv":
			kind = post.MediaGIF
		case "video":
			kind = post.MediaVideo
		default:
			// audio and unknown (media the server did not fetch) cannot be shown.
			continue
		}
		m := post.Media{Kind: kind, URL: deref(a.URL)}
		if m.URL == "" {
			m.URL = deref(a.RemoteURL)
		}
		m.PreviewURL = deref(a.PreviewURL)
		m.Alt = deref(a.Description)
		if a.Meta != nil && a.Meta.Original != nil {
			m.Width, m.Height = a.Meta.Original.Width, a.Meta.Original.Height
		}
		out = append(out, m)
	}
	return out
}

// quotedURL is the web page of a quoted status: from Mastodon 4.4's Quote
// entity (quoted_status), or from servers that put a whole Status in quote.
// A ShallowQuote or a quote not (or no longer) accepted gives "".
func quotedURL(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var q Quote
	if err := json.Unmarshal(raw, &q); err == nil && q.QuotedStatus != nil {
		if q.State != "" && q.State != "accepted" {
			return ""
		}
		return statusURL(q.QuotedStatus)
	}
	var s Status
	if err := json.Unmarshal(raw, &s); err == nil && s.URI != "" {
		return statusURL(&s)
	}
	return ""
}

// isQuote reports whether the quote field holds a quote that stands
// (accepted, or pending approval, or from software without states).
func isQuote(raw json.RawMessage) bool {
	if len(raw) == 0 || string(raw) == "null" {
		return false
	}
	var q Quote
	if err := json.Unmarshal(raw, &q); err != nil {
		return false
	}
	switch q.State {
	case "", "accepted", "pending":
		return q.QuotedStatus != nil || q.QuotedStatusID != nil || quotedURL(raw) != ""
	}
	return false
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
