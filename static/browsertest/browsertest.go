// Package browsertest runs Chorus's pages in a real headless Chromium for
// tests: it starts the browser, watches the page for exceptions, dialogs and
// CSP violations, evaluates and waits for JavaScript conditions, sets the
// viewport, and keeps screenshots as test artifacts.
//
// Without Chromium a test skips, except under CI (the CI variable set), where
// that is a failure. Screenshots go to $CHORUS_ARTIFACTS/<test name>/ when that
// variable is set, and otherwise to <temp dir>/chorus-artifacts/<test name>/;
// the test log names the file either way, and the files are kept.
package browsertest

import (
	"context"
	_ "embed"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Timeout bounds every condition a test waits for.
const Timeout = 15 * time.Second

// New starts headless Chromium for one test, with a 1920x1080 window, and
// returns a context for chromedp calls. The browser stops when the test ends.
func New(t *testing.T) context.Context {
	t.Helper()
	path := chromium(t)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), options(path, t.TempDir())...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	ctx, cancel := context.WithTimeout(ctx, 8*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// chromium finds the browser, or skips the test (fails it under CI).
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path != "" {
			break
		}
		path, _ = exec.LookPath(name)
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("Chromium is required under CI: apt-get install chromium")
		}
		t.Skip("Chromium not found; install it to run browser tests")
	}
	return path
}

func options(path, dataDir string) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("hide-scrollbars", false),
		chromedp.WindowSize(1920, 1080),
		chromedp.UserDataDir(dataDir),
	)
}

// shared is the one Chromium that Tab opens tabs in.
var shared struct {
	mu      sync.Mutex
	browser context.Context
	stop    func()
}

// Tab returns a new tab of the one headless Chromium this test binary
// shares (started by the first call), in a browser context of its own: its
// cookies, storage and cache are its own, as in a separate browser. The tab
// closes when the test ends. A test binary that calls Tab calls CloseShared
// from TestMain after m.Run.
func Tab(t *testing.T) context.Context {
	t.Helper()
	path := chromium(t)
	shared.mu.Lock()
	if shared.browser == nil {
		dir, err := os.MkdirTemp("", "chorus-chromium-")
		if err != nil {
			shared.mu.Unlock()
			t.Fatal(err)
		}
		// On a machine loaded by other builds Chromium now and then exits
		// before it listens: it is tried three times.
		for attempt := 1; shared.browser == nil; attempt++ {
			actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), options(path, dir)...)
			bctx, cancelBrowser := chromedp.NewContext(actx)
			if err := chromedp.Do(bctx); err != nil {
				cancelBrowser()
				cancelAlloc()
				if attempt < 3 {
					t.Logf("Chromium did not start (attempt %d, trying again): %v", attempt, err)
					continue
				}
				os.RemoveAll(dir)
				shared.mu.Unlock()
				t.Fatalf("start Chromium (%d attempts): %v", attempt, err)
			}
			shared.browser = bctx
			shared.stop = func() { cancelBrowser(); cancelAlloc(); os.RemoveAll(dir) }
		}
	}
	browser := shared.browser
	shared.mu.Unlock()
	ctx, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancelTab)
	ctx, cancel := context.WithTimeout(ctx, 8*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// CloseShared stops the Chromium that Tab started, if any.
func CloseShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.stop != nil {
		shared.stop()
		shared.browser, shared.stop = nil, nil
	}
}

// Run runs a test binary's tests and then stops the Chromium that Tab
// shares: func TestMain(m *testing.M) { os.Exit(browsertest.Run(m)) }.
func Run(m *testing.M) int {
	code := m.Run()
	CloseShared()
	return code
}

// Watcher records what no page of ours may ever cause: dialogs, uncaught
// exceptions and Content-Security-Policy violations.
type Watcher struct {
	mu       sync.Mutex
	problems []string
}

func (w *Watcher) add(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.problems = append(w.problems, s)
}

// Check fails the test if the page misbehaved so far.
func (w *Watcher) Check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.problems) > 0 {
		t.Fatalf("the page misbehaved:\n%s", strings.Join(w.problems, "\n"))
	}
}

// Watch starts recording problems on the page of ctx; call it before the
// first navigation.
func Watch(t *testing.T, ctx context.Context) *Watcher {
	t.Helper()
	w := &Watcher{}
	err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			w.add("dialog opened: " + e.Message)
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		case *runtime.EventExceptionThrown:
			w.add("exception: " + e.ExceptionDetails.Text + " " + describe(e))
		case *runtime.EventConsoleAPICalled:
			for _, a := range e.Args {
				if strings.Contains(string(a.Value), "CSP violation") {
					w.add("CSP violation: " + string(a.Value))
				}
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `document.addEventListener('securitypolicyviolation', e => console.error('CSP violation ' + e.violatedDirective + ' ' + e.sample))`,
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func describe(e *runtime.EventExceptionThrown) string {
	if e.ExceptionDetails.Exception != nil {
		return e.ExceptionDetails.Exception.Description
	}
	return ""
}

// Eval runs a JavaScript expression and decodes its JSON value into T.
func Eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// Do runs chromedp actions in order, failing the test on error.
func Do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// Navigate loads url and waits for it to load.
func Navigate(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	Do(t, ctx, chromedp.Navigate(url))
}

// WaitJS retries a JavaScript condition until it is true, failing the test
// after Timeout.
func WaitJS(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(Timeout)
	for {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond)); err == nil && ok {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s: %s", what, cond)
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		}
	}
}

// Viewport is a screen a page is looked at on.
type Viewport struct {
	Name          string // used in screenshot file names: "phone", "desktop", "4k"
	Width, Height int64
	Scale         float64 // device pixel ratio; 0 means 1
	Mobile        bool    // emulate a touch phone
}

// The screens every page is checked on.
var (
	Phone   = Viewport{Name: "phone", Width: 390, Height: 844, Scale: 2, Mobile: true}
	Desktop = Viewport{Name: "desktop", Width: 1920, Height: 1080}
	UHD     = Viewport{Name: "4k", Width: 3840, Height: 2160}
)

// Emulate sets the page's viewport; reload or navigate after it.
func Emulate(t *testing.T, ctx context.Context, v Viewport) {
	t.Helper()
	scale := v.Scale
	if scale == 0 {
		scale = 1
	}
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(scale)}
	if v.Mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	Do(t, ctx, chromedp.EmulateViewport(v.Width, v.Height, opts...))
}

// ArtifactDir returns the directory that keeps this test's artifacts,
// creating it: $CHORUS_ARTIFACTS/<test>/ or <temp dir>/chorus-artifacts/<test>/.
func ArtifactDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("CHORUS_ARTIFACTS")
	if root == "" {
		root = filepath.Join(os.TempDir(), "chorus-artifacts")
	}
	dir := filepath.Join(root, safeName(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts: %v", err)
	}
	return dir
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func safeName(s string) string { return strings.Trim(unsafeChars.ReplaceAllString(s, "_"), "_") }

// Screenshot saves what the viewport shows as <ArtifactDir>/<name>.png and
// logs the path.
func Screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(ArtifactDir(t), safeName(name)+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	t.Logf("screenshot: %s", path)
	return path
}

//go:embed axe/axe.min.js
var axeSource string

// AxeVersion is the vendored axe-core's version (see axe/README.md).
const AxeVersion = "4.14.1"

// Axe runs axe-core's WCAG 2.0, 2.1 and 2.2 A and AA rules (and best
// practices) on the page, inside open shadow roots too, limited to the
// elements matching include (a CSS selector; "" for the whole page), and
// returns each violation as "rule (impact): help: targets". The script is
// evaluated through the DevTools protocol, so the page's CSP does not apply
// to it and the page never loads it.
func Axe(t *testing.T, ctx context.Context, include string) []string {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axeSource+";true")); err != nil {
		t.Fatalf("load axe-core: %v", err)
	}
	ctxArg := "document"
	if include != "" {
		ctxArg = "{ include: [[" + jsString(include) + "]] }"
	}
	expr := `(async () => {
	  const r = await axe.run(` + ctxArg + `, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] }, resultTypes: ['violations'] });
	  return r.violations.map((v) => v.id + ' (' + v.impact + '): ' + v.help + ': ' + v.nodes.slice(0, 5).map((n) => JSON.stringify(n.target) + ' ' + (n.failureSummary || '').replace(/\s+/g, ' ')).join(' | '));
	})()`
	v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe: %v", err)
	}
	return v
}

func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
