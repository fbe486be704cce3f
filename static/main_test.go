package static_test

import (
	"os"
	"testing"

	bt "github.com/chorus-wall/chorus/static/browsertest"
)

// TestMain shares one Chromium between every browser test of the package.
func TestMain(m *testing.M) { os.Exit(bt.Run(m)) }
