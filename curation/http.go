package curation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/apibody"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

// Recent is one of a stream's latest posts with its status, for dry runs.
type Recent struct {
	Post   post.Post
	Status string
}

// Handlers serve moderators' actions and stream settings.
type Handlers struct {
	Moderator *Moderator
	Store     *Store
	Streams   *Streams
	// IsNotFound says whether a Finder error means the post is unknown.
	IsNotFound func(error) bool
	// Select returns the ids of up to limit posts of a stream matching a
	// search query and status, for bulk actions.
	Select func(ctx context.Context, stream, query, status string, limit int) ([]string, error)
	// Recent returns a stream's newest n posts, for dry runs.
	Recent func(ctx context.Context, stream string, n int) ([]Recent, error)
}

// ActorKey is the echo context key under which authentication stores who
// is acting.
const ActorKey = "chorus.actor"

// reasonBody is the optional JSON body of an action.
type reasonBody struct {
	Reason string `json:"reason"`
}

// who is the acting moderator (set by authentication) and their reason.
func who(c echo.Context, reason string) (Who, error) {
	if len(reason) > 500 {
		return Who{}, echo.NewHTTPError(http.StatusBadRequest, "reason must be at most 500 bytes")
	}
	actor, _ := c.Get(ActorKey).(string)
	return Who{Actor: actor, Reason: reason}, nil
}

// bind decodes the request body into v strictly (apibody.Decode): JSON, or
// a form for calls whose body is flat; an unknown key is refused with its
// path. An empty body leaves v as it is.
func bind(c echo.Context, v any) error {
	data, err := readBody(c)
	if err != nil {
		return err
	}
	return bodyError(apibody.Decode(c.Request().Header.Get(echo.HeaderContentType), data, v))
}

// readBody reads the whole request body.
func readBody(c echo.Context) ([]byte, error) {
	data, err := io.ReadAll(c.Request().Body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", tooBig.Limit))
	case err != nil:
		return nil, echo.NewHTTPError(http.StatusBadRequest, "body could not be read: "+oneLine(err))
	}
	return data, nil
}

// bodyError turns an apibody refusal into its HTTP status.
func bodyError(err error) error {
	var be *apibody.Error
	if errors.As(err, &be) {
		return echo.NewHTTPError(be.Status, be.Msg)
	}
	return err
}

// httpError maps curation errors to statuses.
func (h *Handlers) httpError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.As(err, new(*apibody.Error)):
		return bodyError(err)
	case errors.Is(err, ErrUnknownStream), errors.Is(err, ErrUnknownAction):
		return echo.NewHTTPError(http.StatusNotFound, err.Error())
	case errors.Is(err, ErrBadInput):
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	case errors.Is(err, ErrNotShown):
		return echo.NewHTTPError(http.StatusConflict, err.Error())
	case h.IsNotFound != nil && h.IsNotFound(err):
		return echo.NewHTTPError(http.StatusNotFound, "post not found in this stream")
	}
	return err
}

// Act answers POST /api/v1/streams/:id/posts/:post/:action (approve,
// reject, remove, pin, unpin, feature, unfeature); optional body
// {"reason": "..."}.
func (h *Handlers) Act(c echo.Context) error {
	postID, err := url.PathUnescape(c.Param("post"))
	if err != nil || postID == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "bad post id")
	}
	var body reasonBody
	if err := bind(c, &body); err != nil {
		return err
	}
	w, err := who(c, body.Reason)
	if err != nil {
		return err
	}
	out, err := h.Moderator.Act(c.Request().Context(), c.Param("id"), postID, c.Param("action"), w)
	if err != nil {
		return h.httpError(err)
	}
	return c.JSON(http.StatusOK, out)
}

// EditAlt answers POST /api/v1/streams/:id/posts/:post/alt with body
// {"media": 0, "alt": "A crowd at sunset"}.
func (h *Handlers) EditAlt(c echo.Context) error {
	postID, err := url.PathUnescape(c.Param("post"))
	if err != nil || postID == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "bad post id")
	}
	var body struct {
		reasonBody
		Media *int   `json:"media"`
		Alt   string `json:"alt"`
	}
	if err := bind(c, &body); err != nil {
		return err
	}
	if body.Media == nil {
		return echo.NewHTTPError(http.StatusBadRequest, `body must be {"media": <index>, "alt": "..."}`)
	}
	w, err := who(c, body.Reason)
	if err != nil {
		return err
	}
	out, err := h.Moderator.EditAlt(c.Request().Context(), c.Param("id"), postID, *body.Media, body.Alt, w)
	if err != nil {
		return h.httpError(err)
	}
	return c.JSON(http.StatusOK, out)
}

// ActOnAuthor answers POST /api/v1/streams/:id/authors/:author/:action
// (hide, show, ban, unban).
func (h *Handlers) ActOnAuthor(c echo.Context) error {
	author, err := url.PathUnescape(c.Param("author"))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "bad author")
	}
	var body reasonBody
	if err := bind(c, &body); err != nil {
		return err
	}
	w, err := who(c, body.Reason)
	if err != nil {
		return err
	}
	out, err := h.Moderator.ActOnAuthor(c.Request().Context(), c.Param("id"), author, c.Param("action"), w)
	if err != nil {
		return h.httpError(err)
	}
	return c.JSON(http.StatusOK, out)
}

// Control answers POST /api/v1/streams/:id/pause and .../resume.
func (h *Handlers) Control(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		var body reasonBody
		if err := bind(c, &body); err != nil {
			return err
		}
		w, err := who(c, body.Reason)
		if err != nil {
			return err
		}
		out, err := h.Moderator.Control(c.Request().Context(), c.Param("id"), action, w)
		if err != nil {
			return h.httpError(err)
		}
		return c.JSON(http.StatusOK, out)
	}
}

// MaxBulk bounds the posts one bulk action touches.
const MaxBulk = 500

// Bulk answers POST /api/v1/streams/:id/bulk: one post action on a
// selection, {"action":"reject","posts":["x:1","x:2"]}, or on the posts
// matching a search, {"action":"approve","query":"#keynote","status":"held"}.
func (h *Handlers) Bulk(c echo.Context) error {
	var body struct {
		reasonBody
		Action string   `json:"action"`
		Posts  []string `json:"posts"`
		Query  string   `json:"query"`
		Status string   `json:"status"`
		Limit  int      `json:"limit"`
	}
	if err := bind(c, &body); err != nil {
		return err
	}
	stream := c.Param("id")
	if _, ok := h.Streams.Get(stream); !ok {
		return h.httpError(ErrUnknownStream)
	}
	if _, ok := statusActions[body.Action]; !ok {
		if _, ok := flagActions[body.Action]; !ok {
			return echo.NewHTTPError(http.StatusBadRequest, "action must be one of "+strings.Join(PostActions, ", "))
		}
	}
	ids := body.Posts
	switch {
	case len(ids) > 0 && body.Query != "":
		return echo.NewHTTPError(http.StatusBadRequest, "give posts or query, not both")
	case len(ids) == 0 && body.Query == "" && body.Status == "":
		return echo.NewHTTPError(http.StatusBadRequest, "give posts (a list of ids) or a query and/or status")
	case len(ids) > MaxBulk:
		return echo.NewHTTPError(http.StatusBadRequest, "at most 500 posts at once")
	case len(ids) == 0:
		limit := body.Limit
		if limit <= 0 || limit > MaxBulk {
			limit = MaxBulk
		}
		var err error
		if ids, err = h.Select(c.Request().Context(), stream, body.Query, body.Status, limit); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
	}
	w, err := who(c, body.Reason)
	if err != nil {
		return err
	}
	type failure struct {
		PostID string `json:"post_id"`
		Error  string `json:"error"`
	}
	res := struct {
		Action    string    `json:"action"`
		Selected  int       `json:"selected"`
		Changed   int       `json:"changed"`
		Unchanged int       `json:"unchanged"`
		Failed    []failure `json:"failed"`
	}{Action: body.Action, Selected: len(ids), Failed: []failure{}}
	for _, id := range ids {
		out, err := h.Moderator.Act(c.Request().Context(), stream, id, body.Action, w)
		switch {
		case err != nil:
			msg := err.Error()
			if h.IsNotFound != nil && h.IsNotFound(err) {
				msg = "post not found in this stream"
			}
			res.Failed = append(res.Failed, failure{PostID: id, Error: msg})
		case out.Changed:
			res.Changed++
		default:
			res.Unchanged++
		}
	}
	return c.JSON(http.StatusOK, res)
}

// GetSettings answers GET /api/v1/streams/:id/settings: the whole stream.
func (h *Handlers) GetSettings(c echo.Context) error {
	s, ok := h.Streams.Get(c.Param("id"))
	if !ok {
		return h.httpError(ErrUnknownStream)
	}
	return c.JSON(http.StatusOK, s)
}

// PutSettings answers PUT (or PATCH) /api/v1/streams/:id/settings with a
// JSON merge patch of the stream: what the body names changes, down to a
// single filter; null clears a value back to its default; a list replaces
// the list. A stream that does not exist is created from the body. Every
// node applies the change within a second.
func (h *Handlers) PutSettings(c echo.Context) error {
	data, err := readBody(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	contentType := c.Request().Header.Get(echo.HeaderContentType)
	out, err := h.Store.Upsert(c.Request().Context(), id, func(s *config.Stream) error {
		if err := apibody.Patch(contentType, data, s); err != nil {
			return err
		}
		if s.ID != "" && s.ID != id {
			return fmt.Errorf("%w: the body's id differs from the path's", ErrBadInput)
		}
		return nil
	})
	if err != nil {
		return h.httpError(err)
	}
	return c.JSON(http.StatusOK, out)
}

// DeleteStream answers DELETE /api/v1/streams/:id.
func (h *Handlers) DeleteStream(c echo.Context) error {
	if err := h.Store.Delete(c.Request().Context(), c.Param("id")); err != nil {
		return h.httpError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// GetRules answers GET /api/v1/streams/:id/rules.
func (h *Handlers) GetRules(c echo.Context) error {
	s, ok := h.Streams.Get(c.Param("id"))
	if !ok {
		return h.httpError(ErrUnknownStream)
	}
	return c.JSON(http.StatusOK, map[string]any{"rules": nonNil(s.Rules)})
}

// PutRules answers PUT /api/v1/streams/:id/rules with {"rules": [...]}:
// the ordered rules, replaced whole ({"rules": []} removes them all).
func (h *Handlers) PutRules(c echo.Context) error {
	var body struct {
		Rules *[]config.Rule `json:"rules"`
	}
	if err := bind(c, &body); err != nil {
		return err
	}
	if body.Rules == nil {
		return echo.NewHTTPError(http.StatusBadRequest, `rules: is required: {"rules": [...]} (an empty list removes every rule)`)
	}
	s, err := h.Store.Update(c.Request().Context(), c.Param("id"), func(s *config.Stream) error {
		s.Rules = *body.Rules
		return nil
	})
	if err != nil {
		return h.httpError(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"rules": nonNil(s.Rules)})
}

// filtersView is what GET and PUT /filters show of a stream.
type filtersView struct {
	Moderation   config.Moderation `json:"moderation"`
	Delay        config.Duration   `json:"delay"`
	BlockedWords []string          `json:"blocked_words"`
	Filters      config.Filters    `json:"filters"`
}

func viewFilters(s config.Stream) filtersView {
	return filtersView{Moderation: s.Moderation, Delay: s.Delay, BlockedWords: nonNil(s.BlockedWords), Filters: s.Filters}
}

// GetFilters answers GET /api/v1/streams/:id/filters.
func (h *Handlers) GetFilters(c echo.Context) error {
	s, ok := h.Streams.Get(c.Param("id"))
	if !ok {
		return h.httpError(ErrUnknownStream)
	}
	return c.JSON(http.StatusOK, viewFilters(s))
}

// PutFilters answers PUT (or PATCH) /api/v1/streams/:id/filters with a JSON
// merge patch of {"moderation", "delay", "blocked_words", "filters"}: what
// it names changes, down to a single filter; null clears a value back to
// its default; what is left out stays as it is.
func (h *Handlers) PutFilters(c echo.Context) error {
	data, err := readBody(c)
	if err != nil {
		return err
	}
	contentType := c.Request().Header.Get(echo.HeaderContentType)
	s, err := h.Store.Update(c.Request().Context(), c.Param("id"), func(s *config.Stream) error {
		view := viewFilters(*s)
		if err := apibody.Patch(contentType, data, &view); err != nil {
			return err
		}
		s.Moderation, s.Delay, s.BlockedWords, s.Filters = view.Moderation, view.Delay, view.BlockedWords, view.Filters
		return nil
	})
	if err != nil {
		return h.httpError(err)
	}
	return c.JSON(http.StatusOK, viewFilters(s))
}

// DryRun answers POST /api/v1/streams/:id/rules/dry-run with
// {"rule": {...}, "last": 100}: what the rule would have done to the
// stream's last N posts (it changes nothing).
func (h *Handlers) DryRun(c echo.Context) error {
	var body struct {
		Rule config.Rule `json:"rule"`
		Last int         `json:"last"`
	}
	if err := bind(c, &body); err != nil {
		return err
	}
	stream := c.Param("id")
	if _, ok := h.Streams.Get(stream); !ok {
		return h.httpError(ErrUnknownStream)
	}
	if body.Last <= 0 {
		body.Last = 100
	}
	body.Last = min(body.Last, 1000)
	if body.Rule.Name == "" {
		body.Rule.Name = "dry run"
	}
	check := config.Stream{ID: stream, Rules: []config.Rule{body.Rule}}
	if err := config.ValidateStream(&check, nil); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "rule: "+err.Error())
	}
	r, err := compileRule(body.Rule, "rule")
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	recent, err := h.Recent(c.Request().Context(), stream, body.Last)
	if err != nil {
		return err
	}
	report := DryRun(r, recent)
	return c.JSON(http.StatusOK, report)
}

// OrderPins answers PUT /api/v1/streams/:id/pins with body
// {"order": ["<post id>", ...]}: the pinned posts' order on screens.
func (h *Handlers) OrderPins(c echo.Context) error {
	var body struct {
		reasonBody
		Order []string `json:"order"`
	}
	if err := bind(c, &body); err != nil {
		return err
	}
	w, err := who(c, body.Reason)
	if err != nil {
		return err
	}
	out, err := h.Moderator.OrderPins(c.Request().Context(), c.Param("id"), body.Order, w)
	if err != nil {
		return h.httpError(err)
	}
	return c.JSON(http.StatusOK, out)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// rightsBody is the body of a rights action.
type rightsBody struct {
	Action string `json:"action"`
	Note   string `json:"note"`
	Reason string `json:"reason"`
}

// Rights answers POST /api/v1/streams/:id/posts/:post/rights with body
// {"action": "request"|"grant"|"revoke", "note": "..."}: the rights event
// written, with the request's text to send the author.
func (h *Handlers) Rights(c echo.Context) error {
	postID, err := url.PathUnescape(c.Param("post"))
	if err != nil || postID == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "bad post id")
	}
	var body rightsBody
	if err := bind(c, &body); err != nil {
		return err
	}
	if body.Action == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "action: say request, grant or revoke")
	}
	w, err := who(c, body.Reason)
	if err != nil {
		return err
	}
	out, err := h.Moderator.Rights(c.Request().Context(), c.Param("id"), postID, body.Action, body.Note, w)
	if errors.Is(err, ErrUnknownAction) {
		// A word of the body, not of the address.
		return echo.NewHTTPError(http.StatusBadRequest, "action: "+err.Error())
	}
	if err != nil {
		return h.httpError(err)
	}
	return c.JSON(http.StatusOK, out)
}
