package mastodon

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/chorus-wall/chorus/post"
)

// richText is a status's content as plain text with its entities, as
// Mastodon's web UI shows it.
type richText struct {
	Text     string
	Hashtags []string
	// Mentions are the accounts mentioned, as the hrefs of their links
	// (resolved to accts by the caller) or as the text shown.
	Mentions []mentionRef
	Links    []post.Link
}

type mentionRef struct {
	href string
	text string
}

// maxHTMLNodes bounds the work spent on one status's content.
const maxHTMLNodes = 20000

// parseContent turns a status's HTML content into text and entities with
// golang.org/x/net/html: paragraphs become blank lines and <br> a newline;
// mention and hashtag links become their @handle and #tag text; links show
// what the web UI shows (the "invisible" parts dropped, "ellipsis" parts
// ending in "…") and carry spans in code points into Text; entities are
// decoded and custom emoji stay as their :shortcode: text. Characters that
// post.Normalize would strip (controls, bidi overrides) are dropped here,
// so the spans stay true after normalizing.
func parseContent(content string) richText {
	ctx := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := html.ParseFragment(strings.NewReader(content), ctx)
	w := &textWriter{}
	if err != nil {
		// The parser only fails on reader errors; treat the content as text.
		w.write(content)
		return w.result()
	}
	for _, n := range nodes {
		w.walk(n, 0)
	}
	return w.result()
}

type textWriter struct {
	b      strings.Builder
	runes  int
	breaks int // newlines owed before the next text
	nodes  int
	out    richText
	lists  []int // item counters of open <ol> (-1 for <ul>)
}

func (w *textWriter) result() richText {
	text := w.b.String()
	trimmed := strings.TrimLeftFunc(text, unicode.IsSpace)
	lead := utf8.RuneCountInString(text[:len(text)-len(trimmed)])
	trimmed = strings.TrimRightFunc(trimmed, unicode.IsSpace)
	n := utf8.RuneCountInString(trimmed)
	w.out.Text = trimmed
	for i := range w.out.Links {
		l := &w.out.Links[i]
		l.Start = min(max(l.Start-lead, 0), n)
		l.End = min(max(l.End-lead, 0), n)
	}
	return w.out
}

// block asks for n newlines before the next text (none at the start).
func (w *textWriter) block(n int) {
	if w.runes > 0 {
		w.breaks = max(w.breaks, n)
	}
}

// flush writes the newlines owed before the next text.
func (w *textWriter) flush() {
	if w.breaks == 0 {
		return
	}
	cur := w.b.String()
	have := 0
	for have < len(cur) && cur[len(cur)-1-have] == '\n' {
		have++
	}
	for ; have < w.breaks; have++ {
		w.b.WriteByte('\n')
		w.runes++
	}
	w.breaks = 0
}

func (w *textWriter) write(s string) {
	if s == "" {
		return
	}
	w.flush()
	for _, r := range s {
		if post.Dropped(r) {
			continue
		}
		w.b.WriteRune(r)
		w.runes++
	}
}

func (w *textWriter) walk(n *html.Node, depth int) {
	w.nodes++
	if w.nodes > maxHTMLNodes || depth > 100 {
		return
	}
	switch n.Type {
	case html.TextNode:
		w.write(n.Data)
		return
	case html.ElementNode:
	case html.DocumentNode:
		w.children(n, depth)
		return
	default:
		return
	}
	classes := attr(n, "class")
	switch n.DataAtom {
	case atom.Br:
		w.flush()
		w.b.WriteByte('\n')
		w.runes++
		return
	case atom.Script, atom.Style, atom.Template, atom.Head, atom.Title:
		return
	case atom.Img:
		// Mastodon keeps custom emoji as :shortcode: text; an <img> from a
		// remote server shows its alt text, as a screen reader would.
		w.write(attr(n, "alt"))
		return
	case atom.P, atom.Div, atom.Blockquote, atom.Pre, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		// Mastodon 4.4 adds a "RE: <link>" paragraph for servers that
		// cannot show quotes; its web UI hides it, and so do we (the quote
		// is kept as a link).
		if hasClass(classes, "quote-inline") {
			return
		}
		w.block(2)
		w.children(n, depth)
		w.block(2)
		return
	case atom.Ul, atom.Ol:
		w.block(2)
		counter := -1
		if n.DataAtom == atom.Ol {
			counter = 0
		}
		w.lists = append(w.lists, counter)
		w.children(n, depth)
		w.lists = w.lists[:len(w.lists)-1]
		w.block(2)
		return
	case atom.Li:
		w.block(1)
		bullet := "• "
		if k := len(w.lists); k > 0 && w.lists[k-1] >= 0 {
			w.lists[k-1]++
			bullet = strconv.Itoa(w.lists[k-1]) + ". "
		}
		w.write(bullet)
		w.children(n, depth)
		w.block(1)
		return
	case atom.Span:
		if hasClass(classes, "invisible") {
			return
		}
		w.children(n, depth)
		if hasClass(classes, "ellipsis") {
			w.write("…")
		}
		return
	case atom.A:
		w.anchor(n, classes, depth)
		return
	}
	w.children(n, depth)
}

func (w *textWriter) children(n *html.Node, depth int) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c, depth+1)
	}
}

func (w *textWriter) anchor(n *html.Node, classes string, depth int) {
	href := strings.TrimSpace(attr(n, "href"))
	w.flush()
	start, before := w.runes, w.b.Len()
	w.children(n, depth)
	shown := w.b.String()[before:]
	if strings.TrimSpace(shown) == "" {
		return
	}
	switch {
	case hasClass(classes, "hashtag") || attrHas(n, "rel", "tag"):
		if tag := strings.TrimPrefix(shown, "#"); tag != shown {
			w.out.Hashtags = append(w.out.Hashtags, tag)
		} else if tag := tagFromURL(href); tag != "" {
			w.out.Hashtags = append(w.out.Hashtags, tag)
		}
	case hasClass(classes, "mention") && strings.HasPrefix(shown, "@"):
		w.out.Mentions = append(w.out.Mentions, mentionRef{href: href, text: strings.TrimPrefix(shown, "@")})
	default:
		if post.SafeURL(href) == "" {
			return
		}
		w.out.Links = append(w.out.Links, post.Link{URL: href, Start: start, End: w.runes})
	}
}

// tagFromURL reads the tag out of a hashtag link (https://host/tags/name).
func tagFromURL(href string) string {
	u, err := url.Parse(href)
	if err != nil {
		return ""
	}
	i := strings.LastIndex(u.Path, "/")
	if i < 0 {
		return ""
	}
	return u.Path[i+1:]
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

func attrHas(n *html.Node, key, word string) bool {
	return hasClass(attr(n, key), word)
}

// hasClass reports whether the space-separated list holds word.
func hasClass(list, word string) bool {
	for _, c := range strings.Fields(list) {
		if c == word {
			return true
		}
	}
	return false
}
