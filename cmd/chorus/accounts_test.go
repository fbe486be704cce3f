package main

import (
	"regexp"
	"strings"
	"testing"
)

const cliPassword = "a long and memorable passphrase"

// cliRun runs chorus with stdin and returns the exit code, standard output
// and standard error.
func cliRun(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut strings.Builder
	code := runWith(t.Context(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// With no Chorus running, the user and key commands work on the data
// directory, holding its lock.
func TestAccountCommandsOnTheDataDirectory(t *testing.T) {
	dir := t.TempDir()
	data := []string{"--data", dir}
	must := func(stdin string, args ...string) string {
		t.Helper()
		code, out, errOut := cliRun(t, stdin, append(args, data...)...)
		if code != exitOK {
			t.Fatalf("chorus %v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out
	}
	if out := must(cliPassword+"\n", "user", "add", "Ana", "--role", "moderator", "--streams", "summit,expo"); out != "user ana added: moderator on expo, summit\n" {
		t.Fatalf("user add: %q", out)
	}
	must(cliPassword, "user", "add", "root", "--role", "owner")
	list := must("", "user", "list")
	if !regexp.MustCompile(`(?m)^ana\s+moderator\s+expo,summit\s+\S+ \S+\s+never$`).MatchString(list) ||
		!regexp.MustCompile(`(?m)^root\s+owner\s+\(all\)`).MatchString(list) {
		t.Fatalf("user list:\n%s", list)
	}

	code, out, errOut := cliRun(t, "", append([]string{"key", "create", "wall-bot", "--role", "viewer"}, data...)...)
	if code != exitOK || !regexp.MustCompile(`^chorus_wall-bot_[0-9a-f]{64}\n$`).MatchString(out) || !strings.Contains(errOut, "not shown again") {
		t.Fatalf("key create: exit %d %q %q", code, out, errOut)
	}
	if keys := must("", "key", "list"); !strings.Contains(keys, "wall-bot") || !strings.Contains(keys, "cli") || strings.Contains(keys, out[:20]) {
		t.Fatalf("key list:\n%s", keys)
	}
	must(otherCLIPassword+"\r\n", "user", "passwd", "ana")
	must("", "key", "revoke", "wall-bot")
	if keys := must("", "key", "list"); strings.Contains(keys, "wall-bot") {
		t.Fatalf("revoked key listed:\n%s", keys)
	}

	// Mistakes are named, exit 2, and change nothing.
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{cliPassword, []string{"user", "add", "ben", "--role", "admin"}, "--role"},
		{"short", []string{"user", "add", "ben", "--role", "viewer"}, "at least 15 characters"},
		{"", []string{"user", "add", "ben", "--role", "viewer"}, "no password on standard input"},
		{cliPassword, []string{"user", "add", "Ben Smith", "--role", "viewer"}, `user name "ben smith"`},
		{cliPassword, []string{"user", "add", "ben", "--role", "viewer", "--streams", "Not A Stream"}, "not a stream id"},
		{cliPassword, []string{"user", "add", "ana", "--role", "viewer"}, ""},
	} {
		code, out, errOut := cliRun(t, tc.stdin, append(tc.args, data...)...)
		if code == exitOK || !strings.Contains(errOut, tc.want) {
			t.Errorf("chorus %v: exit %d %q %q, want an error naming %q", tc.args, code, out, errOut, tc.want)
		}
	}
	if code, _, errOut := cliRun(t, "", append([]string{"user", "remove", "root"}, data...)...); code != exitFailed || !strings.Contains(errOut, "last owner") {
		t.Fatalf("removing the last owner: exit %d %q", code, errOut)
	}
	must("", "user", "remove", "ana")
	if list := must("", "user", "list"); strings.Contains(list, "ana") {
		t.Fatalf("removed user listed:\n%s", list)
	}
}

const otherCLIPassword = "another long passphrase here"
