package static_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/chromedp/chromedp"

	bt "github.com/chorus-wall/chorus/static/browsertest"
)

// cardsInShadowJS renders posts with cards.js inside a shadow root, as a
// widget will, and reports what it built.
const cardsInShadowJS = `(async () => {
  const { createRenderer } = await import('/assets/cards.js');
  const { safeURL } = await import('/assets/text.js');
  const host = document.createElement('div');
  document.body.append(host);
  const shadow = host.attachShadow({ mode: 'open' });
  const sheet = document.createElement('link');
  sheet.rel = 'stylesheet';
  sheet.href = '/assets/cards.css';
  const loaded = new Promise((resolve, reject) => {
    sheet.addEventListener('load', resolve, { once: true });
    sheet.addEventListener('error', reject, { once: true });
  });
  shadow.append(sheet);
  await loaded;

  const widget = createRenderer({ document, base: location.origin + '/', links: 'new-tab',
    fields: { avatar: false, network: false, counts: true } });
  const kiosk = createRenderer({ document });
  const hour = new Date(Date.now() - 3600e3).toISOString();
  const post = {
    id: 'p1', network: 'mastodon', url: 'https://social.example/@ana/1',
    text: 'hi https://example.com/x #tag and javascript:alert(1)',
    links: [{ url: 'javascript:alert(2)', start: 0, end: 2 }],
    author: { name: 'Ana', handle: 'ana', avatar_url: '/demo/media/avatar/ana.svg' },
    media: [{ url: '/demo/media/photo/1.svg', alt: 'a photo' }],
    counts: { likes: 1234, reposts: 5, replies: 0 }, created_at: hour,
  };
  shadow.append(widget.render(post), kiosk.render({ ...post, id: 'p2', url: 'javascript:alert(3)' }));
  const w = shadow.querySelector('[data-id="p1"]');
  const k = shadow.querySelector('[data-id="p2"]');
  const time = w.querySelector('time');
  time.textContent = 'stale';
  widget.refreshTimes(shadow);
  return {
    inShadowOnly: !document.querySelector('article.card') && !!w && !!k,
    links: Array.from(w.querySelectorAll('a'), (a) => [a.className, a.getAttribute('href'), a.target, a.rel, a.referrerPolicy].join(' ')),
    firstWord: w.querySelector('.text').firstChild.nodeType === Node.TEXT_NODE ? w.querySelector('.text').firstChild.textContent : 'not text',
    hidden: ['.avatar', '.network'].filter((s) => w.querySelector(s)),
    media: w.querySelector('.media img').getAttribute('src'),
    counts: Array.from(w.querySelectorAll('.count'), (c) => c.dataset.kind + ' ' + c.getAttribute('aria-label')),
    time: time.textContent,
    styled: getComputedStyle(w).borderTopStyle,
    kioskLinks: k.querySelectorAll('a').length,
    kioskParts: ['.avatar', '.network', '.time'].filter((s) => k.querySelector(s)).length,
    kioskCounts: k.querySelectorAll('.count').length,
    safe: [safeURL('/x', 'https://chorus.example/'), safeURL('//evil.example/x', 'https://chorus.example/'),
      safeURL('javascript:alert(1)'), safeURL(' https://ok.example/a '), safeURL('/\\evil', 'https://chorus.example/')],
  };
})()`

// TestCardsInAShadowRoot: cards.js builds cards in a shadow root with the
// caller's document, shows only the fields asked for, makes new-tab links
// with rel="noopener noreferrer" only when asked and only to safe URLs, and
// the kiosk renderer makes none.
func TestCardsInAShadowRoot(t *testing.T) {
	ctx := bt.Tab(t)
	f := newFakeChorus(t)
	w := bt.Watch(t, ctx)
	openWall(t, ctx, f, "")
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](cardsInShadowJS, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		InShadowOnly bool      `json:"inShadowOnly"`
		Links        []string  `json:"links"`
		FirstWord    string    `json:"firstWord"`
		Hidden       []string  `json:"hidden"`
		Media        string    `json:"media"`
		Counts       []string  `json:"counts"`
		Time         string    `json:"time"`
		Styled       string    `json:"styled"`
		KioskLinks   int       `json:"kioskLinks"`
		KioskParts   int       `json:"kioskParts"`
		KioskCounts  int       `json:"kioskCounts"`
		Safe         []*string `json:"safe"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	origin := f.srv.URL
	checks := []struct {
		what      string
		got, want any
	}{
		{"cards live in the shadow root only", got.InShadowOnly, true},
		{"links: the bare URL and the permalink, new tab, no referrer", got.Links, []string{
			"link https://example.com/x _blank noopener noreferrer no-referrer",
			"permalink https://social.example/@ana/1 _blank noopener noreferrer no-referrer",
		}},
		{"a javascript: link entity stays text", got.FirstWord, "hi "},
		{"fields turned off are absent", got.Hidden, []string{}},
		{"site paths resolve against base", got.Media, origin + "/demo/media/photo/1.svg"},
		{"counts, when asked", got.Counts, []string{"reposts 5 reposts", "likes 1234 likes"}},
		{"refreshTimes works in a shadow root", got.Time, "1 hour ago"},
		{"cards.css styles the shadow root", got.Styled, "solid"},
		{"the kiosk makes no links", got.KioskLinks, 0},
		{"the kiosk shows every default part", got.KioskParts, 3},
		{"the kiosk shows no counts by default", got.KioskCounts, 0},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.what, c.got, c.want)
		}
	}
	str := func(p *string) string {
		if p == nil {
			return "null"
		}
		return *p
	}
	wantSafe := []string{"https://chorus.example/x", "null", "null", "https://ok.example/a", "null"}
	if len(got.Safe) != len(wantSafe) {
		t.Errorf("safeURL cases: %d results", len(got.Safe))
	}
	for i, p := range got.Safe {
		if i < len(wantSafe) && str(p) != wantSafe[i] {
			t.Errorf("safeURL case %d: %s, want %s", i, str(p), wantSafe[i])
		}
	}
	w.Check(t)
}
