package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// How a session was started.
const (
	ViaPassword = "password"
	ViaSSO      = "sso"
)

// Session is a signed-in browser, stored server-side. The browser holds
// only a random secret in the chorus_session cookie; the bucket holds its
// SHA-256, which is also the session's public ID.
type Session struct {
	// ID is the SHA-256 of the cookie's secret: it names the session in
	// lists and to revoke it, and cannot be used to sign in.
	ID   string `json:"id"`
	User string `json:"user"`
	Via  string `json:"via"`
	// SSO is the grant of a single sign-on session, from the identity
	// provider's claims at sign-in; password sessions read the user's.
	SSO *Grant `json:"sso,omitempty"`
	// CSRF must come back in the X-CSRF-Token header of every call that
	// changes state.
	CSRF      string    `json:"csrf"`
	Created   time.Time `json:"created"`
	LastSeen  time.Time `json:"last_seen"`
	Confirmed time.Time `json:"confirmed"`
	Address   string    `json:"address,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
}

// Ways a session ends.
var (
	ErrNoSession = errors.New("not signed in")
	ErrExpired   = errors.New("the session has expired; sign in again")
)

// Expires is when the session ends if it stays in use.
func (s *Store) Expires(se Session) time.Time {
	end, idle := se.Created.Add(s.opts.MaxAge), se.LastSeen.Add(s.opts.IdleTimeout)
	if idle.Before(end) {
		return idle
	}
	return end
}

// expired says why se is over at now, or "".
func (s *Store) expired(se Session, now time.Time) string {
	switch {
	case !now.Before(se.Created.Add(s.opts.MaxAge)):
		return "max age"
	case !now.Before(se.LastSeen.Add(s.opts.IdleTimeout)):
		return "idle"
	}
	return ""
}

// startSession stores a new session and returns it with the secret the
// cookie carries. Every sign-in gets a new secret, so a session id planted
// before sign-in is worth nothing after it.
func (s *Store) startSession(ctx context.Context, user, via string, sso *Grant, address, userAgent string) (Session, string, error) {
	secret := randomToken(32)
	now := s.now()
	se := Session{
		ID: digest(secret), User: user, Via: via, SSO: sso, CSRF: randomToken(32),
		Created: now, LastSeen: now, Confirmed: now,
		Address: address, UserAgent: truncate(userAgent, 200),
	}
	if err := s.create(ctx, sessionPrefix+se.ID, se); err != nil {
		return Session{}, "", err
	}
	return se, secret, nil
}

// Login checks a password and starts a session. A wrong name or password
// is ErrBadLogin either way.
func (s *Store) Login(ctx context.Context, name, password, address, userAgent string) (Principal, string, error) {
	u, ok, err := s.checkPassword(ctx, name, password, true)
	if err != nil {
		return Principal{}, "", err
	}
	if !ok {
		return Principal{}, "", ErrBadLogin
	}
	se, secret, err := s.startSession(ctx, u.Name, ViaPassword, nil, address, userAgent)
	if err != nil {
		return Principal{}, "", err
	}
	s.log.Info("signed in", "user", u.Name, "address", address)
	return Principal{Name: u.Name, Kind: KindUser, Grant: u.Grant, Session: &se}, secret, nil
}

// ErrBadLogin is the one answer to a wrong user name or password.
var ErrBadLogin = errors.New("wrong user name or password")

// Authenticate returns the principal of the session whose cookie holds
// secret, and the session. It ends expired sessions and those of removed
// users, and notes the session's use (at most once a minute).
func (s *Store) Authenticate(ctx context.Context, secret string) (Principal, Session, error) {
	if len(secret) != 64 {
		return Principal{}, Session{}, ErrNoSession
	}
	key := sessionPrefix + digest(secret)
	var se Session
	rev, err := s.get(ctx, key, &se)
	if errors.Is(err, ErrNotFound) {
		return Principal{}, Session{}, ErrNoSession
	}
	if err != nil {
		return Principal{}, Session{}, err
	}
	now := s.now()
	if why := s.expired(se, now); why != "" {
		_ = s.kv.Purge(ctx, key)
		return Principal{}, Session{}, ErrExpired
	}
	p := Principal{Name: se.User, Kind: KindSSO}
	if se.Via == ViaSSO {
		if se.SSO == nil {
			return Principal{}, Session{}, ErrNoSession
		}
		p.Grant = *se.SSO
	} else {
		rec, _, err := s.userRecord(ctx, se.User)
		if errors.Is(err, ErrNotFound) || (err == nil && se.Confirmed.Before(rec.SessionsAfter)) {
			_ = s.kv.Purge(ctx, key)
			return Principal{}, Session{}, ErrNoSession
		}
		if err != nil {
			return Principal{}, Session{}, err
		}
		p.Kind, p.Grant = KindUser, rec.Grant
	}
	if now.Sub(se.LastSeen) >= touchEvery {
		se.LastSeen = now
		// A conflict means another request touched it or it was just
		// ended; either way nothing is lost.
		_ = s.update(ctx, key, se, rev)
	}
	p.Session = &se
	return p, se, nil
}

// Logout ends the session id (its public ID).
func (s *Store) Logout(ctx context.Context, id string) error {
	err := s.remove(ctx, sessionPrefix+id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Sessions lists the live sessions of user started via (ViaPassword or
// ViaSSO), newest first.
func (s *Store) Sessions(ctx context.Context, user, via string) ([]Session, error) {
	all, err := scanAll[Session](ctx, s, sessionPrefix)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []Session
	for _, se := range all {
		if se.User == user && se.Via == via && s.expired(se, now) == "" {
			out = append(out, se)
		}
	}
	slices.SortFunc(out, func(a, b Session) int { return b.Created.Compare(a.Created) })
	return out, nil
}

// EndSession ends one of user's sessions by its ID.
func (s *Store) EndSession(ctx context.Context, user, via, id string) error {
	var se Session
	if _, err := s.get(ctx, sessionPrefix+id, &se); err != nil || se.User != user || se.Via != via {
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return fmt.Errorf("%w: no session %q of yours", ErrNotFound, id)
	}
	return s.Logout(ctx, id)
}

// SignOutEverywhere ends every session of a user (a person signed in with
// a password, or by single sign-on when via is ViaSSO), except keep.
func (s *Store) SignOutEverywhere(ctx context.Context, user, via, keep string) error {
	if via == ViaPassword {
		if _, _, err := s.userRecord(ctx, user); err != nil {
			return err
		}
		return s.voidSessions(ctx, NormalizeName(user), keep, nil)
	}
	return s.endSessions(ctx, user, via, keep)
}

// endSessions deletes the sessions of user started via, except keep.
func (s *Store) endSessions(ctx context.Context, user, via, keep string) error {
	list, err := s.Sessions(ctx, user, via)
	if err != nil {
		return err
	}
	for _, se := range list {
		if se.ID == keep {
			continue
		}
		if err := s.Logout(ctx, se.ID); err != nil {
			return err
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
