package reddit

import (
	"html"
	"strings"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"github.com/chorus-wall/chorus/post"
)

// md parses Reddit's markdown flavour closely enough for plain text:
// CommonMark with strikethrough, tables and bare URLs turned into links.
var md = goldmark.New(goldmark.WithExtensions(extension.Strikethrough, extension.Table, extension.Linkify))

// maxMarkdownBytes bounds what one post makes the parser read; Reddit caps
// self text at 40,000 characters.
const maxMarkdownBytes = 64 << 10

// markdownToText renders a post's self text as plain text with the links it
// holds (spans in code points into the text). Reddit sends the markdown
// HTML-escaped ("&amp;", "&gt;" for a quote), so it is unescaped once
// first; entities the author typed are then resolved as markdown does.
// Paragraphs, headings, quotes and code blocks are separated by a blank
// line, list items start with "• ", raw HTML stays as the text it is.
func markdownToText(src string) (string, []post.Link) {
	src = html.UnescapeString(src)
	if len(src) > maxMarkdownBytes {
		src = src[:maxMarkdownBytes]
	}
	source := []byte(src)
	doc := md.Parser().Parse(text.NewReader(source))
	w := &mdWriter{source: source}
	_ = ast.Walk(doc, w.visit)
	return w.b.String(), w.links
}

type mdWriter struct {
	source []byte
	b      strings.Builder
	runes  int
	breaks int
	space  bool
	bullet bool // a list item began: "• " goes before its first text
	// verbatim keeps spaces as they are (code blocks).
	verbatim bool
	links    []post.Link
	starts   []int // rune offset where each open link began
	nodes    int
}

func (w *mdWriter) visit(n ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		w.nodes++
		if w.nodes > 50000 {
			return ast.WalkStop, nil
		}
	}
	switch n := n.(type) {
	case *ast.Document:
	case *ast.List:
		if _, nested := n.Parent().(*ast.ListItem); nested {
			w.block(1)
		} else {
			w.block(2)
		}
	case *ast.Paragraph, *ast.Heading, *ast.Blockquote, *ast.ThematicBreak, *extast.Table:
		w.block(2)
	case *ast.TextBlock:
		w.block(1)
	case *ast.ListItem:
		w.block(1)
		w.bullet = entering
	case *extast.TableRow, *extast.TableHeader:
		w.block(1)
	case *extast.TableCell:
		if !entering && n.NextSibling() != nil {
			w.write(" ")
		}
	case *ast.FencedCodeBlock, *ast.CodeBlock, *ast.HTMLBlock:
		w.block(2)
		if entering {
			w.lines(n.Lines())
			if hb, ok := n.(*ast.HTMLBlock); ok && hb.HasClosure() {
				w.newline()
				closure := hb.ClosureLine
				w.write(string(closure.Value(w.source)))
			}
			return ast.WalkSkipChildren, nil
		}
	case *ast.Text:
		if entering {
			w.write(resolve(n.Segment.Value(w.source)))
			switch {
			case n.HardLineBreak():
				w.newline()
			case n.SoftLineBreak():
				w.write(" ")
			}
		}
	case *ast.String:
		if entering {
			w.write(resolve(n.Value))
		}
	case *ast.CodeSpan:
		if entering {
			for c := n.FirstChild(); c != nil; c = c.NextSibling() {
				if t, ok := c.(*ast.Text); ok {
					w.write(string(t.Segment.Value(w.source)))
				}
			}
			return ast.WalkSkipChildren, nil
		}
	case *ast.RawHTML:
		if entering {
			for i := 0; i < n.Segments.Len(); i++ {
				seg := n.Segments.At(i)
				w.write(string(seg.Value(w.source)))
			}
			return ast.WalkSkipChildren, nil
		}
	case *ast.Link:
		w.link(entering, string(resolve(n.Destination)))
	case *ast.AutoLink:
		if entering {
			w.link(true, string(n.URL(w.source)))
			w.write(string(n.Label(w.source)))
			w.link(false, "")
			return ast.WalkSkipChildren, nil
		}
	case *ast.Image:
		// Reddit renders no inline images in self text; keep the alt text.
	}
	return ast.WalkContinue, nil
}

// resolve undoes markdown's escapes: backslash escapes, numeric and named
// entity references.
func resolve(b []byte) string {
	b = util.UnescapePunctuations(b)
	b = util.ResolveNumericReferences(b)
	b = util.ResolveEntityNames(b)
	return string(b)
}

func (w *mdWriter) lines(segs *text.Segments) {
	w.verbatim = true
	defer func() { w.verbatim = false }()
	for i := 0; i < segs.Len(); i++ {
		seg := segs.At(i)
		line := strings.TrimRight(string(seg.Value(w.source)), "\r\n")
		if i > 0 {
			w.newline()
		}
		w.write(line)
	}
}

func (w *mdWriter) link(entering bool, dest string) {
	if entering {
		w.starts = append(w.starts, -1)
		w.links = append(w.links, post.Link{URL: dest, Start: -1})
		return
	}
	if len(w.starts) == 0 {
		return
	}
	// The innermost open link is the last one appended with Start -1 or
	// a span still open; links do not nest in markdown, so it is the last.
	w.starts = w.starts[:len(w.starts)-1]
	l := &w.links[len(w.links)-1]
	if l.Start < 0 {
		l.Start, l.End = 0, 0
		return
	}
	l.End = w.runes
}

// block asks for n line breaks before whatever comes next.
func (w *mdWriter) block(n int) {
	if w.bullet {
		return // the item's own paragraph starts on the bullet's line
	}
	w.breaks = max(w.breaks, n)
	w.space = false
}

func (w *mdWriter) newline() {
	w.breaks = max(w.breaks, 1)
	w.space = false
}

// write adds visible text, paying owed breaks first. Spaces are written
// lazily, so runs collapse and none ends a line; characters post.Normalize
// would remove are dropped so link spans stay exact.
func (w *mdWriter) write(s string) {
	for _, r := range s {
		if r == '\r' || r == '\n' {
			w.newline()
			continue
		}
		if dropped(r) {
			continue
		}
		if unicode.IsSpace(r) && r != '\u00a0' && (!w.verbatim || w.runes == 0) {
			w.space = w.runes > 0
			continue
		}
		if w.breaks > 0 {
			if w.runes > 0 {
				w.b.WriteString(strings.Repeat("\n", w.breaks))
				w.runes += w.breaks
			}
			w.breaks, w.space = 0, false
		}
		if w.bullet {
			w.b.WriteString("• ")
			w.runes += 2
			w.bullet, w.space = false, false
		}
		if w.space {
			w.b.WriteByte(' ')
			w.runes++
			w.space = false
		}
		if len(w.starts) > 0 && w.links[len(w.links)-1].Start < 0 {
			w.links[len(w.links)-1].Start = w.runes
		}
		w.b.WriteRune(r)
		w.runes++
	}
}

// dropped reports the characters the writer leaves out: those
// post.Normalize removes from text (post.Dropped), and zero-width spaces,
// Reddit's "&#x200B;" spacer paragraphs.
func dropped(r rune) bool {
	return r == 0x200B || post.Dropped(r)
}

// plain unescapes a one-line field Reddit HTML-escapes (titles) and drops
// what post.Normalize would.
func plain(s string) string {
	s = html.UnescapeString(s)
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if dropped(r) {
			return -1
		}
		return r
	}, s))
}
