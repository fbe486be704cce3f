package rss

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

// rendered is a piece of HTML turned into plain text: the text, the links
// found in it (spans in code points into text) and the images it shows.
type rendered struct {
	text   string
	links  []post.Link
	images []post.Media
}

// maxHTMLNodes bounds the elements one item's HTML may make us visit, so
// a hostile feed cannot make a single item arbitrarily expensive.
const maxHTMLNodes = 20000

// htmlToText renders an HTML fragment as plain text with golang.org/x/net/html:
// entities decoded, whitespace collapsed as a browser would, paragraphs and
// headings separated by a blank line, line breaks and list items on their own
// lines, script and style dropped, no markup left. Relative link and image
// URLs are resolved against base.
func htmlToText(fragment string, base *url.URL) rendered {
	nodes, err := html.ParseFragment(strings.NewReader(fragment), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		// x/net/html only fails on reader errors; a strings.Reader has none.
		return rendered{text: strings.TrimSpace(fragment)}
	}
	w := &textWriter{base: base}
	for _, n := range nodes {
		w.walk(n, 0)
	}
	return rendered{text: w.b.String(), links: w.links, images: w.images}
}

// textWriter collects text with whitespace collapsed on the fly: runs of
// spaces become one space, breaks are held back until the next visible
// character, so the result needs no trimming and link spans stay exact.
type textWriter struct {
	b      strings.Builder
	runes  int
	space  bool // a space is owed before the next character
	breaks int  // newlines owed before the next character (0, 1 or 2)
	pre    int  // depth of <pre> elements: keep whitespace
	nodes  int
	base   *url.URL
	links  []post.Link
	images []post.Media
	// open is the index in links of each <a> being written, or -1.
	open []int
}

func (w *textWriter) walk(n *html.Node, depth int) {
	w.nodes++
	if w.nodes > maxHTMLNodes || depth > 200 {
		return
	}
	switch n.Type {
	case html.TextNode:
		w.write(n.Data)
		return
	case html.ElementNode:
	case html.DocumentNode:
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			w.walk(c, depth+1)
		}
		return
	default: // comments, doctypes
		return
	}
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Head, atom.Title,
		atom.Iframe, atom.Object, atom.Embed, atom.Svg, atom.Math, atom.Button, atom.Select, atom.Input, atom.Textarea:
		return
	case atom.Br:
		w.lineBreak(1)
		return
	case atom.Hr:
		w.lineBreak(2)
		return
	case atom.Img:
		w.image(n)
		return
	}
	before, after := blockBreaks(n.DataAtom)
	w.lineBreak(before)
	if n.DataAtom == atom.Li {
		w.literal("• ")
	}
	if n.DataAtom == atom.Pre {
		w.pre++
	}
	link := -1
	if n.DataAtom == atom.A {
		link = w.openLink(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c, depth+1)
	}
	if link >= 0 {
		w.closeLink(link)
	}
	if n.DataAtom == atom.Pre {
		w.pre--
	}
	if n.DataAtom == atom.Td || n.DataAtom == atom.Th {
		w.space = true
	}
	w.lineBreak(after)
}

// blockBreaks is how many newlines an element needs before and after it.
func blockBreaks(a atom.Atom) (before, after int) {
	switch a {
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Blockquote, atom.Pre,
		atom.Ul, atom.Ol, atom.Dl, atom.Table, atom.Figure, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Aside, atom.Main, atom.Nav:
		return 2, 2
	case atom.Div, atom.Li, atom.Tr, atom.Dt, atom.Dd, atom.Figcaption, atom.Caption, atom.Address, atom.Details, atom.Summary:
		return 1, 1
	}
	return 0, 0
}

func (w *textWriter) lineBreak(n int) {
	if n == 0 {
		return
	}
	w.breaks = max(w.breaks, n)
	w.space = false
}

// write adds text from the document, collapsing whitespace outside <pre>.
func (w *textWriter) write(s string) {
	for _, r := range s {
		if w.pre > 0 && r == '\r' {
			continue
		}
		if w.pre > 0 && r == '\n' {
			w.lineBreak(1)
			w.flushBreaks()
			continue
		}
		if unicode.IsSpace(r) && r != '\u00a0' {
			if w.pre > 0 {
				w.put(r)
				continue
			}
			if w.runes > 0 && w.breaks == 0 {
				w.space = true
			}
			continue
		}
		w.put(r)
	}
}

// literal adds text of our own (a list bullet) as it is.
func (w *textWriter) literal(s string) {
	for _, r := range s {
		w.put(r)
	}
}

func (w *textWriter) flushBreaks() {
	if w.runes == 0 {
		w.breaks, w.space = 0, false
		return
	}
	if w.breaks > 0 {
		for range w.breaks {
			w.b.WriteByte('\n')
			w.runes++
		}
		w.breaks, w.space = 0, false
	}
}

// put writes one visible rune, first paying the owed breaks or space.
// Characters post.Normalize would remove (controls, bidirectional
// overrides) are dropped here, so link spans stay exact.
func (w *textWriter) put(r rune) {
	if post.Dropped(r) {
		return
	}
	w.flushBreaks()
	if w.space {
		w.b.WriteByte(' ')
		w.runes++
		w.space = false
	}
	for _, i := range w.open {
		if i >= 0 && w.links[i].Start < 0 {
			w.links[i].Start = w.runes
		}
	}
	w.b.WriteRune(r)
	w.runes++
}

func (w *textWriter) openLink(n *html.Node) int {
	href := w.resolve(attr(n, "href"))
	if href == "" {
		w.open = append(w.open, -1)
		return len(w.open) - 1
	}
	w.links = append(w.links, post.Link{URL: href, Start: -1})
	w.open = append(w.open, len(w.links)-1)
	return len(w.open) - 1
}

func (w *textWriter) closeLink(slot int) {
	i := w.open[slot]
	w.open = w.open[:slot]
	if i < 0 {
		return
	}
	if w.links[i].Start < 0 {
		// Nothing visible inside (an image link): keep the link, no span.
		w.links[i].Start, w.links[i].End = 0, 0
		return
	}
	w.links[i].End = w.runes
}

func (w *textWriter) image(n *html.Node) {
	src := w.resolve(attr(n, "src"))
	if src == "" {
		return
	}
	width, _ := strconv.Atoi(attr(n, "width"))
	height, _ := strconv.Atoi(attr(n, "height"))
	if (width > 0 && width <= 2) || (height > 0 && height <= 2) {
		return // a tracking pixel, not a picture
	}
	w.images = append(w.images, post.Media{Kind: post.MediaImage, URL: src, Width: width, Height: height, Alt: strings.TrimSpace(attr(n, "alt"))})
}

// resolve makes ref absolute against the writer's base and keeps only
// http(s) URLs.
func (w *textWriter) resolve(ref string) string {
	return resolveURL(w.base, ref)
}

func resolveURL(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" || strings.HasPrefix(ref, "#") {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}

// cut shortens text to at most limit code points, at a word boundary when
// one is near, and ends it with "…". Links whose span no longer fits lose
// their span but stay.
func cut(text string, links []post.Link, limit int) (string, []post.Link) {
	n := utf8.RuneCountInString(text)
	if n <= limit || limit < 2 {
		return text, links
	}
	// Byte offset of the limit-1'th rune: room for the ellipsis.
	keep := limit - 1
	end := len(text)
	i := 0
	for off := range text {
		if i == keep {
			end = off
			break
		}
		i++
	}
	head := text[:end]
	if sp := strings.LastIndexFunc(head, unicode.IsSpace); sp > 0 && utf8.RuneCountInString(head[:sp]) > keep*4/5 {
		head = head[:sp]
	}
	head = strings.TrimRightFunc(head, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) && r != ')' && r != '"' })
	kept := utf8.RuneCountInString(head)
	out := make([]post.Link, 0, len(links))
	for _, l := range links {
		if l.End > kept {
			l.Start, l.End = 0, 0
		}
		out = append(out, l)
	}
	return head + "…", out
}
