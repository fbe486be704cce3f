package static_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	bt "github.com/chorus-wall/chorus/static/browsertest"
)

// wallContent is one thing a wall may have to show.
type wallContent struct {
	name  string
	title string
	posts func(t *testing.T) []map[string]any
}

var wallContents = []wallContent{
	{name: "many", title: "Developers Summit 2026", posts: func(t *testing.T) []map[string]any {
		posts := demoPosts(t, 60)
		posts[9]["pinned"] = true
		posts[2]["featured"] = true
		return posts
	}},
	{name: "none", title: "Developers Summit 2026", posts: func(*testing.T) []map[string]any { return nil }},
	{name: "long", title: "The Annual International Developers, Designers and Community Builders Summit 2026: Main Stage", posts: longPosts},
	{name: "rtl", title: "مهرجان الربيع للتقنية ٢٠٢٦", posts: rtlPosts},
}

func longPosts(t *testing.T) []map[string]any {
	para := strings.Repeat("Every speaker today talked about how small teams can ship reliable software by keeping things simple, measuring what matters and listening to the people who use it. ", 12)
	name := textPost("longname", "A post by someone with a very long name and handle.")
	name["author"] = map[string]any{"id": "ln", "name": "Maximiliana Alexandrina Konstantinopoulou-Vanderbilt-Rasmussen", "handle": "maximiliana_alexandrina_konstantinopoulou_official", "verified": true}
	cw := textPost("cw", "Spoilers for the final keynote demo below.")
	cw["sensitive"] = true
	cw["content_warning"] = "Spoilers: the final keynote demo, the surprise guest, and the announcement everybody has been waiting for since last year"
	out := []map[string]any{
		textPost("para", para),
		textPost("unbroken", "Supercalifragilistic"+strings.Repeat("expialidocious", 20)+" and a link https://example.com/"+strings.Repeat("a-very-long-path-segment/", 12)+"?utm_source=wall"),
		name,
		textPost("tag", "#"+strings.Repeat("ThisIsTheLongestHashtag", 6)+" @"+strings.Repeat("mention", 8)+"@very.long.instance.example.social"),
		cw,
	}
	return append(out, demoPosts(t, 12)...)
}

func rtlPosts(t *testing.T) []map[string]any {
	ar := func(id, text string) map[string]any {
		p := textPost(id, text)
		p["lang"] = "ar"
		p["author"] = map[string]any{"id": id, "name": "ليلى حداد", "handle": "leila_haddad"}
		return p
	}
	he := func(id, text string) map[string]any {
		p := textPost(id, text)
		p["lang"] = "he"
		p["author"] = map[string]any{"id": id, "name": "נועה לוי", "handle": "noa_levi"}
		return p
	}
	out := []map[string]any{
		ar("ar1", "مرحبا بالجميع في المؤتمر! الجلسة الافتتاحية كانت رائعة جدا #ChorusLive @ana"),
		he("he1", "בוקר טוב מהכנס! ההרצאה הראשונה הייתה מעולה #Summit26 https://example.com/talk"),
		ar("ar2", strings.Repeat("تحدث المتحدثون اليوم عن كيفية بناء برمجيات موثوقة بفرق صغيرة، مع الحفاظ على البساطة والاستماع إلى المستخدمين. ", 6)+"#مؤتمر_التقنية"),
		he("he2", "מי עוד פה בשורה הראשונה? 🙋‍♀️ #כנס_מפתחים"),
		ar("ar3", "Mixed: the talk في القاعة الكبرى starts at 10:30 #Keynote"),
	}
	return append(out, demoPosts(t, 10)...)
}

// TestWallLooks renders the wall on a phone, a desktop and a 4K screen, in
// both themes, with many posts, none, long text and right-to-left text,
// checks what a designer would, and keeps a screenshot of each (see
// browsertest for where they go).
func TestWallLooks(t *testing.T) {
	if testing.Short() {
		t.Skip("screenshots take a while")
	}
	ctx := bt.Tab(t)
	f := newFakeChorus(t)
	w := bt.Watch(t, ctx)
	for _, vp := range []bt.Viewport{bt.Phone, bt.Desktop, bt.UHD} {
		bt.Emulate(t, ctx, vp)
		for _, theme := range []string{"dark", "light"} {
			for _, content := range wallContents {
				posts := content.posts(t)
				f.set(func(f *fakeChorus) {
					f.info["title"] = content.title
					f.snap = snapshot(1, false, posts...)
				})
				openWall(t, ctx, f, "?theme="+theme)
				f.drain()
				bt.WaitJS(t, ctx, "posts", fmt.Sprintf(`window.chorusWall.seq() === 1 && window.chorusWall.posts().length === %d`, min(len(posts), 60)))
				bt.WaitJS(t, ctx, "the wall at rest", settledJS)
				bt.WaitJS(t, ctx, "images in view", `Array.from(document.querySelectorAll('#posts > .card:not(.offscreen) img')).every((img) => {
				  const r = img.getBoundingClientRect();
				  return img.complete || r.top > innerHeight || r.bottom < 0;
				})`)
				name := vp.Name + "-" + theme + "-" + content.name
				bt.Screenshot(t, ctx, name)
				checkLooks(t, ctx, name, len(posts))
			}
		}
	}
	w.Check(t)
}

// looksJS returns what is wrong with the page as a designer would see it:
// a page wider than the screen, cards or text spilling out of their box,
// nothing on a wall that has posts, text without enough contrast.
const looksJS = `((posts) => {
  const bad = [];
  const se = document.scrollingElement;
  if (se.scrollWidth > innerWidth + 1) bad.push('the page is ' + se.scrollWidth + 'px wide on a ' + innerWidth + 'px screen');
  const cards = Array.from(document.querySelectorAll('#posts > .card')).filter((el) =>
    !el.classList.contains('offscreen') && getComputedStyle(el).visibility !== 'hidden');
  for (const el of cards) {
    const r = el.getBoundingClientRect();
    if (r.left < -1 || r.right > innerWidth + 1) bad.push(el.dataset.id + ' is outside the screen: ' + Math.round(r.left) + '..' + Math.round(r.right));
    for (const part of el.querySelectorAll('.text, .cw, .name-row, .who, .card-head, .flags')) {
      if (part.scrollWidth > part.clientWidth + 1) bad.push(el.dataset.id + ': ' + part.className + ' spills sideways (' + part.scrollWidth + ' > ' + part.clientWidth + ')');
    }
  }
  const inView = cards.filter((el) => { const r = el.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; });
  const empty = document.getElementById('empty');
  // A card is seen when a point near its top hits it: not clipped away.
  const seen = inView.filter((el) => {
    const r = el.getBoundingClientRect();
    return el.contains(document.elementFromPoint(r.left + r.width / 2, Math.max(r.top, 0) + 8));
  });
  if (posts > 0 && seen.length === 0) bad.push('no card in view');
  if (posts > 0 && !empty.hidden) bad.push('the empty message shows with posts');
  if (posts === 0 && (empty.hidden || empty.getBoundingClientRect().height === 0)) bad.push('an empty wall shows no message');

  const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  for (const el of inView.filter((c) => !c.classList.contains('featured')).slice(0, 8)) {
    const bg = rgb(getComputedStyle(el).backgroundColor);
    for (const sel of ['.text', '.name', '.handle', '.time', '.cw']) {
      const part = el.querySelector(sel);
      if (!part) continue;
      const cs = getComputedStyle(part);
      let under = bg;
      const own = rgb(cs.backgroundColor);
      if (own.length >= 3 && (own.length === 3 || own[3] > 0.5)) under = own;
      const c = ratio(rgb(cs.color), under);
      if (c < 4.5) bad.push(el.dataset.id + ' ' + sel + ': contrast ' + c.toFixed(2) + ' below 4.5');
    }
  }
  return bad;
})`

// checkLooks fails the test for what looksJS finds.
func checkLooks(t *testing.T, ctx context.Context, name string, posts int) {
	t.Helper()
	if bad := bt.Eval[[]string](t, ctx, looksJS+fmt.Sprintf("(%d)", posts)); len(bad) > 0 {
		t.Errorf("%s:\n%s", name, strings.Join(bad, "\n"))
	}
}

// TestWallBranding: a brand can hide Chorus's mark and name (?mark=off),
// the header (?header=off), and restyle everything through theme.css's
// custom properties, as a display profile will.
func TestWallBranding(t *testing.T) {
	ctx := bt.Tab(t)
	f := newFakeChorus(t)
	posts := demoPosts(t, 30)
	posts[0]["pinned"] = true
	f.set(func(f *fakeChorus) { f.snap = snapshot(1, false, posts...) })
	w := bt.Watch(t, ctx)
	bt.Emulate(t, ctx, bt.Desktop)

	openWall(t, ctx, f, "?theme=light&mark=off")
	c := f.accept(t)
	bt.WaitJS(t, ctx, "posts", `window.chorusWall.seq() === 1`)
	bt.WaitJS(t, ctx, "the wall at rest", settledJS)
	noMark := `Array.from(document.querySelectorAll('.mark, .wall-brand, .empty-mark, .slate-mark')).every((el) => el.getBoundingClientRect().width === 0)`
	if !bt.Eval[bool](t, ctx, noMark) {
		t.Error("?mark=off still shows Chorus's mark or name")
	}
	if bt.Eval[bool](t, ctx, `document.getElementById('wall-header').getBoundingClientRect().height === 0`) {
		t.Error("?mark=off hid the stream's title too")
	}
	bt.Screenshot(t, ctx, "mark-off")

	// A profile's colours and sizes, set the way a page would set them.
	bt.Eval[bool](t, ctx, `(() => {
	  const s = document.documentElement.style;
	  s.setProperty('--chorus-accent', 'rgb(225, 29, 72)');
	  s.setProperty('--chorus-card-bg', 'rgb(255, 251, 235)');
	  s.setProperty('--chorus-bg', 'rgb(254, 243, 199)');
	  s.setProperty('--chorus-bg-glow', 'rgb(253, 230, 138)');
	  s.setProperty('--chorus-radius', '0px');
	  s.setProperty('--chorus-font', 'Georgia, serif');
	  return true;
	})()`)
	branded := `(() => {
	  const pinned = getComputedStyle(document.querySelector('#posts > .card.pinned'));
	  const card = getComputedStyle(document.querySelector('#posts > .card:not(.featured)'));
	  return pinned.borderTopColor === 'rgb(225, 29, 72)' && card.backgroundColor === 'rgb(255, 251, 235)' &&
	    card.borderTopLeftRadius === '0px' && /Georgia/.test(card.fontFamily);
	})()`
	if !bt.Eval[bool](t, ctx, branded) {
		t.Error("the brand's custom properties did not reach the cards")
	}
	// New sizes reflow the cards: the layout follows, nothing overlaps.
	bt.WaitJS(t, ctx, "the wall at rest in the brand's style", settledJS)
	bt.Eval[bool](t, ctx, overlapMonitorJS)
	bt.WaitJS(t, ctx, "a few frames", `window.__frames > 5`)
	if overlaps := bt.Eval[[]string](t, ctx, `window.__overlaps`); len(overlaps) > 0 {
		t.Errorf("after restyling, cards overlap:\n%s", strings.Join(overlaps, "\n"))
	}
	bt.Screenshot(t, ctx, "brand-tokens")
	checkLooks(t, ctx, "brand-tokens", len(posts))

	c.send(t, map[string]any{"type": "control", "seq": 2, "action": "pause"})
	bt.WaitJS(t, ctx, "the pause slate", `window.chorusWall.state() === 'paused' && !document.getElementById('slate').hidden`)
	if !bt.Eval[bool](t, ctx, noMark) {
		t.Error("the pause slate shows Chorus's mark with ?mark=off")
	}
	bt.Screenshot(t, ctx, "slate-mark-off")

	openWall(t, ctx, f, "?header=off")
	bt.WaitJS(t, ctx, "posts", `window.chorusWall.seq() === 1`)
	bt.WaitJS(t, ctx, "the wall at rest", settledJS)
	if !bt.Eval[bool](t, ctx, `document.getElementById('wall-header').getBoundingClientRect().height === 0 &&
	  document.querySelector('#posts > .card').getBoundingClientRect().top < 40`) {
		t.Error("?header=off still shows the header, or leaves its room empty")
	}
	bt.Screenshot(t, ctx, "header-off")
	checkLooks(t, ctx, "header-off", len(posts))
	w.Check(t)
}

// TestWallAppliesAProfile: ?profile= (or a stored default) gives the wall a
// brand's look: colours, header text, no Chorus mark, card fields, how many
// posts, and posts in the profile's language first.
func TestWallAppliesAProfile(t *testing.T) {
	ctx := bt.Tab(t)
	f := newFakeChorus(t)
	posts := demoPosts(t, 20)
	for i, p := range posts {
		p["lang"] = "en"
		if i == 14 || i == 17 { // two older posts, beyond the 8 newest
			p["lang"] = "ja"
		}
	}
	f.set(func(f *fakeChorus) {
		f.snap = snapshot(1, false, posts...)
		f.profile = map[string]any{
			"theme": "light", "colors": map[string]any{"accent": "#e11d48", "card": "rgb(255, 251, 235)", "background": "url(x)"},
			"header": "Live from the summit", "show_mark": false, "posts": 8, "language": "ja",
			"fields": map[string]any{"avatar": false, "handle": true, "network": false, "time": true, "media": true, "counts": false},
		}
	})
	w := bt.Watch(t, ctx)
	bt.Emulate(t, ctx, bt.Desktop)
	openWall(t, ctx, f, "?profile=lobby")
	bt.WaitJS(t, ctx, "posts", `window.chorusWall.posts().length === 8`)
	bt.WaitJS(t, ctx, "the wall at rest", settledJS)
	checks := map[string]string{
		"the header text":           `document.getElementById('wall-title').textContent === 'Live from the summit'`,
		"no Chorus mark":            `document.documentElement.dataset.mark === 'off'`,
		"light theme":               `document.documentElement.dataset.theme === 'light'`,
		"the card colour":           `getComputedStyle(document.querySelector('#posts > .card')).backgroundColor === 'rgb(255, 251, 235)'`,
		"no CSS from a bad colour":  `document.documentElement.style.getPropertyValue('--chorus-bg') === ''`,
		"no avatars, no badges":     `!document.querySelector('#posts .avatar, #posts .network')`,
		"Japanese posts come first": `(() => { const ids = window.chorusWall.posts(); const langs = ids.map((id) => document.querySelector('[data-id="' + id + '"] .text').getAttribute('lang')); return langs.length === 8 && langs[0] === 'ja' && langs[1] === 'ja' && langs.slice(2).every((l) => l === 'en'); })()`,
	}
	for what, cond := range checks {
		if !bt.Eval[bool](t, ctx, cond) {
			t.Errorf("%s: false: %s", what, cond)
		}
	}
	bt.Screenshot(t, ctx, "profile")
	w.Check(t)
}
