// Package bundle builds embed.js, the widget script brands load with one
// tag, from the ES modules the kiosk wall uses (widget.js and what it
// imports: protocol.js, posts.js, cards.js, masonry.js, ...), with esbuild's
// Go API: no Node.js. The stylesheets a widget adopts in its shadow root are
// minified and inlined as strings, so the widget needs no second request
// and no inline <style> (constructed stylesheets work under a page's CSP).
//
// `go generate ./static` writes static/web/embed.js; the file is committed,
// and a test fails when it differs from what Build makes now.
package bundle

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// Styles are the stylesheets every widget adopts, in order, from the assets
// folder.
var Styles = []string{"theme.css", "cards.css", "masonry.css", "widget.css"}

// stylesModule is the import the entry reads the inlined CSS from.
const stylesModule = "chorus:styles"

// entry defines <chorus-wall> with the script's own origin: the Chorus
// server it was loaded from (document.currentScript, or the script tag
// that loaded embed.js when a page moved it).
const entry = `import { defineChorusWall } from "./widget.js";
import styles from "` + stylesModule + `";

const script = document.currentScript || document.querySelector('script[src$="/embed.js"]');
if (script && script.src) {
  defineChorusWall({
    origin: script.src,
    styles,
    stylesheets: %s,
  });
} else {
  console.error("chorus-wall: cannot tell which Chorus server embed.js came from; load it with <script src=\"https://<chorus>/embed.js\" async>");
}
`

const banner = "/* Chorus widget: <chorus-wall>. Built from static/web/assets by static/bundle (go generate ./static); do not edit. */"

// Build bundles the widget from the assets folder and returns embed.js.
func Build(assets string) ([]byte, error) {
	dir, err := filepath.Abs(assets)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, name := range Styles {
		paths = append(paths, strconv.Quote("/assets/"+name))
	}
	res := api.Build(api.BuildOptions{
		Stdin: &api.StdinOptions{
			Contents:   fmt.Sprintf(entry, "["+strings.Join(paths, ", ")+"]"),
			ResolveDir: dir,
			Sourcefile: "embed.entry.js",
			Loader:     api.LoaderJS,
		},
		Bundle:            true,
		Format:            api.FormatIIFE,
		Target:            api.ES2020,
		Platform:          api.PlatformBrowser,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		Charset:           api.CharsetUTF8,
		LegalComments:     api.LegalCommentsNone,
		Banner:            map[string]string{"js": banner},
		Write:             false,
		LogLevel:          api.LogLevelSilent,
		Plugins:           []api.Plugin{stylesPlugin(dir)},
	})
	if len(res.Errors) > 0 {
		return nil, fmt.Errorf("bundle: %s", messages(res.Errors))
	}
	if len(res.OutputFiles) != 1 {
		return nil, fmt.Errorf("bundle: esbuild made %d files, want 1", len(res.OutputFiles))
	}
	return res.OutputFiles[0].Contents, nil
}

// stylesPlugin answers the entry's import of chorus:styles with the
// minified stylesheets as an array of strings.
func stylesPlugin(dir string) api.Plugin {
	return api.Plugin{
		Name: "chorus-styles",
		Setup: func(b api.PluginBuild) {
			b.OnResolve(api.OnResolveOptions{Filter: "^" + stylesModule + "$"}, func(args api.OnResolveArgs) (api.OnResolveResult, error) {
				return api.OnResolveResult{Path: stylesModule, Namespace: "chorus"}, nil
			})
			b.OnLoad(api.OnLoadOptions{Filter: ".*", Namespace: "chorus"}, func(api.OnLoadArgs) (api.OnLoadResult, error) {
				var parts []string
				var watch []string
				for _, name := range Styles {
					path := filepath.Join(dir, name)
					css, err := os.ReadFile(path)
					if err != nil {
						return api.OnLoadResult{}, err
					}
					out := api.Transform(string(css), api.TransformOptions{
						Loader: api.LoaderCSS, MinifyWhitespace: true, MinifySyntax: true,
						Sourcefile: name, LegalComments: api.LegalCommentsNone, LogLevel: api.LogLevelSilent,
						// Keep modern CSS (nesting-free color-mix, container units)
						// as written; browsers without it fall back per rule.
						Engines: []api.Engine{{Name: api.EngineChrome, Version: "111"}, {Name: api.EngineFirefox, Version: "113"}, {Name: api.EngineSafari, Version: "16.4"}},
					})
					if len(out.Errors) > 0 {
						return api.OnLoadResult{}, errors.New(name + ": " + messages(out.Errors))
					}
					parts = append(parts, strconv.Quote(strings.TrimSpace(string(out.Code))))
					watch = append(watch, path)
				}
				js := "export default [" + strings.Join(parts, ",") + "];"
				return api.OnLoadResult{Contents: &js, Loader: api.LoaderJS, WatchFiles: watch}, nil
			})
		},
	}
}

func messages(ms []api.Message) string {
	var out []string
	for _, m := range ms {
		s := m.Text
		if m.Location != nil {
			s = fmt.Sprintf("%s:%d:%d: %s", m.Location.File, m.Location.Line, m.Location.Column, m.Text)
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}
