package static

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
)

func TestFSHoldsEveryPageAndAsset(t *testing.T) {
	files := FS()
	for _, name := range []string{
		"index.html",
		"wall.html",
		"assets/chorus.css",
		"assets/theme.css",
		"assets/cards.css",
		"assets/masonry.css",
		"assets/wall.css",
		"assets/home.js",
		"assets/text.js",
		"assets/posts.js",
		"assets/protocol.js",
		"assets/cards.js",
		"assets/masonry.js",
		"assets/wall.js",
		"assets/favicon.svg",
		"login.html",
		"console.html",
		"assets/console.css",
		"assets/login.js",
		"assets/console.js",
		"assets/api.js",
		"assets/dom.js",
		"assets/forms.js",
		"assets/keyboard.js",
		"assets/queue.js",
		"assets/moderate.js",
		"assets/erase.js",
		"assets/rights.js",
		"assets/overview.js",
		"assets/screen.js",
		"assets/settings.js",
		"assets/rules.js",
		"assets/audit.js",
		"assets/sources.js",
		"assets/people.js",
		"assets/pace.js",
		"assets/profile.js",
		"assets/layouts.js",
		"assets/widget.js",
		"assets/widget.css",
		"assets/embed-page.js",
		"assets/embed.css",
		"embed.html",
		"embed.js",
		"overlay.html",
		"assets/overlay.js",
		"assets/overlay.css",
	} {
		data, err := fs.ReadFile(files, name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(data) == 0 {
			t.Errorf("%s is empty", name)
		}
	}
}

// TestContentTypes: modules load only with a JavaScript type, so every file
// is served with a type from ContentType, never guessed by the host.
func TestContentTypes(t *testing.T) {
	err := fs.WalkDir(FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ContentType(name) == "" {
			t.Errorf("%s: no content type", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := ContentType("assets/wall.js"); got != "text/javascript; charset=utf-8" {
		t.Errorf("wall.js served as %q", got)
	}
}

var (
	tagRe       = regexp.MustCompile(`(?is)<(script|style|link|img|a)\b[^>]*>`)
	attrRe      = regexp.MustCompile(`(?i)\s(src|href)="([^"]*)"`)
	inlineAttrs = regexp.MustCompile(`(?i)<[^>]*\s(style|on[a-z]+)\s*=`)
)

// TestPagesKeepToTheCSP checks what the Content-Security-Policy would block:
// inline scripts, <style> blocks, style= and on*= attributes, and references
// that do not resolve inside the embedded files.
func TestPagesKeepToTheCSP(t *testing.T) {
	files := FS()
	pages, err := fs.Glob(files, "*.html")
	if err != nil || len(pages) == 0 {
		t.Fatalf("no pages found: %v", err)
	}
	for _, page := range pages {
		t.Run(page, func(t *testing.T) {
			data, err := fs.ReadFile(files, page)
			if err != nil {
				t.Fatal(err)
			}
			html := string(data)
			if m := inlineAttrs.FindString(html); m != "" {
				t.Errorf("inline style or event handler attribute: %q", m)
			}
			for _, tag := range tagRe.FindAllStringSubmatch(html, -1) {
				name := strings.ToLower(tag[1])
				if name == "style" {
					t.Errorf("inline <style> block: %q", tag[0])
					continue
				}
				refs := attrRe.FindAllStringSubmatch(tag[0], -1)
				if name == "script" && len(refs) == 0 {
					t.Errorf("inline <script>: %q", tag[0])
				}
				for _, ref := range refs {
					checkRef(t, files, tag[0], ref[2])
				}
			}
		})
	}
}

// checkRef accepts a site path or a fragment; an /assets/ path must name an
// embedded file.
func checkRef(t *testing.T, files fs.FS, tag, ref string) {
	t.Helper()
	switch {
	case strings.HasPrefix(ref, "#"):
	case strings.HasPrefix(ref, "/assets/"):
		if _, err := fs.Stat(files, strings.TrimPrefix(ref, "/")); err != nil {
			t.Errorf("%q: %v", tag, err)
		}
	case strings.HasPrefix(ref, "/") && !strings.HasPrefix(ref, "//"):
	default:
		t.Errorf("%q: reference %q is not a site path", tag, ref)
	}
}

// scripts returns every script the pages load, modules included.
func scripts(t *testing.T) []string {
	t.Helper()
	names, err := fs.Glob(FS(), "assets/*.js")
	if err != nil || len(names) == 0 {
		t.Fatalf("no scripts found: %v", err)
	}
	return names
}

// TestBundleUsesNoHTMLSinks: the widget bundle (built from the modules)
// keeps to the same rules.
func TestBundleUsesNoHTMLSinks(t *testing.T) {
	data, err := fs.ReadFile(FS(), "embed.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "DOMParser", "srcdoc", "eval(", "new Function"} {
		if strings.Contains(string(data), sink) {
			t.Errorf("embed.js uses %s", sink)
		}
	}
}

// TestScriptsUseNoHTMLSinks keeps post content out of the HTML parser: every
// script and module builds the DOM with createElement and textContent only.
func TestScriptsUseNoHTMLSinks(t *testing.T) {
	sinks := []string{
		"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "createContextualFragment",
		"DOMParser", "srcdoc", "setHTML", "parseHTMLUnsafe", "eval(", "new Function", "setTimeout(\"",
		"setInterval(\"", `setAttribute("style"`, `setAttribute("on`, `setAttribute("href"`, `setAttribute("src"`,
		"import(",
	}
	for _, name := range scripts(t) {
		t.Run(name, func(t *testing.T) {
			data, err := fs.ReadFile(FS(), name)
			if err != nil {
				t.Fatal(err)
			}
			for _, sink := range sinks {
				if strings.Contains(string(data), sink) {
					t.Errorf("uses %s", sink)
				}
			}
		})
	}
}

var (
	importRe = regexp.MustCompile(`(?m)^\s*(?:import|export)\b[^;'"]*?\bfrom\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']`)
	moduleRe = regexp.MustCompile(`<script\b[^>]*\btype="module"[^>]*\bsrc="([^"]+)"`)
	cssURLRe = regexp.MustCompile(`(?i)@import|url\(\s*['"]?(?:https?:)?//`)
)

// TestModulesImportOnlyEmbeddedFiles: every import is a relative path to an
// embedded module (no CDN, no bare names a build step would resolve), every
// module a page loads exists, and no stylesheet pulls in anything.
func TestModulesImportOnlyEmbeddedFiles(t *testing.T) {
	files := FS()
	for _, name := range scripts(t) {
		data, _ := fs.ReadFile(files, name)
		for _, m := range importRe.FindAllStringSubmatch(string(data), -1) {
			spec := m[1] + m[2]
			if !strings.HasPrefix(spec, "./") || !strings.HasSuffix(spec, ".js") {
				t.Errorf("%s imports %q: imports must be ./name.js", name, spec)
				continue
			}
			target := path.Join(path.Dir(name), spec)
			if _, err := fs.Stat(files, target); err != nil {
				t.Errorf("%s imports %q: %v", name, spec, err)
			}
		}
	}
	pages, _ := fs.Glob(files, "*.html")
	modules := 0
	for _, page := range pages {
		data, _ := fs.ReadFile(files, page)
		for _, m := range moduleRe.FindAllStringSubmatch(string(data), -1) {
			modules++
			if _, err := fs.Stat(files, strings.TrimPrefix(m[1], "/")); err != nil {
				t.Errorf("%s loads %s: %v", page, m[1], err)
			}
		}
	}
	if modules == 0 {
		t.Error("no page loads a module")
	}
	sheets, _ := fs.Glob(files, "assets/*.css")
	for _, name := range sheets {
		data, _ := fs.ReadFile(files, name)
		if m := cssURLRe.FindString(string(data)); m != "" {
			t.Errorf("%s loads from elsewhere: %q", name, m)
		}
	}
}
