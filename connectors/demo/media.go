package demo

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// mediaPrefix is where the media handler is mounted; post media and avatar
// URLs are site-relative paths under it, so a kiosk on another machine loads
// them from whichever Chorus served the page.
const mediaPrefix = "/demo/media/"

func avatarURL(key string) string { return mediaPrefix + "avatar/" + key + ".svg" }
func photoURL(n int) string       { return mediaPrefix + "photo/" + strconv.Itoa(n) + ".svg" }

// MediaHandler serves the demo's generated images: /demo/media/avatar/<key>.svg
// (a cast member's initials on a coloured square) and /demo/media/photo/<n>.svg
// (an illustrated scene). Mount it at /demo/media/ with the prefix kept. It
// answers only paths it made itself, never echoes the request into a body,
// and 404s everything else.
func MediaHandler() http.Handler {
	h := &mediaHandler{avatars: make(map[string]*person, len(cast))}
	for i := range cast {
		h.avatars[cast[i].key] = &cast[i]
	}
	return h
}

type mediaHandler struct {
	avatars map[string]*person
}

func (h *mediaHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body := h.render(r.URL.Path)
	if body == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// render returns the image at path, or nil when there is none.
func (h *mediaHandler) render(path string) []byte {
	rest, ok := strings.CutPrefix(path, mediaPrefix)
	if !ok {
		return nil
	}
	kind, file, _ := strings.Cut(rest, "/")
	name, ok := strings.CutSuffix(file, ".svg")
	if !ok {
		return nil
	}
	switch kind {
	case "avatar":
		if p, ok := h.avatars[name]; ok {
			return avatarSVG(p)
		}
	case "photo":
		n, err := strconv.Atoi(name)
		if err == nil && n >= 0 && n < photoCount && strconv.Itoa(n) == name {
			return sceneOf(n).svg()
		}
	}
	return nil
}

// avatarColors are backgrounds dark enough for white initials.
var avatarColors = []string{
	"#d62828", "#3a86ff", "#8338ec", "#c9184a", "#2b9348", "#00798c",
	"#6d597a", "#b5651d", "#1d3557", "#5e548e", "#0077b6", "#9d0208",
}

func avatarSVG(p *person) []byte {
	var b bytes.Buffer
	size := 56
	if utf8.RuneCountInString(p.initials) > 1 {
		size = 48
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128">`+
		`<rect width="128" height="128" fill="%s"/>`+
		`<text x="64" y="64" dy="0.35em" text-anchor="middle" font-family="system-ui, -apple-system, 'Segoe UI', 'Noto Sans', sans-serif" font-size="%d" font-weight="600" fill="#ffffff">`,
		avatarColors[int(hash(p.key))%len(avatarColors)], size)
	_ = xml.EscapeText(&b, []byte(p.initials))
	b.WriteString(`</text></svg>`)
	return b.Bytes()
}

// The kinds of scene the demo's photos show.
const (
	sceneStage = iota
	sceneMountains
	sceneSkyline
	sceneConfetti
	sceneFood
	sceneHarbour
	sceneCount
)

// Photo n shows scene kind n%sceneCount, variant n/sceneCount.
const (
	photoVariants = 80
	photoCount    = sceneCount * photoVariants
)

// topicScenes are the scenes that suit a post about each topic.
var topicScenes = [topicCount][]int{
	topicTalks:   {sceneStage, sceneSkyline},
	topicMusic:   {sceneStage, sceneConfetti},
	topicFood:    {sceneFood},
	topicVenue:   {sceneHarbour, sceneMountains, sceneSkyline},
	topicFriends: {sceneConfetti, sceneHarbour, sceneStage},
}

// palette is a mood: sky colours, three receding ground tones, and accents.
type palette struct {
	name                      string
	skyTop, skyBottom         string
	sun                       string
	far, mid, near            string
	accent1, accent2, accent3 string
}

var palettes = []palette{
	{"warm orange and pink", "#2b1055", "#ff7e5f", "#ffd26f", "#7a3b69", "#4a2556", "#241634", "#ff4f81", "#ffb347", "#ffe66d"},
	{"deep purple and blue", "#0f0c29", "#5b4b8a", "#f8e7b9", "#3a3163", "#2a2450", "#16132e", "#8e7dff", "#5ec8ff", "#ff8cc6"},
	{"neon magenta and cyan", "#120024", "#3d0a5b", "#ff3ea5", "#2a0845", "#1d0633", "#0b0214", "#ff2fb3", "#19e6ff", "#f8ff3a"},
	{"soft peach and gold", "#ffd3a5", "#fd6585", "#fff4c2", "#c0707f", "#8d4f6a", "#4f2f4f", "#ffd166", "#ef476f", "#06d6a0"},
	{"midnight blue and teal", "#061a40", "#0a6c74", "#e0fbfc", "#0b3c5d", "#082a44", "#041726", "#3bceac", "#ffd23f", "#ee4266"},
}

// sizes are the photos' dimensions: 3:2, square, 4:5 portrait, 16:9.
var sizes = [][2]int{{1200, 800}, {1080, 1080}, {1080, 1350}, {1280, 720}}

// scene is everything that decides how photo n looks.
type scene struct {
	n, kind       int
	width, height int
	mood          palette
}

func sceneOf(n int) scene {
	v := n / sceneCount
	size := sizes[v%len(sizes)]
	return scene{n: n, kind: n % sceneCount, width: size[0], height: size[1], mood: palettes[(v/len(sizes))%len(palettes)]}
}

// alt describes the scene for people who cannot see it.
func (s scene) alt() string {
	m := s.mood.name
	switch s.kind {
	case sceneStage:
		return "Illustration: a concert stage lit by spotlights in " + m + ", performers in silhouette and a crowd in front, some fans with raised arms."
	case sceneMountains:
		return "Illustration: layered mountain ridges under a " + m + " sky, the sun low above the horizon."
	case sceneSkyline:
		return "Illustration: a city skyline at night with lit windows, stars and a crescent moon, in " + m + "."
	case sceneConfetti:
		return "Illustration: confetti and streamers falling across a " + m + " background."
	case sceneFood:
		return "Illustration seen from above: a bowl of noodles with a boiled egg and greens, chopsticks and a cup of coffee on a wooden table, with a napkin in " + m + "."
	default:
		return "Illustration: a concert hall by the harbour, its lit windows reflected in the water under a " + m + " sky, two small sailing boats nearby."
	}
}

// svg draws the scene. Everything in it comes from n; nothing from a request.
func (s scene) svg() []byte {
	c := &canvas{w: float64(s.width), h: float64(s.height), p: s.mood, r: rand.New(rand.NewPCG(uint64(s.n), 0x5eed))}
	c.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`, s.width, s.height, s.width, s.height)
	switch s.kind {
	case sceneStage:
		c.stage()
	case sceneMountains:
		c.mountains()
	case sceneSkyline:
		c.skyline()
	case sceneConfetti:
		c.confetti()
	case sceneFood:
		c.food()
	default:
		c.harbour()
	}
	c.printf(`</svg>`)
	return c.b.Bytes()
}

// canvas writes SVG markup for one scene.
type canvas struct {
	b    bytes.Buffer
	w, h float64
	p    palette
	r    *rand.Rand
}

func (c *canvas) printf(format string, args ...any) { fmt.Fprintf(&c.b, format, args...) }

// between returns a random number in [lo, hi).
func (c *canvas) between(lo, hi float64) float64 { return lo + c.r.Float64()*(hi-lo) }

func (c *canvas) accent() string {
	return pick(c.r, []string{c.p.accent1, c.p.accent2, c.p.accent3, c.p.sun})
}

// gradient defines a vertical linear gradient.
func (c *canvas) gradient(id, top, bottom string) {
	c.printf(`<defs><linearGradient id="%s" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="%s"/><stop offset="1" stop-color="%s"/></linearGradient></defs>`, id, top, bottom)
}

func (c *canvas) background(top, bottom string) {
	c.gradient("bg", top, bottom)
	c.printf(`<rect width="%.0f" height="%.0f" fill="url(#bg)"/>`, c.w, c.h)
}

func (c *canvas) sun(x, y, r float64) {
	c.printf(`<defs><radialGradient id="glow"><stop offset="0" stop-color="%s" stop-opacity="0.7"/><stop offset="1" stop-color="%s" stop-opacity="0"/></radialGradient></defs>`, c.p.sun, c.p.sun)
	c.printf(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="url(#glow)"/>`, x, y, r*3)
	c.printf(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s"/>`, x, y, r, c.p.sun)
}

func (c *canvas) confettiPieces(n int) {
	for range n {
		x, y := c.between(0, c.w), c.between(0, c.h)
		c.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" transform="rotate(%.0f %.1f %.1f)"/>`,
			x, y, c.between(8, 18), c.between(4, 8), c.accent(), c.between(0, 360), x, y)
	}
}

func (c *canvas) stage() {
	c.background(c.p.near, c.p.mid)
	floor := c.h * 0.68
	beams := 3 + c.r.IntN(3)
	for i := range beams {
		id := fmt.Sprintf("beam%d", i)
		c.gradient(id, c.accent(), c.p.mid)
		x := c.w * (float64(i) + 0.5) / float64(beams)
		to := x + c.between(-c.w*0.25, c.w*0.25)
		spread := c.between(c.w*0.06, c.w*0.12)
		c.printf(`<polygon points="%.1f,14 %.1f,14 %.1f,%.1f %.1f,%.1f" fill="url(#%s)" opacity="0.45"/>`,
			x-10, x+10, to+spread, floor, to-spread, floor, id)
		c.printf(`<circle cx="%.1f" cy="16" r="11" fill="%s"/>`, x, c.p.sun)
	}
	c.printf(`<rect width="%.0f" height="18" fill="#111"/>`, c.w)
	c.printf(`<rect y="%.1f" width="%.0f" height="%.1f" fill="%s"/>`, floor, c.w, c.h-floor, c.p.far)
	// Performers.
	for i, n := 0, 1+c.r.IntN(3); i < n; i++ {
		x := c.w * (float64(i) + 1) / float64(n+1)
		s := c.h * 0.05
		c.printf(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="#07050a"/>`, x, floor-s*3.4, s*0.55)
		c.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="%.1f" fill="#07050a"/>`, x-s*0.6, floor-s*2.8, s*1.2, s*2.8, s*0.4)
	}
	// The crowd, three rows, the nearest darkest.
	for row := range 3 {
		y := c.h * (0.8 + 0.08*float64(row))
		r := c.h * (0.03 + 0.008*float64(row))
		fill := []string{"#1a1320", "#100b15", "#050308"}[row]
		for x := c.between(-r, r); x < c.w+r; x += r * c.between(2.2, 2.8) {
			hy := y + c.between(-r*0.4, r*0.4)
			c.printf(`<ellipse cx="%.1f" cy="%.1f" rx="%.1f" ry="%.1f" fill="%s"/>`, x, hy+r*2.1, r*1.5, r*1.3, fill)
			c.printf(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s"/>`, x, hy, r, fill)
			if c.r.Float64() < 0.2 {
				c.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f" stroke-linecap="round"/>`,
					x+r*0.9, hy+r*1.5, x+r*c.between(1, 2), hy-r*c.between(1.8, 2.8), fill, r*0.45)
			}
		}
	}
	if c.r.Float64() < 0.5 {
		c.confettiPieces(40)
	}
}

// ridge draws a mountain layer around height base with the given roughness.
func (c *canvas) ridge(base, amp float64, fill string) {
	c.printf(`<polygon fill="%s" points="0,%.0f`, fill, c.h)
	steps := 12
	for i := 0; i <= steps; i++ {
		y := base + c.between(-amp, amp)
		if i%2 == 1 {
			y -= amp
		}
		c.printf(` %.1f,%.1f`, c.w*float64(i)/float64(steps), y)
	}
	c.printf(` %.0f,%.0f"/>`, c.w, c.h)
}

func (c *canvas) mountains() {
	c.background(c.p.skyTop, c.p.skyBottom)
	m := math.Min(c.w, c.h)
	c.sun(c.between(c.w*0.25, c.w*0.75), c.h*0.45, m*0.09)
	c.ridge(c.h*0.55, c.h*0.08, c.p.far)
	c.ridge(c.h*0.68, c.h*0.06, c.p.mid)
	c.ridge(c.h*0.8, c.h*0.04, c.p.near)
	for range 3 + c.r.IntN(4) {
		x, y, s := c.between(c.w*0.1, c.w*0.9), c.between(c.h*0.15, c.h*0.4), c.between(8, 16)
		c.printf(`<path d="M%.1f %.1f q%.1f %.1f %.1f 0 q%.1f %.1f %.1f 0" fill="none" stroke="%s" stroke-width="3"/>`,
			x, y, s/2, -s/2, s, s/2, -s/2, s, c.p.near)
	}
}

func (c *canvas) skyline() {
	c.background(c.p.skyTop, c.p.skyBottom)
	for range 50 {
		c.printf(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="#ffffff" opacity="%.2f"/>`,
			c.between(0, c.w), c.between(0, c.h*0.5), c.between(0.8, 2), c.between(0.4, 1))
	}
	mx, my, mr := c.between(c.w*0.6, c.w*0.85), c.h*0.18, math.Min(c.w, c.h)*0.07
	c.printf(`<defs><mask id="moon"><rect width="%.0f" height="%.0f" fill="#fff"/><circle cx="%.1f" cy="%.1f" r="%.1f" fill="#000"/></mask></defs>`,
		c.w, c.h, mx+mr*0.45, my-mr*0.2, mr)
	c.printf(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s" mask="url(#moon)"/>`, mx, my, mr, c.p.sun)
	tones := []string{c.p.far, c.p.mid, c.p.near}
	for x := 0.0; x < c.w; {
		bw := c.between(c.w*0.05, c.w*0.11)
		bh := c.between(c.h*0.2, c.h*0.6)
		top := c.h - bh
		c.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x, top, bw+1, bh, tones[c.r.IntN(len(tones))])
		for wy := top + 12; wy < c.h-14; wy += 22 {
			for wx := x + 8; wx < x+bw-12; wx += 18 {
				if c.r.Float64() < 0.3 {
					c.printf(`<rect x="%.1f" y="%.1f" width="8" height="11" fill="%s" opacity="0.9"/>`, wx, wy, c.p.accent2)
				}
			}
		}
		x += bw
	}
}

func (c *canvas) confetti() {
	c.background(c.p.skyBottom, c.p.skyTop)
	for range 7 {
		x := c.between(0, c.w)
		c.printf(`<path d="M%.1f -10 Q%.1f %.1f %.1f %.1f T%.1f %.1f" fill="none" stroke="%s" stroke-width="7" stroke-linecap="round" opacity="0.85"/>`,
			x, x+c.between(-200, 200), c.h*0.3, x+c.between(-100, 100), c.h*0.55, x+c.between(-150, 150), c.h+10, c.accent())
	}
	c.confettiPieces(140)
	for range 40 {
		c.printf(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s"/>`, c.between(0, c.w), c.between(0, c.h), c.between(3, 7), c.accent())
	}
}

func (c *canvas) food() {
	c.gradient("bg", "#8b5a2b", "#5e3b1c")
	c.printf(`<rect width="%.0f" height="%.0f" fill="url(#bg)"/>`, c.w, c.h)
	for y := 40.0; y < c.h; y += 90 {
		c.printf(`<line x1="0" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#4d3016" stroke-width="3" opacity="0.5"/>`, y, c.w, y+c.between(-20, 20))
	}
	m := math.Min(c.w, c.h)
	c.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" opacity="0.9" transform="rotate(-12 %.1f %.1f)"/>`,
		c.w*0.05, c.h*0.55, m*0.35, m*0.35, c.p.accent1, c.w*0.05, c.h*0.55)
	bx, by, br := c.w*0.45, c.h*0.52, m*0.3
	c.printf(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="#000" opacity="0.25"/>`, bx+8, by+10, br)
	c.printf(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="#f4efe6" stroke="#d9cfc0" stroke-width="6"/>`, bx, by, br)
	c.printf(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="#d9892b"/>`, bx, by, br*0.82)
	for range 16 {
		a, b := c.between(0, 2*math.Pi), c.between(0, 2*math.Pi)
		d := br * 0.7
		c.printf(`<path d="M%.1f %.1f Q%.1f %.1f %.1f %.1f" fill="none" stroke="#f7d774" stroke-width="6" stroke-linecap="round"/>`,
			bx+d*math.Cos(a), by+d*math.Sin(a), bx+c.between(-d, d)/2, by+c.between(-d, d)/2, bx+d*math.Cos(b), by+d*math.Sin(b))
	}
	ex, ey := bx+br*0.3, by-br*0.25
	c.printf(`<ellipse cx="%.1f" cy="%.1f" rx="%.1f" ry="%.1f" fill="#fffaf0"/>`, ex, ey, br*0.2, br*0.15)
	c.printf(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="#f6a21e"/>`, ex, ey, br*0.09)
	for range 9 {
		a, d := c.between(0, 2*math.Pi), c.between(0, br*0.6)
		c.printf(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="#4caf50"/>`, bx+d*math.Cos(a), by+d*math.Sin(a), c.between(5, 10))
	}
	for i := range 2 {
		x := bx + br*1.15 + float64(i)*18
		c.printf(`<rect x="%.1f" y="%.1f" width="10" height="%.1f" rx="4" fill="#c8a165" transform="rotate(%.0f %.1f %.1f)"/>`,
			x, by-br, br*2, 8+float64(i)*4, x, by)
	}
	cx, cy, cr := c.w*0.82, c.h*0.2, m*0.11
	c.printf(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="#ffffff"/>`, cx, cy, cr)
	c.printf(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="#6f4e37"/>`, cx, cy, cr*0.78)
	c.printf(`<ellipse cx="%.1f" cy="%.1f" rx="%.1f" ry="%.1f" fill="#e8cfa9"/>`, cx, cy, cr*0.35, cr*0.28)
}

func (c *canvas) harbour() {
	horizon := c.h * 0.62
	c.gradient("sky", c.p.skyTop, c.p.skyBottom)
	c.printf(`<rect width="%.0f" height="%.1f" fill="url(#sky)"/>`, c.w, horizon)
	m := math.Min(c.w, c.h)
	sx := c.between(c.w*0.55, c.w*0.85)
	c.sun(sx, horizon-m*0.12, m*0.07)
	// The hall: a low block under three sail-like shells.
	hx, hw := c.w*0.12, c.w*0.45
	c.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, hx, horizon-c.h*0.08, hw, c.h*0.08, c.p.near)
	for i := range 3 {
		x := hx + hw*float64(i)/3
		top := horizon - c.h*(0.2+0.05*float64(i%2))
		c.printf(`<path d="M%.1f %.1f Q%.1f %.1f %.1f %.1f Z" fill="%s"/>`,
			x, horizon-c.h*0.08, x+hw/6, top, x+hw/3+10, horizon-c.h*0.08, c.p.mid)
	}
	for x := hx + 10; x < hx+hw-14; x += 24 {
		c.printf(`<rect x="%.1f" y="%.1f" width="12" height="10" fill="%s"/>`, x, horizon-c.h*0.05, c.p.accent2)
	}
	c.gradient("sea", c.p.skyBottom, c.p.near)
	c.printf(`<rect y="%.1f" width="%.0f" height="%.1f" fill="url(#sea)"/>`, horizon, c.w, c.h-horizon)
	for range 26 {
		y := c.between(horizon+6, c.h)
		wid := c.between(20, 90) * (y - horizon) / (c.h - horizon)
		c.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="3" rx="1.5" fill="%s" opacity="0.45"/>`,
			sx+c.between(-60, 60)-wid/2, y, wid+10, c.p.sun)
	}
	for i := range 2 {
		x, y, s := c.w*(0.62+0.2*float64(i)), horizon+c.h*(0.08+0.1*float64(i)), 20+12*float64(i)
		c.printf(`<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="%s"/>`,
			x-s*1.5, y, x+s*1.5, y, x+s, y+s*0.5, x-s, y+s*0.5, c.p.near)
		c.printf(`<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="%s"/>`, x, y-2, x, y-s*2.2, x+s*1.2, y-2, "#f8f4ec")
	}
}
