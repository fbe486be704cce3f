package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/fetch"
)

// DefaultRateLimitWait is how long a source waits after a Graph API
// rate-limit error whose headers say nothing about when access returns.
const DefaultRateLimitWait = 5 * time.Minute

// APIError is a Graph API error response, with what the call was for (a
// page, a hashtag) so that an operator knows which setting to look at.
type APIError struct {
	Network string
	// What names the query: `page "104689318914162"`, `hashtag "choruslive"`.
	What      string
	Status    int
	Message   string
	Type      string
	Code      int
	Subcode   int
	FBTraceID string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s: %s: Graph API error %d", e.Network, e.What, e.Code)
	if e.Subcode != 0 {
		msg += fmt.Sprintf(" (subcode %d)", e.Subcode)
	}
	msg += fmt.Sprintf(", HTTP %d: %s", e.Status, e.Message)
	if e.FBTraceID != "" {
		msg += " [fbtrace_id " + e.FBTraceID + "]"
	}
	return msg
}

// RateLimited reports whether the code is one of the Graph API's throttling
// codes: 4 (app), 17 (user), 32 (page), 613 (endpoint) and 80001-80009
// (business use cases: pages, Instagram, ads, ...).
func (e *APIError) RateLimited() bool { return IsRateLimitCode(e.Code) }

// IsRateLimitCode reports whether code is a Graph API throttling code.
func IsRateLimitCode(code int) bool {
	switch {
	case code == 4, code == 17, code == 32, code == 613:
		return true
	case code >= 80001 && code <= 80009:
		return true
	}
	return false
}

// InvalidQuery reports whether the error is about the query itself (code
// 100 or 24: a page or hashtag that does not exist or is not reachable
// with this token, a bad field): it concerns one configured query, not the
// whole source.
func (e *APIError) InvalidQuery() bool { return e.Code == 100 || e.Code == 24 }

// TokenExpired reports whether the access token itself was refused (code
// 190, or 102 for old session keys).
func (e *APIError) TokenExpired() bool { return e.Code == 190 || e.Code == 102 }

// Permission reports a missing permission (code 10 and 200-299).
func (e *APIError) Permission() bool { return e.Code == 10 || e.Code >= 200 && e.Code <= 299 }

// Fatal reports whether err, met reading one query (a page's edge, a
// hashtag), ends the whole poll: ctx has ended, the network asked to wait
// (a connectors.RetryError) or refused the credentials (a
// connectors.AuthError). Any other error concerns that query alone.
func Fatal(ctx context.Context, err error) bool {
	var retry *connectors.RetryError
	var auth *connectors.AuthError
	return ctx.Err() != nil || errors.As(err, &retry) || errors.As(err, &auth)
}

// classify turns a failed call into the error the runner understands:
// a rate limit becomes a RetryError with the wait from the usage headers
// (or DefaultRateLimitWait), a refused token an AuthError, anything else
// an *APIError (or the transport error) naming what the call was for.
// Graph reports most errors with HTTP 400, rate limits included, so the
// body decides, not the status.
func classify(network, what string, err error, header http.Header) error {
	var status *fetch.StatusError
	if !errors.As(err, &status) {
		return err // network failure, or the client still blocked by a 429
	}
	var body ErrorBody
	if json.Unmarshal(status.Body, &body) != nil || body.Error == nil {
		// Not a Graph error body (a proxy's page?): keep fetch's reading
		// (429 waits, 401/403 auth), naming the query.
		var retry *connectors.RetryError
		var auth *connectors.AuthError
		switch {
		case errors.As(err, &retry), errors.As(err, &auth):
			return err
		}
		return fmt.Errorf("%s: %s: %w", network, what, err)
	}
	b := body.Error
	apiErr := &APIError{Network: network, What: what, Status: status.Status, Message: b.Message, Type: b.Type,
		Code: b.Code, Subcode: b.ErrorSubcode, FBTraceID: b.FBTraceID}
	switch {
	case apiErr.RateLimited() || status.Status == http.StatusTooManyRequests:
		wait := RegainAccess(header)
		if wait <= 0 {
			var retry *connectors.RetryError
			if errors.As(err, &retry) && retry.Wait > 0 && status.Status == http.StatusTooManyRequests {
				wait = retry.Wait
			} else {
				wait = DefaultRateLimitWait
			}
		}
		return &connectors.RetryError{Wait: wait, Err: fmt.Errorf("%s: rate limit reached: %w", network, apiErr)}
	case apiErr.TokenExpired():
		return &connectors.AuthError{Status: status.Status, Err: fmt.Errorf(
			"%s: the access token has expired or is invalid; renew access_token: %w", network, apiErr)}
	case apiErr.Permission():
		return &connectors.AuthError{Status: status.Status, Err: fmt.Errorf(
			"%s: the access token lacks a permission this call needs: %w", network, apiErr)}
	case (status.Status == http.StatusUnauthorized || status.Status == http.StatusForbidden) && b.Type == "OAuthException":
		return &connectors.AuthError{Status: status.Status, Err: fmt.Errorf(
			"%s: the access token was refused (expired, revoked or without permission); renew access_token: %w", network, apiErr)}
	}
	return apiErr
}

// usageHeaders are the Graph API's rate-limit headers. X-App-Usage and
// X-Page-Usage hold one object; X-Business-Use-Case-Usage maps each
// business object id to a list of objects, one per use case type.
var usageHeaders = []string{"X-Business-Use-Case-Usage", "X-App-Usage", "X-Page-Usage"}

// RegainAccess returns the longest estimated_time_to_regain_access (given
// in minutes) found in h's usage headers, or 0 when none says.
func RegainAccess(h http.Header) time.Duration {
	var longest float64
	for _, u := range Usages(h) {
		longest = max(longest, u.EstimatedTimeToRegainAccess)
	}
	if longest <= 0 || longest > 24*60 {
		return 0
	}
	return time.Duration(longest * float64(time.Minute))
}

// Usages reads every usage entry in h; malformed headers are ignored.
func Usages(h http.Header) []Usage {
	var out []Usage
	for _, name := range usageHeaders {
		v := h.Get(name)
		if v == "" {
			continue
		}
		var one Usage
		if name != "X-Business-Use-Case-Usage" {
			if json.Unmarshal([]byte(v), &one) == nil {
				out = append(out, one)
			}
			continue
		}
		var buc map[string][]Usage
		if json.Unmarshal([]byte(v), &buc) == nil {
			for _, list := range buc {
				out = append(out, list...)
			}
		}
	}
	return out
}
