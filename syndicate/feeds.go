package syndicate

import (
	"encoding/json"
	"html"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/feeds"
	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/post"
)

// maxTitle is how much of a post's text its feed item title carries.
const maxTitle = 80

// Feed answers GET /feeds/:file, where file is <stream>.atom, <stream>.rss
// or <stream>.json (JSON Feed 1.1), with the latest approved posts
// (?limit=N, default 10, at most 50).
func (h *Handlers) Feed(c echo.Context) error {
	file := c.Param("file")
	dot := strings.LastIndexByte(file, '.')
	if dot < 0 {
		return echo.NewHTTPError(http.StatusNotFound, "feeds are /feeds/<stream>.atom, .rss or .json")
	}
	id, format := file[:dot], file[dot+1:]
	var contentType string
	switch format {
	case "atom":
		contentType = "application/atom+xml; charset=utf-8"
	case "rss":
		contentType = "application/rss+xml; charset=utf-8"
	case "json":
		contentType = "application/feed+json; charset=utf-8"
	default:
		return echo.NewHTTPError(http.StatusNotFound, "feeds are /feeds/<stream>.atom, .rss or .json")
	}
	stream, posts, err := h.latest(c, id)
	if err != nil {
		return err
	}
	self := strings.TrimRight(h.PublicURL, "/") + "/feeds/" + file
	f := &feeds.Feed{
		Title:       stream.Title,
		Link:        &feeds.Link{Href: h.wallURL(stream.ID)},
		Description: "Curated posts of " + stream.Title,
		Id:          self,
		Updated:     h.now().UTC(),
	}
	var updated time.Time
	for _, p := range posts {
		f.Items = append(f.Items, h.item(p, stream.ID))
		if p.CreatedAt.After(updated) {
			updated = p.CreatedAt
		}
	}
	if !updated.IsZero() {
		f.Updated = updated
	}
	var body string
	switch format {
	case "atom":
		body, err = f.ToAtom()
	case "rss":
		body, err = f.ToRss()
	case "json":
		body, err = h.jsonFeed(f, self, posts)
	}
	if err != nil {
		return err
	}
	hd := c.Response().Header()
	hd.Set("Cache-Control", "public, max-age=60")
	hd.Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, contentType, []byte(body))
}

// item is one post as a feed item. Its HTML is built here from escaped text
// (the post's text is plain text; a reader must show "<b>" as typed).
func (h *Handlers) item(p post.Post, stream string) *feeds.Item {
	author := p.Author.Name
	if author == "" {
		author = handle(p.Author.Handle)
	}
	title := author
	if text := strings.Join(strings.Fields(p.Text), " "); text != "" {
		title += ": " + cut(text, maxTitle)
	}
	it := &feeds.Item{
		Title:       title,
		Id:          "urn:chorus:post:" + p.ID,
		IsPermaLink: "false",
		Author:      &feeds.Author{Name: author},
		Created:     p.CreatedAt,
		Updated:     p.CreatedAt,
		Link:        &feeds.Link{Href: orDefault(h.link(p.URL), h.wallURL(stream))},
	}
	var b strings.Builder
	if p.Sensitive || p.ContentWarning != "" {
		b.WriteString("<p><em>Content warning: " + html.EscapeString(orDefault(p.ContentWarning, "sensitive content")) + "</em></p>")
	} else {
		b.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(p.Text), "\n", "<br>") + "</p>")
		if img := h.image(p); img != nil {
			b.WriteString(`<p><img src="` + html.EscapeString(img.URL) + `" alt="` + html.EscapeString(img.Alt) + `"></p>`)
		}
	}
	it.Description = b.String()
	return it
}

// image is the post's first picture (an image, or a video's poster) with
// its absolute proxied URL.
func (h *Handlers) image(p post.Post) *post.Media {
	for _, m := range p.Media {
		src := m.URL
		if m.Kind != post.MediaImage || src == "" {
			src = m.PreviewURL
		}
		if src = h.link(src); src != "" {
			m.URL = src
			return &m
		}
	}
	return nil
}

// jsonFeed is JSON Feed 1.1, with the post's plain text as content_text,
// its author's avatar and its picture, and "items" present even when empty
// (the format requires it).
func (h *Handlers) jsonFeed(f *feeds.Feed, self string, posts []post.Post) (string, error) {
	jf := (&feeds.JSON{Feed: f}).JSONFeed()
	jf.FeedUrl = self
	items := make([]*feeds.JSONItem, len(jf.Items))
	for i, it := range jf.Items {
		p := posts[i]
		it.Summary = ""
		if p.Sensitive || p.ContentWarning != "" {
			it.ContentText = "Content warning: " + orDefault(p.ContentWarning, "sensitive content")
			it.Image = ""
			it.Attachments = nil
		} else {
			it.ContentText = p.Text
			if img := h.image(p); img != nil {
				it.Image = img.URL
			}
			it.Attachments = nil
		}
		it.ContentHTML = ""
		it.Author = nil
		it.Authors = []*feeds.JSONAuthor{{Name: f.Items[i].Author.Name, Url: h.link(p.Author.ProfileURL), Avatar: h.link(p.Author.AvatarURL)}}
		if len(p.Hashtags) > 0 {
			it.Tags = p.Hashtags
		}
		items[i] = it
	}
	if p := h.langOf(posts); p != "" {
		jf.Language = p
	}
	out := struct {
		*feeds.JSONFeed
		Items []*feeds.JSONItem `json:"items"`
	}{jf, items}
	data, err := json.MarshalIndent(out, "", "  ")
	return string(data), err
}

// langOf is the feed's language when every post shares one.
func (h *Handlers) langOf(posts []post.Post) string {
	lang := ""
	for i, p := range posts {
		if i > 0 && p.Lang != lang || p.Lang == "" {
			return ""
		}
		lang = p.Lang
	}
	return lang
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
