// Command chorus gathers public posts from social networks, curates them and
// pushes the curated streams live to walls, widgets and overlays.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// cli is the command line.
type cli struct {
	Serve       serveCmd       `cmd:"" help:"Run Chorus: gather, curate and show streams."`
	Index       indexCmd       `cmd:"" help:"Manage the search index."`
	Ban         banCmd         `cmd:"" help:"Ban an author from a stream: their posts leave every screen and new ones are rejected."`
	Remove      removeCmd      `cmd:"" help:"Take a post off every screen of a stream."`
	Pause       pauseCmd       `cmd:"" help:"Panic button: every screen of a stream shows a safe slate."`
	Resume      resumeCmd      `cmd:"" help:"Bring a paused stream's posts back on screen."`
	Erase       eraseCmd       `cmd:"" help:"Erase everything Chorus holds about an author (GDPR Art. 17) and refuse their future posts."`
	Export      exportCmd      `cmd:"" help:"Export everything Chorus holds about an author as JSON (GDPR Art. 15)."`
	Retention   retentionCmd   `cmd:"" help:"Show how long each stream keeps its posts, what it keeps now, and the last retention sweep."`
	Compliance  complianceCmd  `cmd:"" help:"Show the compliance sweep of each polled source (posts re-checked at their network, taken down when gone); --now sweeps at once."`
	ViewerToken viewerTokenCmd `cmd:"" name:"viewer-token" help:"Mint a viewer token that opens a private stream (viewer_token: required) until it expires."`
	User        userCmd        `cmd:"" help:"Manage users: people who sign in to the console."`
	Key         keyCmd         `cmd:"" help:"Manage API keys: credentials for scripts and integrations."`
	Version     versionCmd     `cmd:"" help:"Print the version."`
}

// env is what every command gets.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// usageError marks errors in how chorus was called (bad flags, bad config).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// run parses args and runs the command, returning the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runWith(ctx, args, os.Stdin, stdout, stderr)
}

// runWith is run reading standard input from stdin.
func runWith(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var c cli
	exitCode := -1
	parser, err := kong.New(&c,
		kong.Name("chorus"),
		kong.Description("Chorus: a self-hosted social wall. Gathers public posts, curates them, shows them live."),
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exitCode = code }),
	)
	if err != nil {
		fmt.Fprintln(stderr, "chorus:", err)
		return exitFailed
	}
	kctx, err := parser.Parse(args)
	if exitCode >= 0 { // --help
		return exitCode
	}
	if err != nil {
		fmt.Fprintln(stderr, "chorus:", err)
		return exitUsage
	}
	if err := kctx.Run(&env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}); err != nil {
		fmt.Fprintln(stderr, "chorus:", err)
		var ue usageError
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitFailed
	}
	return exitOK
}
