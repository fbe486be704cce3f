package static_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	bt "github.com/chorus-wall/chorus/static/browsertest"
)

var widgetLayouts = []string{"masonry", "grid", "carousel", "ticker", "spotlight", "list"}

// widgetPosts are what every layout is shown with: the demo's posts in
// many languages with photos, a pinned one, a featured one, right-to-left
// text and a long post.
func widgetPosts(t *testing.T) []map[string]any {
	posts := demoPosts(t, 24)
	posts[5]["pinned"] = true
	posts[1]["featured"] = true
	rtl := rtlPosts(t)[:2]
	long := longPosts(t)[0]
	return append(append(rtl, long), posts...)
}

// widgetLooksJS returns what a designer would object to in the widget:
// a page wider than the screen, cards spilling out of their box or out of
// the widget, no card in view, text without enough contrast.
const widgetLooksJS = `(() => {
  const bad = [];
  const w = document.getElementById('w');
  const root = w.shadowRoot;
  const se = document.scrollingElement;
  if (se.scrollWidth > innerWidth + 1) bad.push('the page is ' + se.scrollWidth + 'px wide on a ' + innerWidth + 'px screen');
  const box = root.querySelector('.widget').getBoundingClientRect();
  const cards = Array.from(root.querySelectorAll('article.card')).filter((el) => {
    const cs = getComputedStyle(el);
    return cs.visibility !== 'hidden' && cs.display !== 'none' && !el.classList.contains('offscreen');
  });
  const inBox = cards.filter((el) => { const r = el.getBoundingClientRect(); return r.right > box.left && r.left < box.right && r.bottom > box.top && r.top < box.bottom; });
  if (!inBox.length) bad.push('no card in view');
  for (const el of inBox) {
    for (const part of el.querySelectorAll('.text, .cw, .name-row, .who, .card-head, .flags')) {
      const cs = getComputedStyle(part);
      if (cs.textOverflow === 'ellipsis' || cs.display === 'none') continue;
      if (part.scrollWidth > part.clientWidth + 1) bad.push(el.dataset.id + ': ' + part.className + ' spills sideways (' + part.scrollWidth + ' > ' + part.clientWidth + ')');
    }
  }
  const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  for (const el of inBox.filter((c) => !c.classList.contains('featured')).slice(0, 6)) {
    const bg = rgb(getComputedStyle(el).backgroundColor);
    for (const sel of ['.text', '.name', '.handle', '.time', '.cw', '.tag', '.mention', '.link']) {
      const part = el.querySelector(sel);
      if (!part || getComputedStyle(part).display === 'none') continue;
      const cs = getComputedStyle(part);
      let under = bg;
      const own = rgb(cs.backgroundColor);
      if (own.length >= 3 && (own.length === 3 || own[3] > 0.5)) under = own;
      const c = ratio(rgb(cs.color), under);
      if (c < 4.5) bad.push(el.dataset.id + ' ' + sel + ': contrast ' + c.toFixed(2) + ' below 4.5');
    }
  }
  for (const b of root.querySelectorAll('button')) {
    if (b.closest('[hidden]')) continue;
    const r = b.getBoundingClientRect();
    if (r.width && (r.width < 24 || r.height < 24)) bad.push('a button is ' + Math.round(r.width) + 'x' + Math.round(r.height) + ', under 24x24');
  }
  return bad;
})()`

// TestWidgetLayouts renders every layout on a brand page at phone, desktop
// and 4K sizes, light and dark, checks each as a designer would, and keeps
// the screenshots. With CHORUS_DOCS_SCREENSHOTS=dir it also writes the
// README's screenshots (desktop, light) there.
func TestWidgetLayouts(t *testing.T) {
	if testing.Short() {
		t.Skip("screenshots take a while")
	}
	ctx := bt.Tab(t)
	f := newFakeChorus(t)
	b := newBrandSite(t, f.srv.URL)
	posts := widgetPosts(t)
	f.set(func(f *fakeChorus) {
		f.snap = snapshot(9, false, posts...)
		f.allowed = []string{b.srv.URL}
	})
	docs := os.Getenv("CHORUS_DOCS_SCREENSHOTS")
	w := bt.Watch(t, ctx)
	for _, vp := range []bt.Viewport{bt.Phone, bt.Desktop, bt.UHD} {
		bt.Emulate(t, ctx, vp)
		for _, theme := range []string{"light", "dark"} {
			for _, layout := range widgetLayouts {
				name := vp.Name + "-" + theme + "-" + layout
				openBrand(t, ctx, b, fmt.Sprintf(`layout="%s" theme="%s" limit="24" pace="60s" replay="off"`, layout, theme), "&plain=1")
				if theme == "dark" {
					bt.Eval[bool](t, ctx, `(() => { document.body.classList.add('dark'); return true; })()`)
				}
				bt.WaitJS(t, ctx, name+": posts", widgetJS(`w.chorus.posts().length === 24`))
				bt.WaitJS(t, ctx, name+": at rest", widgetSettledJS)
				bt.WaitJS(t, ctx, name+": images in view", widgetJS(`Array.from(root.querySelectorAll('img')).every((img) => {
				  const r = img.getBoundingClientRect();
				  const b = root.querySelector('.body').getBoundingClientRect();
				  const top = Math.max(0, b.top), bottom = Math.min(innerHeight, b.bottom);
				  const left = Math.max(0, b.left), right = Math.min(innerWidth, b.right);
				  return img.complete || !r.width || r.top >= bottom || r.bottom <= top || r.left >= right || r.right <= left;
				})`))
				if layout == "ticker" {
					// Stop the crawl for a still picture.
					bt.Eval[bool](t, ctx, widgetJS(`(root.querySelector('.layout-ticker .toggle').click(), true)`))
				}
				bt.Screenshot(t, ctx, name)
				if docs != "" && vp.Name == "desktop" && theme == "light" {
					// The README's picture: the widget alone, as a brand's page shows it.
					png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#w")))
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(docs, "widget-"+layout+".png"), png, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				if bad := bt.Eval[[]string](t, ctx, widgetLooksJS); len(bad) > 0 {
					t.Errorf("%s:\n%s", name, strings.Join(bad, "\n"))
				}
			}
		}
	}
	w.Check(t)
}
