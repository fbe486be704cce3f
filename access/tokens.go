package access

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Tokens mints and checks viewer tokens: "<expiry unix seconds>.<signature>",
// the signature an HMAC-SHA256 of the stream id and the expiry with a key
// every node shares (bus.SharedSecret "viewer"). A token opens one stream
// until it expires; it carries nothing about the viewer.
type Tokens struct {
	key []byte
	now func() time.Time
}

// MaxTokenTTL is the longest a viewer token may live.
const MaxTokenTTL = 366 * 24 * time.Hour

// NewTokens returns tokens signed with key (at least 32 bytes); now is the
// clock (nil: time.Now).
func NewTokens(key []byte, now func() time.Time) (*Tokens, error) {
	if len(key) < 32 {
		return nil, errors.New("access: viewer token key must be at least 32 bytes")
	}
	if now == nil {
		now = time.Now
	}
	return &Tokens{key: key, now: now}, nil
}

// Mint returns a token for stream that expires after ttl (at most
// MaxTokenTTL), and its expiry.
func (t *Tokens) Mint(stream string, ttl time.Duration) (string, time.Time, error) {
	if ttl <= 0 || ttl > MaxTokenTTL {
		return "", time.Time{}, fmt.Errorf("ttl %s must be more than 0 and at most %s", ttl, MaxTokenTTL)
	}
	exp := t.now().Add(ttl).Truncate(time.Second).UTC()
	e := strconv.FormatInt(exp.Unix(), 10)
	return e + "." + t.sign(stream, e), exp, nil
}

// Check returns nil when token opens stream now, else an error that says
// what is wrong (missing, malformed, not for this stream, expired).
func (t *Tokens) Check(stream, token string) error {
	if token == "" {
		return errors.New("this stream is private: add ?token=<viewer token> (chorus viewer-token " + stream + ")")
	}
	e, sig, ok := strings.Cut(token, ".")
	exp, err := strconv.ParseInt(e, 10, 64)
	if !ok || err != nil {
		return errors.New("malformed viewer token")
	}
	if !hmac.Equal([]byte(sig), []byte(t.sign(stream, e))) {
		return errors.New("viewer token is not valid for this stream")
	}
	if at := time.Unix(exp, 0); !t.now().Before(at) {
		return fmt.Errorf("viewer token expired at %s", at.UTC().Format(time.RFC3339))
	}
	return nil
}

func (t *Tokens) sign(stream, expiry string) string {
	mac := hmac.New(sha256.New, t.key)
	mac.Write([]byte("chorus-viewer\x00" + stream + "\x00" + expiry))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
