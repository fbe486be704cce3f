// Command embedgen writes static/web/embed.js (see package bundle). Run it
// with `go generate ./static` from the repository root.
package main

import (
	"fmt"
	"os"

	"github.com/chorus-wall/chorus/static/bundle"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: embedgen ASSETS_DIR OUT_FILE")
		os.Exit(2)
	}
	js, err := bundle.Build(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[2], js, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
