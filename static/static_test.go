package static

import (
	"io/fs"
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
		"assets/wall.css",
		"assets/home.js",
		"assets/wall.js",
		"assets/favicon.svg",
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
	for _, page := range []string{"index.html", "wall.html"} {
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

// TestScriptsUseNoHTMLSinks keeps post content out of the HTML parser: the
// pages build the DOM with createElement and textContent only.
func TestScriptsUseNoHTMLSinks(t *testing.T) {
	sinks := []string{
		"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "createContextualFragment",
		"DOMParser", "srcdoc", "eval(", "new Function", `setAttribute("style"`, `setAttribute("on`,
	}
	scripts, err := fs.Glob(FS(), "assets/*.js")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts found: %v", err)
	}
	for _, name := range scripts {
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
