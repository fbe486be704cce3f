package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// User is a person who signs in with a name and a password. JSON is the
// API's view: it never holds the password hash.
type User struct {
	Name string `json:"name"`
	Grant
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"`
	Updated   time.Time `json:"updated,omitzero"`
	LastLogin time.Time `json:"last_login,omitzero"`
}

// userRecord is a user as stored.
type userRecord struct {
	User
	PasswordHash string `json:"password_hash"`
	// SessionsAfter voids every session of the user started before it: set
	// by a password change and by "sign out everywhere".
	SessionsAfter time.Time `json:"sessions_after,omitzero"`
}

// NormalizeName folds a user or key name as typed to its stored form.
func NormalizeName(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// CreateUser adds a user; by names who does it (for the record).
func (s *Store) CreateUser(ctx context.Context, name, password string, g Grant, by string) (User, error) {
	name = NormalizeName(name)
	if err := CheckName("user", name); err != nil {
		return User{}, err
	}
	g, err := g.Normalize()
	if err != nil {
		return User{}, err
	}
	if err := CheckPassword(password, name); err != nil {
		return User{}, err
	}
	if _, err := s.get(ctx, userPrefix+name, &userRecord{}); err == nil {
		return User{}, fmt.Errorf("%w: a user named %q", ErrExists, name)
	} else if !errors.Is(err, ErrNotFound) {
		return User{}, err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return User{}, err
	}
	rec := userRecord{User: User{Name: name, Grant: g, Created: s.now(), CreatedBy: by}, PasswordHash: hash}
	if err := s.create(ctx, userPrefix+name, rec); err != nil {
		if errors.Is(err, ErrExists) {
			return User{}, fmt.Errorf("%w: a user named %q", ErrExists, name)
		}
		return User{}, err
	}
	s.log.Info("user created", "user", name, "grant", g.String(), "by", by)
	return rec.User, nil
}

// GetUser returns the user named name.
func (s *Store) GetUser(ctx context.Context, name string) (User, error) {
	rec, _, err := s.userRecord(ctx, name)
	return rec.User, err
}

func (s *Store) userRecord(ctx context.Context, name string) (userRecord, uint64, error) {
	name = NormalizeName(name)
	if CheckName("user", name) != nil {
		return userRecord{}, 0, fmt.Errorf("%w: no user named %q", ErrNotFound, name)
	}
	var rec userRecord
	rev, err := s.get(ctx, userPrefix+name, &rec)
	if errors.Is(err, ErrNotFound) {
		return rec, 0, fmt.Errorf("%w: no user named %q", ErrNotFound, name)
	}
	return rec, rev, err
}

// Users lists every user by name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	recs, err := scanAll[userRecord](ctx, s, userPrefix)
	if err != nil {
		return nil, err
	}
	out := make([]User, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.User)
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// HasUsers reports whether any user exists.
func (s *Store) HasUsers(ctx context.Context) (bool, error) {
	lister, err := s.kv.ListKeysFiltered(ctx, userPrefix+">")
	if err != nil {
		return false, fmt.Errorf("auth: list users: %w", err)
	}
	found := false
	for range lister.Keys() {
		found = true
	}
	return found, nil
}

// SetGrant changes a user's role and streams. It takes effect on their
// next request, on every node. Demoting the last owner is refused.
func (s *Store) SetGrant(ctx context.Context, name string, g Grant, by string) (User, error) {
	g, err := g.Normalize()
	if err != nil {
		return User{}, err
	}
	name = NormalizeName(name)
	if _, _, err := s.userRecord(ctx, name); err != nil {
		return User{}, err
	}
	if g.Role != Owner {
		if err := s.keepAnOwner(ctx, name); err != nil {
			return User{}, err
		}
	}
	rec, err := change(ctx, s, userPrefix+name, func(r *userRecord) error {
		r.Grant, r.Updated = g, s.now()
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return User{}, fmt.Errorf("%w: no user named %q", ErrNotFound, name)
	}
	if err != nil {
		return User{}, err
	}
	s.log.Info("user changed", "user", name, "grant", g.String(), "by", by)
	return rec.User, nil
}

// keepAnOwner refuses a change that would leave no owner but name.
func (s *Store) keepAnOwner(ctx context.Context, name string) error {
	users, err := s.Users(ctx)
	if err != nil {
		return err
	}
	others, wasOwner := 0, false
	for _, u := range users {
		switch {
		case u.Role != Owner:
		case u.Name == name:
			wasOwner = true
		default:
			others++
		}
	}
	if wasOwner && others == 0 {
		return ErrLastOwner
	}
	return nil
}

// SetPassword replaces a user's password and ends all their sessions
// except keep (the session making the change, if any; "" ends all).
func (s *Store) SetPassword(ctx context.Context, name, password, keep, by string) error {
	name = NormalizeName(name)
	if _, _, err := s.userRecord(ctx, name); err != nil {
		return err
	}
	if err := CheckPassword(password, name); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	if err := s.voidSessions(ctx, name, keep, func(r *userRecord) { r.PasswordHash = hash }); err != nil {
		return err
	}
	s.log.Info("password changed", "user", name, "by", by)
	return nil
}

// voidSessions moves the user's SessionsAfter to now (applying also to the
// record), deletes their sessions, and carries keep over.
func (s *Store) voidSessions(ctx context.Context, name, keep string, also func(*userRecord)) error {
	now := s.now()
	_, err := change(ctx, s, userPrefix+name, func(r *userRecord) error {
		r.SessionsAfter, r.Updated = now, now
		if also != nil {
			also(r)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.endSessions(ctx, name, ViaPassword, keep); err != nil {
		return err
	}
	if keep != "" {
		// The kept session was confirmed before SessionsAfter: it just
		// proved the password again.
		_, err := change(ctx, s, sessionPrefix+keep, func(se *Session) error {
			se.Confirmed = now
			return nil
		})
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// RemoveUser deletes a user and ends their sessions. Removing the last
// owner is refused.
func (s *Store) RemoveUser(ctx context.Context, name, by string) error {
	name = NormalizeName(name)
	if _, _, err := s.userRecord(ctx, name); err != nil {
		return err
	}
	if err := s.keepAnOwner(ctx, name); err != nil {
		return err
	}
	if err := s.remove(ctx, userPrefix+name); err != nil {
		return err
	}
	if err := s.endSessions(ctx, name, ViaPassword, ""); err != nil {
		return err
	}
	s.log.Info("user removed", "user", name, "by", by)
	return nil
}

// checkPassword returns the user if password is theirs. An unknown user
// costs the same time as a wrong password. A correct password stored with
// older costs is hashed again with the current ones; login also records
// the sign-in time.
func (s *Store) checkPassword(ctx context.Context, name, password string, login bool) (User, bool, error) {
	rec, rev, err := s.userRecord(ctx, name)
	if errors.Is(err, ErrNotFound) || len(password) > MaxPasswordBytes {
		_, _, _ = s.hasher.Verify(ctx, password, s.dummyHash)
		return User{}, false, nil
	}
	if err != nil {
		return User{}, false, err
	}
	ok, stale, err := s.hasher.Verify(ctx, password, rec.PasswordHash)
	if err != nil {
		return User{}, false, fmt.Errorf("auth: user %s: %w", rec.Name, err)
	}
	if !ok {
		return User{}, false, nil
	}
	if !login && !stale {
		return rec.User, true, nil
	}
	if login {
		rec.LastLogin = s.now()
	}
	if stale {
		if hash, err := s.hasher.Hash(ctx, password); err == nil {
			rec.PasswordHash = hash
		}
	}
	// Best effort: a conflict only loses the last-login time or the rehash.
	_ = s.update(ctx, userPrefix+rec.Name, rec, rev)
	return rec.User, true, nil
}
