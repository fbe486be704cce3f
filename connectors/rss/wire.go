package rss

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	jsonfeed "github.com/mmcdole/gofeed/json"
)

// The wire types of RSS 2.0, Atom 1.0 and JSON Feed 1.1 are gofeed's: its
// parsers read each format as its specification describes it and translate
// the three into gofeed.Feed. What gofeed leaves in its generic extension
// map, Media RSS (http://search.yahoo.com/mrss/), is read here.

// parseFeed parses an RSS, Atom or JSON feed document.
func parseFeed(body []byte) (*gofeed.Feed, error) {
	p := gofeed.NewParser()
	// The original JSON feed carries what the universal type drops: author
	// avatars and whether an item's content is text or HTML.
	p.KeepOriginalFeed = true
	f, err := p.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("rss: parse feed: %w", err)
	}
	return f, nil
}

// jsonItems indexes a JSON feed's original items by id, for what the
// universal item lacks.
func jsonItems(f *gofeed.Feed) (map[string]*jsonfeed.Item, *jsonfeed.Feed) {
	jf, ok := f.OriginalFeed().(*jsonfeed.Feed)
	if !ok || jf == nil {
		return nil, nil
	}
	items := make(map[string]*jsonfeed.Item, len(jf.Items))
	for _, it := range jf.Items {
		if it != nil && it.ID != "" {
			items[it.ID] = it
		}
	}
	return items, jf
}

// mediaContent is one Media RSS <media:content> (or a lone <media:thumbnail>),
// with what its children say about it.
type mediaContent struct {
	URL       string
	Type      string // MIME type
	Medium    string // image, audio, video, document, executable
	Width     int
	Height    int
	Thumbnail string // <media:thumbnail url>
	Alt       string // <media:description> or <media:title>
}

// mediaRSS reads an item's Media RSS elements: <media:content> at item
// level and inside <media:group>, and <media:thumbnail>, the group's or the
// item's. adult is true when a <media:rating> says "adult" (simple scheme)
// or an explicit rating.
func mediaRSS(exts ext.Extensions) (contents []mediaContent, adult bool) {
	m, ok := exts["media"]
	if !ok {
		return nil, false
	}
	itemAlt := firstValue(m["description"], m["title"])
	itemThumb := firstThumb(m["thumbnail"])
	adult = isAdult(m["rating"])
	add := func(list []ext.Extension, alt, thumb string) {
		for _, c := range list {
			mc := mediaContent{
				URL:       strings.TrimSpace(c.Attrs["url"]),
				Type:      strings.ToLower(strings.TrimSpace(c.Attrs["type"])),
				Medium:    strings.ToLower(strings.TrimSpace(c.Attrs["medium"])),
				Width:     atoi(c.Attrs["width"]),
				Height:    atoi(c.Attrs["height"]),
				Thumbnail: firstThumb(c.Children["thumbnail"]),
				Alt:       firstValue(c.Children["description"], c.Children["title"]),
			}
			if mc.Thumbnail == "" {
				mc.Thumbnail = thumb
			}
			if mc.Alt == "" {
				mc.Alt = alt
			}
			if isAdult(c.Children["rating"]) {
				adult = true
			}
			contents = append(contents, mc)
		}
	}
	add(m["content"], itemAlt, itemThumb)
	for _, g := range m["group"] {
		alt := firstValue(g.Children["description"], g.Children["title"])
		if alt == "" {
			alt = itemAlt
		}
		thumb := firstThumb(g.Children["thumbnail"])
		if thumb == "" {
			thumb = itemThumb
		}
		if isAdult(g.Children["rating"]) {
			adult = true
		}
		add(g.Children["content"], alt, thumb)
		if len(g.Children["content"]) == 0 {
			contents = append(contents, thumbnails(g.Children["thumbnail"], alt)...)
		}
	}
	if len(contents) == 0 {
		contents = thumbnails(m["thumbnail"], itemAlt)
	}
	return contents, adult
}

// thumbnails reads lone <media:thumbnail> elements as images; the first is
// the largest by the spec's convention of listing the most important first.
func thumbnails(list []ext.Extension, alt string) []mediaContent {
	if len(list) == 0 {
		return nil
	}
	t := list[0]
	return []mediaContent{{URL: strings.TrimSpace(t.Attrs["url"]), Medium: "image", Width: atoi(t.Attrs["width"]), Height: atoi(t.Attrs["height"]), Alt: alt}}
}

func firstThumb(list []ext.Extension) string {
	for _, t := range list {
		if u := strings.TrimSpace(t.Attrs["url"]); u != "" {
			return u
		}
	}
	return ""
}

func firstValue(lists ...[]ext.Extension) string {
	for _, l := range lists {
		for _, e := range l {
			if v := strings.TrimSpace(e.Value); v != "" {
				return v
			}
		}
	}
	return ""
}

func isAdult(list []ext.Extension) bool {
	for _, r := range list {
		v := strings.ToLower(strings.TrimSpace(r.Value))
		if v == "adult" || v == "x" || v == "r18" || v == "explicit" {
			return true
		}
	}
	return false
}

func atoi(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0
	}
	return n
}
