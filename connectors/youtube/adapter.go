package youtube

import (
	"errors"
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/chorus-wall/chorus/post"
)

// Network is the network name of YouTube posts.
const Network = "youtube"

// WatchURL is a video's page.
func WatchURL(id string) string { return "https://www.youtube.com/watch?v=" + id }

func channelURL(id string) string {
	if id == "" {
		return ""
	}
	return "https://www.youtube.com/channel/" + id
}

// videoParts is what a video post is made of, from a search hit and, when
// fetched, the video resource (full description, counts, rating).
type videoParts struct {
	id, title, description, channelID, channelTitle, publishedAt, lang string
	thumbs                                                             Thumbnails
	likes, comments                                                    int64
	ageRestricted                                                      bool
}

// fromSearch reads a search hit; its snippet is HTML-escaped.
func fromSearch(r *SearchResult) (videoParts, error) {
	if r.ID.Kind != "" && r.ID.Kind != "youtube#video" {
		return videoParts{}, fmt.Errorf("youtube: search result of kind %q, want youtube#video", r.ID.Kind)
	}
	if r.ID.VideoID == "" {
		return videoParts{}, errors.New("youtube: search result without videoId")
	}
	sn := r.Snippet
	return videoParts{
		id: r.ID.VideoID, title: html.UnescapeString(sn.Title), description: html.UnescapeString(sn.Description),
		channelID: sn.ChannelID, channelTitle: html.UnescapeString(sn.ChannelTitle), publishedAt: sn.PublishedAt, thumbs: sn.Thumbnails,
	}, nil
}

// withVideo completes a search hit with its video resource (not escaped).
func (v videoParts) withVideo(vid *Video) videoParts {
	if vid == nil {
		return v
	}
	if sn := vid.Snippet; sn != nil {
		v.title, v.description, v.thumbs = sn.Title, sn.Description, sn.Thumbnails
		if sn.ChannelTitle != "" {
			v.channelTitle = sn.ChannelTitle
		}
		if sn.PublishedAt != "" {
			v.publishedAt = sn.PublishedAt
		}
		v.lang = sn.DefaultLanguage
		if v.lang == "" {
			v.lang = sn.DefaultAudioLanguage
		}
	}
	if st := vid.Statistics; st != nil {
		v.likes, _ = strconv.ParseInt(st.LikeCount, 10, 64)
		v.comments, _ = strconv.ParseInt(st.CommentCount, 10, 64)
	}
	if cd := vid.ContentDetails; cd != nil && cd.ContentRating.YtRating == "ytAgeRestricted" {
		v.ageRestricted = true
	}
	return v
}

// adaptVideo maps a video to a normalized post.
func adaptVideo(v videoParts, source string, now time.Time) (post.Post, error) {
	p := post.Post{
		ID:      Network + ":" + v.id,
		Network: Network,
		URL:     WatchURL(v.id),
		Author:  post.Author{ID: v.channelID, Name: v.channelTitle, ProfileURL: channelURL(v.channelID)},
		Kind:    post.KindOriginal,
		Lang:    v.lang,
		Source:  source,
		Counts:  post.Counts{Likes: max(v.likes, 0), Replies: max(v.comments, 0)},
	}
	title := strings.TrimSpace(v.title)
	desc := strings.TrimSpace(v.description)
	switch {
	case title == "":
		p.Text = desc
	case desc == "":
		p.Text = title
	default:
		p.Text = title + "\n\n" + desc
	}
	p.Text = cutText(strings.TrimSpace(post.CleanText(p.Text)))
	p.Hashtags, p.Links = entities(p.Text)
	if t := bestThumb(v.thumbs); t != nil {
		p.Media = []post.Media{{Kind: post.MediaImage, URL: t.URL, Width: t.Width, Height: t.Height, Alt: title}}
	}
	if v.ageRestricted {
		p.Sensitive, p.ContentWarning = true, "Age-restricted"
	}
	created, err := time.Parse(time.RFC3339, v.publishedAt)
	if err == nil {
		p.CreatedAt = created
	}
	p.FetchedAt = now
	if err := p.Normalize(Network, now); err != nil {
		return post.Post{}, fmt.Errorf("youtube: video %s: %w", v.id, err)
	}
	return p, nil
}

// bestThumb picks the high thumbnail, else medium, else any.
func bestThumb(t Thumbnails) *Thumbnail {
	for _, c := range []*Thumbnail{t.High, t.Medium, t.Standard, t.Maxres, t.Default} {
		if c != nil && c.URL != "" {
			return c
		}
	}
	return nil
}

// chatOutcome is what one chat item means for the wall.
type chatOutcome int

const (
	chatPost     chatOutcome = iota // a post to show
	chatTakedown                    // a deletion: the post must go
	chatIgnored                     // a ban, a membership, a poll, ...
)

// adaptChat maps a live chat item. videoURL, when known, is the post's URL.
func adaptChat(m *LiveChatMessage, videoURL, source string, now time.Time) (post.Post, chatOutcome, error) {
	sn := m.Snippet
	var text string
	switch sn.Type {
	case "textMessageEvent":
		text = sn.DisplayMessage
		if d := sn.TextMessageDetails; d != nil && d.MessageText != "" {
			text = d.MessageText
		}
	case "superChatEvent":
		d := sn.SuperChatDetails
		if d == nil {
			return post.Post{}, chatIgnored, errors.New("youtube: superChatEvent without superChatDetails")
		}
		text = strings.TrimSpace(d.AmountDisplayString + " Super Chat")
		if c := strings.TrimSpace(d.UserComment); c != "" {
			text += ": " + c
		}
	case "superStickerEvent":
		d := sn.SuperStickerDetails
		if d == nil {
			return post.Post{}, chatIgnored, errors.New("youtube: superStickerEvent without superStickerDetails")
		}
		text = strings.TrimSpace(d.AmountDisplayString + " Super Sticker")
		if alt := strings.TrimSpace(d.SuperStickerMetadata.AltText); alt != "" {
			text += ": " + alt
		}
	case "messageDeletedEvent":
		d := sn.MessageDeletedDetails
		if d == nil || d.DeletedMessageID == "" {
			return post.Post{}, chatIgnored, errors.New("youtube: messageDeletedEvent without deletedMessageId")
		}
		return post.Takedown(Network, Network+":"+d.DeletedMessageID, source, now), chatTakedown, nil
	default:
		// userBannedEvent, newSponsorEvent, memberMilestoneChatEvent,
		// pollEvent, chatEndedEvent, tombstone, ...
		return post.Post{}, chatIgnored, nil
	}
	p := post.Post{
		ID:      Network + ":" + m.ID,
		Network: Network,
		URL:     videoURL,
		Text:    cutText(strings.TrimSpace(post.CleanText(text))),
		Kind:    post.KindOriginal,
		Source:  source,
	}
	if a := m.AuthorDetails; a != nil {
		p.Author = post.Author{ID: a.ChannelID, Name: a.DisplayName, AvatarURL: a.ProfileImageURL, ProfileURL: a.ChannelURL, Verified: a.IsVerified}
		if h, ok := strings.CutPrefix(a.DisplayName, "@"); ok {
			p.Author.Handle = h
		}
		if p.Author.ProfileURL == "" {
			p.Author.ProfileURL = channelURL(a.ChannelID)
		}
	} else {
		p.Author = post.Author{ID: sn.AuthorChannelID, ProfileURL: channelURL(sn.AuthorChannelID)}
	}
	p.Hashtags, p.Links = entities(p.Text)
	if created, err := time.Parse(time.RFC3339Nano, sn.PublishedAt); err == nil {
		p.CreatedAt = created
	}
	p.FetchedAt = now
	if err := p.Normalize(Network, now); err != nil {
		return post.Post{}, chatPost, fmt.Errorf("youtube: chat message %s: %w", m.ID, err)
	}
	return p, chatPost, nil
}

// cutText keeps a text within post.MaxTextRunes, cutting at a word with "…".
func cutText(s string) string {
	if utf8.RuneCountInString(s) <= post.MaxTextRunes {
		return s
	}
	head := string([]rune(s)[:post.MaxTextRunes-1])
	if sp := strings.LastIndexFunc(head, unicode.IsSpace); sp > 0 && utf8.RuneCountInString(head[:sp]) > post.MaxTextRunes*4/5 {
		head = head[:sp]
	}
	return strings.TrimRightFunc(head, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }) + "…"
}

// entities finds #hashtags and http(s) links (with spans) in plain text.
func entities(text string) (hashtags []string, links []post.Link) {
	runes := []rune(text)
	boundary := func(i int) bool {
		return i == 0 || unicode.IsSpace(runes[i-1]) || strings.ContainsRune("([{\"'", runes[i-1])
	}
	for i := 0; i < len(runes); i++ {
		switch {
		case runes[i] == '#' && boundary(i):
			j := i + 1
			for j < len(runes) && (unicode.IsLetter(runes[j]) || unicode.IsDigit(runes[j]) || runes[j] == '_' || unicode.Is(unicode.Mn, runes[j])) {
				j++
			}
			if tag := string(runes[i+1 : j]); j > i+1 && strings.ContainsFunc(tag, unicode.IsLetter) && !containsFold(hashtags, tag) {
				hashtags = append(hashtags, tag)
			}
			i = j - 1
		case (runes[i] == 'h' || runes[i] == 'H') && boundary(i) && hasURLPrefix(runes[i:]):
			j := i
			for j < len(runes) && !unicode.IsSpace(runes[j]) && !strings.ContainsRune("<>\"", runes[j]) {
				j++
			}
			// Trailing punctuation belongs to the sentence, not the URL.
			for j > i && strings.ContainsRune(".,;:!?)]}'", runes[j-1]) {
				j--
			}
			if u := string(runes[i:j]); post.SafeURL(u) != "" {
				links = append(links, post.Link{URL: u, Start: i, End: j})
			}
			i = max(j-1, i)
		}
	}
	return hashtags, links
}

func hasURLPrefix(rs []rune) bool {
	const n = len("https://")
	s := strings.ToLower(string(rs[:min(len(rs), n)]))
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
