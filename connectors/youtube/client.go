package youtube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/fetch"
)

// client calls the YouTube Data API v3 with an API key.
type client struct {
	http *fetch.Client
	base string // API root, e.g. https://www.googleapis.com
	key  string
	now  func() time.Time
}

// errChatOver says the live chat has ended or no longer exists.
var errChatOver = errors.New("youtube: live chat is over")

// ErrQuota is the message of the error a used-up daily quota gives.
var ErrQuota = errors.New("youtube: daily quota exceeded")

// get calls an endpoint under /youtube/v3 and decodes its answer into v,
// turning the API's errors into what the runner understands.
func (c *client) get(ctx context.Context, endpoint string, q url.Values, v any) error {
	q.Set("key", c.key)
	u := c.base + "/youtube/v3/" + endpoint + "?" + q.Encode()
	_, err := c.http.GetJSON(ctx, u, http.Header{}, v)
	if err != nil {
		return c.interpret(endpoint, err)
	}
	return nil
}

func (c *client) search(ctx context.Context, q url.Values) (*SearchListResponse, error) {
	var r SearchListResponse
	if err := c.get(ctx, "search", q, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

func (c *client) videos(ctx context.Context, parts string, ids []string) (*VideoListResponse, error) {
	var r VideoListResponse
	q := url.Values{"part": {parts}, "id": {strings.Join(ids, ",")}, "maxResults": {"50"}}
	if err := c.get(ctx, "videos", q, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

func (c *client) chatMessages(ctx context.Context, liveChatID, pageToken string) (*LiveChatMessageListResponse, error) {
	var r LiveChatMessageListResponse
	q := url.Values{"liveChatId": {liveChatID}, "part": {"snippet,authorDetails"}, "maxResults": {"2000"}}
	if pageToken != "" {
		q.Set("pageToken", pageToken)
	}
	if err := c.get(ctx, "liveChat/messages", q, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// interpret reads the API's error reasons
// (https://developers.google.com/youtube/v3/docs/errors): a used-up daily
// quota waits until the quota resets at midnight Pacific time; a rate
// limit waits a minute; a bad or restricted key is an AuthError; an ended
// or missing chat is errChatOver. Anything else stays as fetch made it.
func (c *client) interpret(endpoint string, err error) error {
	var se *fetch.StatusError
	if !errors.As(err, &se) {
		return fmt.Errorf("youtube: %s: %w", endpoint, err)
	}
	var body ErrorResponse
	_ = json.Unmarshal(se.Body, &body)
	for _, e := range body.Error.Errors {
		switch e.Reason {
		case "quotaExceeded", "dailyLimitExceeded", "dailyLimitExceededUnreg":
			return &connectors.RetryError{Wait: untilPacificMidnight(c.now()), Err: ErrQuota}
		case "rateLimitExceeded", "userRateLimitExceeded", "servingLimitExceeded":
			wait := time.Minute
			var retry *connectors.RetryError
			if errors.As(err, &retry) && retry.Wait > wait {
				wait = retry.Wait
			}
			return &connectors.RetryError{Wait: wait, Err: fmt.Errorf("youtube: %s: rate limit exceeded: %s", endpoint, e.Message)}
		case "keyInvalid", "keyExpired", "forbidden", "accessNotConfigured", "ipRefererBlocked", "badRequest_keyInvalid":
			return &connectors.AuthError{Status: se.Status, Err: fmt.Errorf("youtube: %s: %s: %s", endpoint, e.Reason, e.Message)}
		case "liveChatEnded", "liveChatNotFound", "liveChatDisabled":
			return fmt.Errorf("%w (%s)", errChatOver, e.Reason)
		}
	}
	if se.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(body.Error.Message), "api key not valid") {
		return &connectors.AuthError{Status: se.Status, Err: fmt.Errorf("youtube: %s: %s", endpoint, body.Error.Message)}
	}
	return fmt.Errorf("youtube: %s: %w", endpoint, err)
}

// untilPacificMidnight is the wait until YouTube's daily quota resets:
// midnight in America/Los_Angeles (UTC-8, or UTC-7 in summer time).
func untilPacificMidnight(now time.Time) time.Duration {
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		loc = time.FixedZone("PST", -8*3600)
	}
	local := now.In(loc)
	next := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, loc)
	return next.Sub(now)
}
