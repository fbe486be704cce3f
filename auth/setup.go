package auth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/bus"
)

// The first owner is made with a setup code that a node prints in its
// log while no user exists. The code is typed into the sign-in page,
// never put in a link: links end up in browser history, proxy logs and
// Referer headers. A code works once and for SetupCodeTTL.

// SetupCodeTTL is how long a setup code works; a node still without users
// then prints a new one.
const SetupCodeTTL = 24 * time.Hour

// codeAlphabet has no letters that read alike (0/O, 1/I/L, 5/S, 8/B).
const codeAlphabet = "ACDEFGHJKMNPQRTUVWXY2345679"

// setupRecord is a stored setup code.
type setupRecord struct {
	Expires time.Time `json:"expires"`
}

// ErrBadCode is the one answer to a wrong, used or expired setup code.
var ErrBadCode = errors.New("wrong or expired setup code; the server's log shows the current one")

// ErrSetupDone: the first owner exists; sign in instead.
var ErrSetupDone = errors.New("setup is done: an account exists already; sign in")

// newSetupCode stores and returns a fresh code: 15 characters from a
// 27-letter alphabet (71 bits), shown as XXXXX-XXXXX-XXXXX.
func (s *Store) newSetupCode(ctx context.Context) (string, time.Time, error) {
	var b strings.Builder
	limit := byte(256 / len(codeAlphabet) * len(codeAlphabet)) // unbiased: drop bytes at or above
	buf := make([]byte, 1)
	for n := 0; n < 15; {
		if _, err := rand.Read(buf); err != nil {
			return "", time.Time{}, err
		}
		if buf[0] >= limit {
			continue
		}
		if n > 0 && n%5 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(codeAlphabet[int(buf[0])%len(codeAlphabet)])
		n++
	}
	code := b.String()
	expires := s.now().Add(SetupCodeTTL)
	if err := s.create(ctx, setupPrefix+digest(normalizeCode(code)), setupRecord{Expires: expires}); err != nil {
		return "", time.Time{}, err
	}
	return code, expires, nil
}

// normalizeCode forgives case, spaces and dashes.
func normalizeCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		if r != '-' && r != ' ' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Setup creates the first owner with a setup code, which it uses up. It
// is refused once any user exists.
func (s *Store) Setup(ctx context.Context, code, name, password string) (User, error) {
	if has, err := s.HasUsers(ctx); err != nil {
		return User{}, err
	} else if has {
		return User{}, ErrSetupDone
	}
	name = NormalizeName(name)
	if err := CheckName("user", name); err != nil {
		return User{}, err
	}
	if err := CheckPassword(password, name); err != nil {
		return User{}, err
	}
	key := setupPrefix + digest(normalizeCode(code))
	entry, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return User{}, ErrBadCode
	}
	if err != nil {
		return User{}, fmt.Errorf("auth: read setup code: %w", err)
	}
	var rec setupRecord
	if err := json.Unmarshal(entry.Value(), &rec); err != nil || !s.now().Before(rec.Expires) {
		return User{}, ErrBadCode
	}
	// Use the code up before anything else: of two calls racing with the
	// same code, only one gets past this.
	if err := s.kv.Purge(ctx, key, jetstream.LastRevision(entry.Revision())); err != nil {
		return User{}, ErrBadCode
	}
	u, err := s.CreateUser(ctx, name, password, Grant{Role: Owner}, "setup")
	if err != nil {
		return User{}, err
	}
	// Other nodes' codes are no use now.
	_ = s.scan(ctx, setupPrefix, func(key string, _ []byte) error { return s.kv.Purge(ctx, key) })
	return u, nil
}

// SetupNeeded reports whether no user exists yet. Once users exist they
// never all go (the last owner cannot be removed), so a yes is remembered.
func (s *Store) SetupNeeded(ctx context.Context) (bool, error) {
	if s.hadUsers.Load() {
		return false, nil
	}
	has, err := s.HasUsers(ctx)
	if has {
		s.hadUsers.Store(true)
	}
	return !has, err
}

// RunSetup keeps a setup code valid while no user exists, calling show
// with each new code (to print it in the log), and returns once a user
// exists (made here, on another node or with the CLI) or ctx ends.
func (s *Store) RunSetup(ctx context.Context, show func(code string, expires time.Time)) error {
	w, err := s.kv.Watch(ctx, userPrefix+">", jetstream.IgnoreDeletes(), jetstream.MetaOnly())
	if err != nil {
		return fmt.Errorf("auth: watch users: %w", err)
	}
	defer bus.StopWatch(w)
	var mine string
	defer func() {
		if mine != "" && s.opts.Connected() {
			_ = s.kv.Purge(context.WithoutCancel(ctx), setupPrefix+digest(normalizeCode(mine)))
		}
	}()
	renew := time.NewTicker(time.Minute)
	defer renew.Stop()
	var expires time.Time
	loaded := false
	for {
		if loaded && (mine == "" || !s.now().Before(expires)) {
			code, exp, err := s.newSetupCode(ctx)
			if err != nil {
				s.log.Warn("auth: cannot store a setup code; trying again in a minute", "err", err)
			} else {
				if mine != "" {
					_ = s.kv.Purge(ctx, setupPrefix+digest(normalizeCode(mine)))
				}
				mine, expires = code, exp
				show(code, exp)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-renew.C:
		case entry, ok := <-w.Updates():
			switch {
			case !ok:
				return nil
			case entry != nil: // a user exists
				s.hadUsers.Store(true)
				return nil
			default: // every existing user delivered: there are none
				loaded = true
			}
		}
	}
}
