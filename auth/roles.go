// Package auth says who is calling Chorus and what they may do: users with
// roles, argon2id passwords, server-side sessions with CSRF tokens, API
// keys, single sign-on over OpenID Connect, and the bootstrap admin token.
// Everything it keeps lives in the chorus_config bucket under "auth.", so
// every node sees a new user, a revoked key or an ended session at once.
package auth

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/chorus-wall/chorus/post"
)

// Role is what a person or key may do. Each role can do everything the
// roles below it can.
type Role string

// The roles, from least to most.
const (
	// Viewer reads: queues, search, audit, settings.
	Viewer Role = "viewer"
	// Moderator acts on posts and authors, and pauses and resumes screens.
	Moderator Role = "moderator"
	// Manager changes a stream's settings, rules, filters and sources.
	Manager Role = "manager"
	// Owner does everything: users, keys, creating and deleting streams.
	Owner Role = "owner"
)

// Roles lists every role, least first.
var Roles = []Role{Viewer, Moderator, Manager, Owner}

func (r Role) rank() int { return slices.Index(Roles, r) }

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return r.rank() >= 0 }

// AtLeast reports whether r can do what need can.
func (r Role) AtLeast(need Role) bool { return r.Valid() && r.rank() >= need.rank() }

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		return "", fmt.Errorf("%w: role %q must be one of viewer, moderator, manager, owner", ErrBadInput, s)
	}
	return r, nil
}

// Grant is a role on every stream (Streams empty) or on the streams listed.
type Grant struct {
	Role    Role     `json:"role"`
	Streams []string `json:"streams"`
}

// AllStreams reports whether the grant covers every stream, including
// streams created later.
func (g Grant) AllStreams() bool { return len(g.Streams) == 0 }

// Covers reports whether the grant includes stream.
func (g Grant) Covers(stream string) bool {
	return g.AllStreams() || slices.Contains(g.Streams, stream)
}

// Allows reports whether the grant may do what need can on stream; an
// empty stream asks about something that belongs to no stream.
func (g Grant) Allows(need Role, stream string) bool {
	if !g.Role.AtLeast(need) {
		return false
	}
	return stream == "" || g.Covers(stream)
}

// Normalize checks the grant, sorts and dedupes its streams and returns a
// copy with Streams never nil.
func (g Grant) Normalize() (Grant, error) {
	if !g.Role.Valid() {
		return g, fmt.Errorf("%w: role %q must be one of viewer, moderator, manager, owner", ErrBadInput, g.Role)
	}
	out := Grant{Role: g.Role, Streams: []string{}}
	for _, s := range g.Streams {
		s = strings.TrimSpace(s)
		if !post.IsToken(s) {
			return g, fmt.Errorf("%w: stream %q is not a stream id (1-64 of a-z, 0-9, '-' and '_')", ErrBadInput, s)
		}
		if !slices.Contains(out.Streams, s) {
			out.Streams = append(out.Streams, s)
		}
	}
	slices.Sort(out.Streams)
	if out.Role == Owner && len(out.Streams) > 0 {
		return g, fmt.Errorf("%w: an owner has every stream; leave streams empty", ErrBadInput)
	}
	return out, nil
}

// String is "moderator on a, b" or "owner on every stream".
func (g Grant) String() string {
	if g.AllStreams() {
		return string(g.Role) + " on every stream"
	}
	return string(g.Role) + " on " + strings.Join(g.Streams, ", ")
}

// Errors callers can tell apart.
var (
	// ErrBadInput marks a request that names something wrongly; its message
	// says what.
	ErrBadInput = errors.New("bad input")
	// ErrNotFound: no such user, key or session.
	ErrNotFound = errors.New("not found")
	// ErrExists: a user or key of that name exists already.
	ErrExists = errors.New("exists already")
	// ErrLastOwner: the change would leave no owner account.
	ErrLastOwner = errors.New("the last owner cannot be removed or demoted; make another owner first")
)

// CheckName checks a user or key name: 1-64 of a-z, 0-9, '.', '-' and
// '_', starting and ending with a letter or digit. Names are stored as
// keys of the config bucket and shown in the audit as they are.
func CheckName(kind, name string) error {
	ok := name != "" && len(name) <= 64 && !strings.Contains(name, "..")
	for i, r := range name {
		alnum := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		if !alnum && ((r != '.' && r != '-' && r != '_') || i == 0 || i == len(name)-1) {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("%w: %s name %q must be 1-64 of a-z, 0-9, '.', '-' and '_', starting and ending with a letter or digit", ErrBadInput, kind, name)
	}
	return nil
}
