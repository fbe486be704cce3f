package syndicate

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/net/html"

	"github.com/chorus-wall/chorus/post"
)

//go:embed cards.html
var cardsSource string

// cardsTemplate escapes everything it is given (html/template): post text,
// names and alt text are text, and a URL other than http(s) never reaches
// an attribute.
var cardsTemplate = template.Must(template.New("cards").Parse(cardsSource))

// darkCSS restyles the cards for readers in dark mode, in the clients that
// honour it; the others use the inline light styles.
const darkCSS = `@media (prefers-color-scheme: dark) {
.chorus-page { background-color: #111418 !important; }
.chorus-card { background-color: #1b1f24 !important; border-color: #2d333b !important; }
.chorus-text { color: #e9edf1 !important; }
.chorus-muted { color: #9aa4b0 !important; }
.chorus-link { color: #7fb0ff !important; }
}`

// card is one post as the template shows it.
type card struct {
	Name, Handle, Network, Time, ISOTime string
	Text, Warning                        string
	Avatar, Image, ImageAlt, Link        string
}

type cardsPage struct {
	Title   string
	Heading string
	DarkCSS template.CSS
	Cards   []card
}

// maxCardText is how much of a post's text a card shows.
const maxCardText = 1000

func (h *Handlers) card(p post.Post) card {
	c := card{
		Name:    p.Author.Name,
		Handle:  handle(p.Author.Handle),
		Network: networkName(p.Network),
		Time:    p.CreatedAt.UTC().Format("2 Jan 2006 15:04 UTC"),
		ISOTime: p.CreatedAt.UTC().Format(time.RFC3339),
		Text:    cut(p.Text, maxCardText),
		Avatar:  h.link(p.Author.AvatarURL),
		Link:    h.link(p.URL),
	}
	if c.Name == "" {
		c.Name = c.Handle
	}
	// A sensitive post shows its warning, not its text or pictures: an
	// email cannot blur them.
	if p.Sensitive || p.ContentWarning != "" {
		c.Warning = p.ContentWarning
		if c.Warning == "" {
			c.Warning = "sensitive content"
		}
	}
	for _, m := range p.Media {
		src := m.URL
		if m.Kind != post.MediaImage || src == "" {
			src = m.PreviewURL
		}
		if src = h.link(src); src != "" {
			c.Image, c.ImageAlt = src, m.Alt
			break
		}
	}
	return c
}

// Cards answers GET /api/v1/streams/:id/cards.html?limit=N with the latest
// approved posts as email-safe HTML: nested tables, inline styles, absolute
// proxied images, dir="auto" on every text. ?fragment=true leaves out the
// document around the cards, to paste into a newsletter or a <noscript>.
func (h *Handlers) Cards(c echo.Context) error {
	stream, posts, err := h.latest(c, c.Param("id"))
	if err != nil {
		return err
	}
	page := cardsPage{Title: stream.Title, Heading: stream.Title, DarkCSS: template.CSS(darkCSS)}
	for _, p := range posts {
		page.Cards = append(page.Cards, h.card(p))
	}
	name := "page"
	switch c.QueryParam("fragment") {
	case "", "false", "0":
	case "true", "1":
		name = "cards"
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "fragment must be true or false")
	}
	var b bytes.Buffer
	if err := cardsTemplate.ExecuteTemplate(&b, name, page); err != nil {
		return err
	}
	hd := c.Response().Header()
	hd.Set("Content-Security-Policy", cardsCSP(h.origin()))
	hd.Set("Cache-Control", "public, max-age=60")
	hd.Set("X-Content-Type-Options", "nosniff")
	return c.HTMLBlob(http.StatusOK, b.Bytes())
}

// styleHashes are the CSP hashes of every inline style the cards can
// carry: each style attribute of the template (all literal, none built from
// data) and the dark-mode style element.
var styleHashes = func() string {
	hashes := map[string]bool{}
	add := func(s string) {
		sum := sha256.Sum256([]byte(s))
		hashes["'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'"] = true
	}
	add(darkCSS)
	z := html.NewTokenizer(strings.NewReader(cardsSource))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		if tt == html.StartTagToken || tt == html.SelfClosingTagToken {
			for _, a := range z.Token().Attr {
				if a.Key == "style" {
					if strings.Contains(a.Val, "{{") {
						panic("syndicate: a style attribute of cards.html is built from data")
					}
					add(a.Val)
				}
			}
		}
	}
	list := make([]string, 0, len(hashes))
	for h := range hashes {
		list = append(list, h)
	}
	slices.Sort(list)
	return strings.Join(list, " ")
}()

// cardsCSP allows the document no script at all, images from Chorus only
// (every image is a proxied Chorus URL), and exactly the styles the
// template carries, by hash: no 'unsafe-inline'.
func cardsCSP(origin string) string {
	return "default-src 'none'; img-src 'self' " + origin + "; style-src 'unsafe-hashes' " + styleHashes +
		"; base-uri 'none'; form-action 'none'"
}
