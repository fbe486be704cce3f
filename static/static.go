// Package static holds Chorus's web surfaces: the home page and the kiosk
// wall. They are plain HTML, CSS and JavaScript with no build step, embedded
// in the binary, and written for a strict Content-Security-Policy: no inline
// scripts or styles, and post content reaches the page only through DOM text
// APIs.
package static

import (
	"embed"
	"io/fs"
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
