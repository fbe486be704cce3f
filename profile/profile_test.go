package profile

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/bus/bustest"
	"github.com/chorus-wall/chorus/config"
)

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name, body, err string
	}{
		{"empty object takes every default", `{}`, ""},
		{"everything", `{"layout":"carousel","theme":"dark","colors":{"background":"#0B1020","card":"rgb(20, 24, 40)","text":"white","muted":"hsl(220 10% 70%)","accent":"#ff6600cc","border":"rgba(255,255,255,.1)"},
			"font":"serif","logo":"https://brand.example/logo.png","header":"Summit 2026 — live","show_mark":false,
			"fields":{"avatar":true,"handle":false,"network":true,"time":false,"media":true,"counts":true},
			"posts":12,"max_age":"6h","pace":"5s","replay":false,"language":"PT-br","prefer_visitor_language":true}`, ""},
		{"unknown top key", `{"layout":"grid","colour":{}}`, "colour: unknown key; known keys here: colors, fields, font, header"},
		{"unknown nested key", `{"colors":{"bg":"red"}}`, "colors.bg: unknown key; known keys here: accent, background, border, card, muted, text"},
		{"unknown field key", `{"fields":{"likes":true}}`, "fields.likes: unknown key"},
		{"wrong type", `{"posts":"many"}`, "posts: expected a whole number"},
		{"wrong nested type", `{"fields":{"avatar":"yes"}}`, "fields.avatar: expected true or false"},
		{"not an object", `[1]`, "body must be a JSON object"},
		{"two objects", `{} {}`, "more follows it"},
		{"layout", `{"layout":"marquee"}`, `layout: "marquee" must be one of masonry, grid, carousel, ticker, spotlight, list`},
		{"theme", `{"theme":"neon"}`, "theme:"},
		{"free CSS in a colour", `{"colors":{"background":"red; background-image:url(https://evil.example/x)"}}`, "colors.background: "},
		{"a variable", `{"colors":{"accent":"var(--brand)"}}`, "colors.accent:"},
		{"an expression", `{"colors":{"text":"expression(alert(1))"}}`, "colors.text:"},
		{"a url", `{"colors":{"card":"url(javascript:alert(1))"}}`, "colors.card:"},
		{"bad hex", `{"colors":{"border":"#ggg"}}`, "colors.border:"},
		{"rgb out of range", `{"colors":{"border":"rgb(300,0,0)"}}`, "colors.border:"},
		{"font", `{"font":"Comic Sans MS; color:red"}`, "font: "},
		{"http logo", `{"logo":"http://brand.example/logo.png"}`, "logo: must be an https URL"},
		{"script logo", `{"logo":"javascript:alert(1)"}`, "logo: must be"},
		{"two-line header", `{"header":"one\ntwo"}`, "header: must be one line"},
		{"long header", `{"header":"` + strings.Repeat("x", 121) + `"}`, "header: is 121 characters"},
		{"posts", `{"posts":0}`, "posts: 0 must be from 1 to 500"},
		{"pace", `{"pace":"100ms"}`, "pace: 100ms must be from 1s to 10m0s"},
		{"max age", `{"max_age":"-1h"}`, "max_age:"},
		{"language", `{"language":"english please"}`, "language:"},
		{"every problem at once", `{"layout":"x","posts":0}`, "layout: \"x\" must be one of masonry, grid, carousel, ticker, spotlight, list; posts: 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Decode("application/json", strings.NewReader(tc.body))
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want %q (profile %+v)", err, tc.err, p)
			}
		})
	}
	p, err := Decode("application/json", strings.NewReader(`{"language":"PT-br","colors":{"background":"#0B1020"},"header":" hi\u202e "}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Language != "pt-BR" || p.Colors.Background != "#0b1020" || p.Header != "hi" || p.Layout != "masonry" || !p.Replay || !p.Fields.Avatar {
		t.Fatalf("normalized %+v", p)
	}
}

type streams map[string]config.Stream

func (s streams) Get(id string) (config.Stream, bool) { st, ok := s[id]; return st, ok }

func TestAPI(t *testing.T) {
	conn := bustest.Open(t)
	h := &Handlers{Store: NewStore(conn.Config), Streams: streams{"summit": {ID: "summit"}},
		ImageURL: func(u string) string { return "/media/signed/" + u[len(u)-8:] }}
	e := echo.New()
	e.GET("/s/:id/profiles", h.List)
	e.GET("/s/:id/profiles/:name", h.Get)
	e.PUT("/s/:id/profiles/:name", h.Put)
	e.DELETE("/s/:id/profiles/:name", h.Delete)
	call := func(method, path, body string, header ...string) (*httptest.ResponseRecorder, Document) {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		var d Document
		_ = json.Unmarshal(rec.Body.Bytes(), &d)
		return rec, d
	}
	// The default exists before anything is stored.
	rec, d := call(http.MethodGet, "/s/summit/profiles/default", "")
	if rec.Code != 200 || d.Stored || d.Profile != Default() || !strings.Contains(d.Computed.FontFamily, "system-ui") {
		t.Fatalf("default: %d %+v", rec.Code, d)
	}
	if rec, _ := call(http.MethodGet, "/s/summit/profiles/lobby", ""); rec.Code != 404 {
		t.Fatalf("missing profile: %d", rec.Code)
	}
	rec, d = call(http.MethodPut, "/s/summit/profiles/lobby", `{"layout":"spotlight","logo":"https://brand.example/logo.png","pace":"8s"}`)
	if rec.Code != 200 || !d.Stored || d.Profile.Layout != "spotlight" || d.Computed.LogoSrc != "/media/signed/logo.png" || d.Revision == 0 {
		t.Fatalf("put: %d %s", rec.Code, rec.Body)
	}
	rev := d.Revision
	rec, d = call(http.MethodGet, "/s/summit/profiles/lobby", "")
	if rec.Code != 200 || d.Profile.Pace.D().Seconds() != 8 || rec.Header().Get("ETag") == "" {
		t.Fatalf("get: %d %+v", rec.Code, d)
	}
	if rec, _ := call(http.MethodGet, "/s/summit/profiles/lobby", "", "If-None-Match", rec.Header().Get("ETag")); rec.Code != http.StatusNotModified {
		t.Fatalf("revalidation: %d", rec.Code)
	}
	// Two editors: the second, still on the old revision, is refused.
	if rec, _ := call(http.MethodPut, "/s/summit/profiles/lobby", `{"layout":"grid"}`, "If-Match", `"`+itoa(rev)+`"`); rec.Code != 200 {
		t.Fatalf("first editor: %d %s", rec.Code, rec.Body)
	}
	if rec, _ := call(http.MethodPut, "/s/summit/profiles/lobby", `{"layout":"list"}`, "If-Match", `"`+itoa(rev)+`"`); rec.Code != http.StatusPreconditionFailed {
		t.Fatalf("second editor: %d %s", rec.Code, rec.Body)
	}
	for path, code := range map[string]int{"/s/nope/profiles/default": 404, "/s/summit/profiles/Bad%20Name": 400} {
		if rec, _ := call(http.MethodGet, path, ""); rec.Code != code {
			t.Errorf("%s: %d", path, rec.Code)
		}
	}
	if rec, _ := call(http.MethodPut, "/s/summit/profiles/lobby", `{"layuot":"grid"}`); rec.Code != 400 || !strings.Contains(rec.Body.String(), "layuot: unknown key") {
		t.Fatalf("typo: %d %s", rec.Code, rec.Body)
	}
	rec, _ = call(http.MethodGet, "/s/summit/profiles", "")
	if !strings.Contains(rec.Body.String(), `"profiles":["default","lobby"]`) {
		t.Fatalf("list: %s", rec.Body)
	}
	if rec, _ := call(http.MethodDelete, "/s/summit/profiles/lobby", ""); rec.Code != 200 {
		t.Fatalf("delete: %d", rec.Code)
	}
	if rec, _ := call(http.MethodDelete, "/s/summit/profiles/lobby", ""); rec.Code != 404 {
		t.Fatalf("delete again: %d", rec.Code)
	}
}

func itoa(n uint64) string { b, _ := json.Marshal(n); return string(b) }
