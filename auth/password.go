package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's costs. A hash records the costs it was made with,
// so raising them later still verifies old hashes, and a login with an
// older hash stores a new one.
type Params struct {
	// Memory in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism (lanes).
	Threads uint8
	// SaltLen and KeyLen in bytes.
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams are the second recommended option of RFC 9106 (section
// 4): argon2id with 64 MiB of memory, 3 passes and 4 lanes, a 128-bit salt
// and a 256-bit tag. Sign-ins are rare and guesses should be expensive
// (BenchmarkHashDefault measures one; the README gives the figure).
var DefaultParams = Params{Memory: 64 * 1024, Time: 3, Threads: 4, SaltLen: 16, KeyLen: 32}

// Bounds on what a stored hash may ask for, so a corrupted or planted hash
// cannot make a login allocate gigabytes.
const (
	maxMemory  = 1024 * 1024 // 1 GiB
	maxTime    = 16
	maxThreads = 64
	maxKeyLen  = 128
)

// Password rules. The minimum follows NIST SP 800-63B (revision 4) for a
// password that is the only factor; the maximum only bounds the work.
const (
	MinPasswordRunes = 15
	MaxPasswordBytes = 1024
)

// CheckPassword says what is wrong with a new password, if anything.
func CheckPassword(password, user string) error {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordRunes:
		return fmt.Errorf("%w: the password must have at least %d characters (a few words make a good one)", ErrBadInput, MinPasswordRunes)
	case len(password) > MaxPasswordBytes:
		return fmt.Errorf("%w: the password must be at most %d bytes", ErrBadInput, MaxPasswordBytes)
	case !utf8.ValidString(password):
		return fmt.Errorf("%w: the password is not valid UTF-8", ErrBadInput)
	case user != "" && strings.Contains(strings.ToLower(password), strings.ToLower(user)):
		return fmt.Errorf("%w: the password must not contain the user name", ErrBadInput)
	}
	return nil
}

// hasher hashes and verifies passwords, at most a few at a time: each hash
// holds Memory KiB, and a burst of logins must not exhaust the machine.
type hasher struct {
	params Params
	slots  chan struct{}
}

func newHasher(p Params, concurrent int) *hasher {
	return &hasher{params: p, slots: make(chan struct{}, max(concurrent, 1))}
}

func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *hasher) release() { <-h.slots }

// Hash returns password's argon2id hash in the PHC string format that the
// reference implementation prints:
// $argon2id$v=19$m=65536,t=3,p=4$<salt>$<tag>, both in unpadded base64.
func (h *hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return encodeHash(h.params, salt, argon2.IDKey([]byte(password), salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)), nil
}

// Verify reports whether password matches encoded, and whether encoded was
// made with other costs than the current ones (and should be replaced).
func (h *hasher) Verify(ctx context.Context, password, encoded string) (ok, stale bool, err error) {
	p, salt, want, err := decodeHash(encoded)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	ok = subtle.ConstantTimeCompare(got, want) == 1
	stale = p.Memory != h.params.Memory || p.Time != h.params.Time || p.Threads != h.params.Threads ||
		p.KeyLen != h.params.KeyLen || uint32(len(salt)) != h.params.SaltLen
	return ok, stale, nil
}

var b64 = base64.RawStdEncoding

func encodeHash(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

var errBadHash = errors.New("auth: stored password hash is not an argon2id PHC string")

func decodeHash(s string) (Params, []byte, []byte, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Params{}, nil, nil, fmt.Errorf("%w (version %q)", errBadHash, parts[2])
	}
	var p Params
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || n != 3 {
		return Params{}, nil, nil, fmt.Errorf("%w (costs %q)", errBadHash, parts[3])
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > maxKeyLen {
		return Params{}, nil, nil, fmt.Errorf("%w (salt or tag)", errBadHash)
	}
	if p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory || p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.Threads > maxThreads {
		return Params{}, nil, nil, fmt.Errorf("%w (costs out of bounds: %q)", errBadHash, parts[3])
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
