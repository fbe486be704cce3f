package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Rights is whether a stream needs its authors' consent before their posts
// go on the stream's public surfaces (widgets, embeds, cards, feeds, the
// posts API), and how it asks for it.
type Rights struct {
	// Required keeps a post off the stream's surfaces outside Exempt until
	// its rights are granted: by the author's reply carrying Hashtag, or
	// by a moderator who recorded the consent.
	Required bool `yaml:"required" json:"required,omitempty"`
	// Hashtag is the consent hashtag, without '#' (default
	// DefaultRightsHashtag).
	Hashtag string `yaml:"hashtag" json:"hashtag,omitempty"`
	// Request is the text a moderator copies, or Chorus posts, to ask for
	// the rights; {handle} and {hashtag} are filled in (default
	// DefaultRightsRequest).
	Request string `yaml:"request" json:"request,omitempty"`
	// Exempt are the surfaces that show posts without rights: "wall" (the
	// kiosk walls at the event) and "overlay" (broadcast overlays). Left
	// out: walls only; [] for none.
	Exempt []string `yaml:"exempt" json:"exempt,omitempty"`
}

// Surfaces that can be exempt from rights.
const (
	SurfaceWall    = "wall"
	SurfaceOverlay = "overlay"
)

// Default rights settings.
const (
	DefaultRightsHashtag = "YesChorus"
	DefaultRightsRequest = "@{handle} We'd love to feature your post on our site. Reply #{hashtag} to let us use it."
)

var hashtagRE = regexp.MustCompile(`^[\p{L}\p{N}_]{2,60}$`)

// ConsentHashtag is the stream's consent hashtag, without '#'.
func (r Rights) ConsentHashtag() string {
	if r.Hashtag == "" {
		return DefaultRightsHashtag
	}
	return strings.TrimPrefix(r.Hashtag, "#")
}

// RequestText is the request to send to the author with handle.
func (r Rights) RequestText(handle string) string {
	t := r.Request
	if t == "" {
		t = DefaultRightsRequest
	}
	handle = strings.TrimPrefix(handle, "@")
	if handle == "" {
		t = strings.TrimSpace(strings.ReplaceAll(t, "@{handle}", ""))
	}
	return strings.NewReplacer("{handle}", handle, "{hashtag}", r.ConsentHashtag()).Replace(t)
}

// Shows reports whether surface (a wall, an overlay, "" for everything
// else) shows posts whose rights were not granted.
func (r Rights) Shows(surface string) bool {
	if !r.Required {
		return true
	}
	if surface == "" {
		return false
	}
	if r.Exempt == nil {
		return surface == SurfaceWall
	}
	return slices.Contains(r.Exempt, surface)
}

// validateRights checks a stream's rights settings.
func (s *Stream) validateRights(key string) []error {
	var errs []error
	bad := func(k, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.rights.%s: "+format, append([]any{key, k}, args...)...))
	}
	r := s.Rights
	if r.Hashtag != "" && !hashtagRE.MatchString(strings.TrimPrefix(r.Hashtag, "#")) {
		bad("hashtag", "%q must be 2 to 60 letters, digits or underscores (the '#' may be left out)", r.Hashtag)
	}
	if r.Request != "" {
		if len(r.Request) > 280 {
			bad("request", "must be at most 280 bytes (it is posted as a reply), not %d", len(r.Request))
		}
		if !strings.Contains(r.Request, "{hashtag}") {
			bad("request", "must name {hashtag}, the reply the author is asked to send")
		}
	}
	for i, x := range r.Exempt {
		if x != SurfaceWall && x != SurfaceOverlay {
			bad(fmt.Sprintf("exempt[%d]", i), "%q is not a surface that can be exempt (wall or overlay)", x)
		}
	}
	return errs
}
