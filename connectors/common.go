package connectors

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/chorus-wall/chorus/config"
)

// Common are the settings every network source shares; embed it in a
// source's settings with `yaml:",inline"`.
type Common struct {
	config.SourceBase `yaml:",inline"`
	// Hashtags to gather, without '#'.
	Hashtags []string `yaml:"hashtags"`
	// Keywords (words or phrases) to gather.
	Keywords []string `yaml:"keywords"`
	// Accounts to gather, in the network's own form (handle, id).
	Accounts []string `yaml:"accounts"`
	// PollInterval is the wait between polls of a polled API.
	PollInterval time.Duration `yaml:"poll_interval"`
	// BaseURL is the API root; tests point it at local servers.
	BaseURL string `yaml:"base_url"`
}

// Limits on the common settings.
const (
	MinPollInterval = time.Second
	MaxPollInterval = 24 * time.Hour
)

// Normalize trims the lists (dropping '#' from hashtags and '@' from
// accounts) and fills defaults; Validate reports what is still wrong.
func (c *Common) Normalize(defaultBase string, defaultPoll time.Duration) {
	c.Hashtags = trimAll(c.Hashtags, "#")
	c.Keywords = trimAll(c.Keywords, "")
	c.Accounts = trimAll(c.Accounts, "@")
	if c.PollInterval == 0 {
		c.PollInterval = defaultPoll
	}
	if c.BaseURL == "" {
		c.BaseURL = defaultBase
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
}

// Validate checks the common settings; errors name keys under path.
// needQuery requires at least one hashtag, keyword or account.
func (c *Common) Validate(path string, needQuery bool) []error {
	var errs []error
	if needQuery && len(c.Hashtags)+len(c.Keywords)+len(c.Accounts) == 0 {
		errs = append(errs, fmt.Errorf("%s: set at least one of hashtags, keywords or accounts", path))
	}
	if c.PollInterval < MinPollInterval || c.PollInterval > MaxPollInterval {
		errs = append(errs, fmt.Errorf("%s.poll_interval: %s must be between %s and %s", path, c.PollInterval, MinPollInterval, MaxPollInterval))
	}
	if c.BaseURL != "" {
		if err := CheckBaseURL(c.BaseURL); err != nil {
			errs = append(errs, fmt.Errorf("%s.base_url: %w", path, err))
		}
	}
	return errs
}

// CheckBaseURL accepts an absolute http(s) URL without query or fragment.
func CheckBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	return nil
}

func trimAll(in []string, sigil string) []string {
	var out []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if sigil != "" {
			s = strings.TrimPrefix(s, sigil)
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// RetryError asks the runner to wait Wait before the next Read: the network
// said when it will take calls again (a rate-limit reset, Retry-After).
type RetryError struct {
	Wait time.Duration
	Err  error
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("%v (retrying in %s)", e.Err, e.Wait.Round(time.Second))
}

func (e *RetryError) Unwrap() error { return e.Err }

// AuthError means the network refused the credentials (401, 403). The
// runner retries only rarely and shows the error, instead of hammering the
// API with calls that cannot succeed.
type AuthError struct {
	Status int
	Err    error
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("credentials refused (HTTP %d): %v; check the source's token or key", e.Status, e.Err)
}

func (e *AuthError) Unwrap() error { return e.Err }

// AuthRetry is how long the runner waits after an AuthError.
const AuthRetry = 10 * time.Minute

// waitFor is how long the runner waits after err on try number attempt.
func waitFor(err error, attempt int) time.Duration {
	var retry *RetryError
	var auth *AuthError
	switch {
	case errors.As(err, &auth):
		return AuthRetry
	case errors.As(err, &retry) && retry.Wait > 0:
		// A little jitter so sources sharing a limit do not wake together.
		return retry.Wait + Backoff(0)/4
	}
	return Backoff(attempt)
}
