// Package static holds Chorus's web surfaces: the home page and the kiosk
// wall. They are plain HTML, CSS and JavaScript with no build step (the
// scripts are ES modules the browser loads as they are), embedded in the
// binary, and written for a strict Content-Security-Policy: no inline
// scripts or styles, and post content reaches the page only through DOM text
// APIs.
package static

//go:generate go run ./bundle/embedgen web/assets web/embed.js

import (
	"embed"
	"io/fs"
	"path"
)

//go:embed web
var web embed.FS

// FS returns the web surfaces rooted at the site: index.html, wall.html and
// the assets folder (served under /assets/).
func FS() fs.FS {
	sub, err := fs.Sub(web, "web")
	if err != nil {
		panic("static: " + err.Error()) // cannot happen: "web" is a valid, embedded path
	}
	return sub
}

// ContentType returns the media type to serve a file of FS as, from its
// extension, or "" for a type this package does not serve. Browsers load an
// ES module only with a JavaScript type, so the server sets it from here
// rather than from the host's MIME tables.
func ContentType(name string) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".json":
		return "application/json"
	case ".png":
		return "image/png"
	case ".woff2":
		return "font/woff2"
	}
	return ""
}
