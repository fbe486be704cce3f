// Package profile keeps display profiles: named looks of a curated stream
// (layout, colours, font, logo, header, which card fields show, how many
// posts, pace, replay, language preference) that widgets, walls and the
// iframe embed apply. Profiles live in the chorus_config bucket, so every
// node serves the same ones and a change is seen at the next read.
package profile

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

// DefaultName is the profile a stream's screens use when they name none.
const DefaultName = "default"

// Layouts a profile may choose.
var Layouts = []string{"masonry", "grid", "carousel", "ticker", "spotlight", "list"}

// Themes a profile may choose: "auto" follows the viewer's light or dark
// preference.
var Themes = []string{"auto", "light", "dark"}

// Fonts are the font choices, each a stack of fonts already on visitors'
// devices (nothing is downloaded). A profile names one; CSS never comes
// from the profile itself.
var Fonts = map[string]string{
	"system":   `system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif`,
	"sans":     `"Helvetica Neue", Helvetica, Arial, "Noto Sans", "Liberation Sans", sans-serif`,
	"serif":    `Charter, "Bitstream Charter", "Sitka Text", Cambria, Georgia, "Noto Serif", serif`,
	"rounded":  `ui-rounded, "SF Pro Rounded", "Hiragino Maru Gothic ProN", Quicksand, Comfortaa, Manjari, "Arial Rounded MT", "Arial Rounded MT Bold", Calibri, source-sans-pro, sans-serif`,
	"humanist": `Seravek, "Gill Sans Nova", Ubuntu, Calibri, "DejaVu Sans", source-sans-pro, sans-serif`,
	"mono":     `ui-monospace, "Cascadia Code", "Source Code Pro", Menlo, Consolas, "DejaVu Sans Mono", monospace`,
}

// Profile is one named look. The zero value is not a valid profile: start
// from Default.
type Profile struct {
	// Layout is one of Layouts.
	Layout string `json:"layout"`
	// Theme is one of Themes.
	Theme string `json:"theme"`
	// Colors override the theme's colours; each is a CSS colour or empty.
	Colors Colors `json:"colors"`
	// Font names one of Fonts.
	Font string `json:"font"`
	// Logo is an image URL (https, or a path on Chorus) shown in the header;
	// pages load it through the media proxy.
	Logo string `json:"logo"`
	// Header is plain text shown above the posts.
	Header string `json:"header"`
	// ShowMark shows the small "Chorus" mark.
	ShowMark bool `json:"show_mark"`
	// Fields says which parts of a card show.
	Fields Fields `json:"fields"`
	// Posts is how many posts a screen shows at once.
	Posts int `json:"posts"`
	// MaxAge hides posts older than this (0: no limit).
	MaxAge config.Duration `json:"max_age"`
	// Pace is the calm cadence at which new posts appear (one per Pace).
	Pace config.Duration `json:"pace"`
	// Replay shows approved posts again when the stream is quiet.
	Replay bool `json:"replay"`
	// Language is the preferred language of posts (BCP 47, e.g. "en",
	// "pt-BR"): its posts come first when the stream has them.
	Language string `json:"language"`
	// PreferVisitorLanguage puts posts in the visitor's browser language
	// first; computed in the browser, sent nowhere.
	PreferVisitorLanguage bool `json:"prefer_visitor_language"`
}

// Colors are a profile's colour overrides.
type Colors struct {
	Background string `json:"background"`
	Card       string `json:"card"`
	Text       string `json:"text"`
	Muted      string `json:"muted"`
	Accent     string `json:"accent"`
	Border     string `json:"border"`
}

// Fields say which parts of a card show.
type Fields struct {
	Avatar  bool `json:"avatar"`
	Handle  bool `json:"handle"`
	Network bool `json:"network"`
	Time    bool `json:"time"`
	Media   bool `json:"media"`
	Counts  bool `json:"counts"`
}

// Default is the built-in look: a stream's default profile until one is
// stored, and the value every key left out of a PUT takes.
func Default() Profile {
	return Profile{
		Layout: "masonry", Theme: "auto", Font: "system", ShowMark: true,
		Fields: Fields{Avatar: true, Handle: true, Network: true, Time: true, Media: true, Counts: false},
		Posts:  20, Pace: config.Duration(4 * time.Second), Replay: true,
	}
}

// Limits on a profile's values.
const (
	MaxHeaderRunes = 120
	MaxPosts       = 500
	MinPace        = time.Second
	MaxPace        = 10 * time.Minute
	MaxMaxAge      = 365 * 24 * time.Hour
)

// ValidName reports whether name can name a profile: 1 to 64 of a-z, 0-9,
// '-' and '_'.
func ValidName(name string) bool { return post.IsToken(name) }

// Validate checks every value, normalizes colours and the language, and
// returns every problem, each naming its key.
func (p *Profile) Validate() error {
	var errs []string
	bad := func(key, format string, args ...any) {
		errs = append(errs, key+": "+fmt.Sprintf(format, args...))
	}
	if !slices.Contains(Layouts, p.Layout) {
		bad("layout", "%q must be one of %s", p.Layout, strings.Join(Layouts, ", "))
	}
	if !slices.Contains(Themes, p.Theme) {
		bad("theme", "%q must be one of %s", p.Theme, strings.Join(Themes, ", "))
	}
	for _, c := range []struct {
		key string
		v   *string
	}{
		{"background", &p.Colors.Background}, {"card", &p.Colors.Card}, {"text", &p.Colors.Text},
		{"muted", &p.Colors.Muted}, {"accent", &p.Colors.Accent}, {"border", &p.Colors.Border},
	} {
		norm, ok := CSSColor(*c.v)
		if !ok {
			bad("colors."+c.key, "%q is not a CSS colour (#rgb, #rrggbb, #rrggbbaa, rgb(), hsl() or a colour name)", *c.v)
		}
		*c.v = norm
	}
	if _, ok := Fonts[p.Font]; !ok {
		names := make([]string, 0, len(Fonts))
		for n := range Fonts {
			names = append(names, n)
		}
		slices.Sort(names)
		bad("font", "%q must be one of %s", p.Font, strings.Join(names, ", "))
	}
	if p.Logo != "" {
		safe := post.SafeURL(p.Logo)
		if safe == "" || strings.HasPrefix(strings.ToLower(safe), "http:") {
			bad("logo", "must be an https URL or a path on this server")
		}
	}
	p.Header = strings.TrimSpace(post.CleanText(p.Header))
	if strings.ContainsAny(p.Header, "\n\t") {
		bad("header", "must be one line")
	}
	if n := utf8.RuneCountInString(p.Header); n > MaxHeaderRunes {
		bad("header", "is %d characters; at most %d", n, MaxHeaderRunes)
	}
	if p.Posts < 1 || p.Posts > MaxPosts {
		bad("posts", "%d must be from 1 to %d", p.Posts, MaxPosts)
	}
	if p.MaxAge < 0 || p.MaxAge.D() > MaxMaxAge {
		bad("max_age", "%s must be from 0 (no limit) to %s", p.MaxAge, MaxMaxAge)
	}
	if p.Pace.D() < MinPace || p.Pace.D() > MaxPace {
		bad("pace", "%s must be from %s to %s", p.Pace, MinPace, MaxPace)
	}
	if p.Language != "" {
		tag, err := language.Parse(p.Language)
		if err != nil || len(p.Language) > 35 {
			bad("language", "%q is not a language tag like en or pt-BR", p.Language)
		} else {
			p.Language = tag.String()
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

var (
	hexColor = regexp.MustCompile(`^#([0-9a-f]{3}|[0-9a-f]{4}|[0-9a-f]{6}|[0-9a-f]{8})$`)
	num      = `(\d{1,3}(\.\d+)?%?)`
	alpha    = `(0|1|0?\.\d+|\d{1,3}%)`
	rgbColor = regexp.MustCompile(`^rgba?\(\s*` + num + `\s*(,\s*|\s+)` + num + `\s*(,\s*|\s+)` + num + `\s*((,|/)\s*` + alpha + `\s*)?\)$`)
	hslColor = regexp.MustCompile(`^hsla?\(\s*(\d{1,3}(\.\d+)?)(deg)?\s*(,\s*|\s+)` + num + `\s*(,\s*|\s+)` + num + `\s*((,|/)\s*` + alpha + `\s*)?\)$`)
	numbers  = regexp.MustCompile(`\d+(\.\d+)?%?`)
)

// CSSColor returns c lowercased when it is a CSS colour that needs no other
// CSS to mean something: hex, rgb()/rgba(), hsl()/hsla() with numbers in
// range, or a named colour. "" is valid (no override). Anything else (var(),
// url(), expressions, several values) is refused.
func CSSColor(c string) (string, bool) {
	c = strings.ToLower(strings.TrimSpace(c))
	switch {
	case c == "":
		return "", true
	case hexColor.MatchString(c), namedColors[c]:
		return c, true
	case rgbColor.MatchString(c):
		for _, n := range numbers.FindAllString(c, 3) {
			v, _ := strconv.ParseFloat(strings.TrimSuffix(n, "%"), 64)
			if strings.HasSuffix(n, "%") && v > 100 || v > 255 {
				return "", false
			}
		}
		return c, true
	case hslColor.MatchString(c):
		for i, n := range numbers.FindAllString(c, 3) {
			v, _ := strconv.ParseFloat(strings.TrimSuffix(n, "%"), 64)
			if i == 0 && v > 360 || i > 0 && v > 100 {
				return "", false
			}
		}
		return c, true
	}
	return "", false
}

// namedColors are CSS's colour keywords.
var namedColors = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Fields(`transparent aliceblue antiquewhite aqua aquamarine azure beige bisque black
	blanchedalmond blue blueviolet brown burlywood cadetblue chartreuse chocolate coral cornflowerblue cornsilk
	crimson cyan darkblue darkcyan darkgoldenrod darkgray darkgreen darkgrey darkkhaki darkmagenta darkolivegreen
	darkorange darkorchid darkred darksalmon darkseagreen darkslateblue darkslategray darkslategrey darkturquoise
	darkviolet deeppink deepskyblue dimgray dimgrey dodgerblue firebrick floralwhite forestgreen fuchsia gainsboro
	ghostwhite gold goldenrod gray green greenyellow grey honeydew hotpink indianred indigo ivory khaki lavender
	lavenderblush lawngreen lemonchiffon lightblue lightcoral lightcyan lightgoldenrodyellow lightgray lightgreen
	lightgrey lightpink lightsalmon lightseagreen lightskyblue lightslategray lightslategrey lightsteelblue
	lightyellow lime limegreen linen magenta maroon mediumaquamarine mediumblue mediumorchid mediumpurple
	mediumseagreen mediumslateblue mediumspringgreen mediumturquoise mediumvioletred midnightblue mintcream
	mistyrose moccasin navajowhite navy oldlace olive olivedrab orange orangered orchid palegoldenrod palegreen
	paleturquoise palevioletred papayawhip peachpuff peru pink plum powderblue purple rebeccapurple red rosybrown
	royalblue saddlebrown salmon sandybrown seagreen seashell sienna silver skyblue slateblue slategray slategrey
	snow springgreen steelblue tan teal thistle tomato turquoise violet wheat white whitesmoke yellow
	yellowgreen`) {
		m[n] = true
	}
	return m
}()
