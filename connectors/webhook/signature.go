package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Header names of a signed call.
const (
	TimestampHeader = "X-Chorus-Timestamp"
	SignatureHeader = "X-Chorus-Signature"
)

// Sign returns the X-Chorus-Signature value for body sent at ts:
// "sha256=" + hex(HMAC-SHA256(secret, ts + "." + body)).
func Sign(secret []byte, ts time.Time, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac(secret, strconv.FormatInt(ts.Unix(), 10), body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// Errors of Verify; each is an authentication failure (401).
var (
	ErrUnsigned     = errors.New("missing " + TimestampHeader + " or " + SignatureHeader + " header")
	ErrBadTimestamp = errors.New(TimestampHeader + " must be unix seconds")
	ErrStale        = errors.New("timestamp too far from the server's clock (stale or replayed call)")
	ErrBadSignature = errors.New("signature does not match (expected sha256=<hex HMAC-SHA256(secret, timestamp + \".\" + body)>)")
)

// Verify checks a call's timestamp and signature against secret. Calls more
// than maxAge away from now, in either direction, are refused.
func Verify(secret []byte, tsHeader, sigHeader string, body []byte, now time.Time, maxAge time.Duration) error {
	if tsHeader == "" || sigHeader == "" {
		return ErrUnsigned
	}
	ts, err := strconv.ParseInt(strings.TrimSpace(tsHeader), 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	if d := now.Sub(time.Unix(ts, 0)); d > maxAge || d < -maxAge {
		return ErrStale
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(sigHeader), "sha256=")
	if !ok {
		return ErrBadSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || !hmac.Equal(got, mac(secret, strings.TrimSpace(tsHeader), body)) {
		return ErrBadSignature
	}
	return nil
}
