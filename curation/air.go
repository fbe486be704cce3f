package curation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/config"
)

// Broadcast is what the display knows about a stream's broadcast overlays.
type Broadcast interface {
	// Shown reports whether a post is on the stream's screens now; known
	// is false while the display is loading.
	Shown(stream, postID string) (shown, known bool)
	// OnAir returns, once the display has applied seq (or ctx ends), what
	// the stream's overlays show, as JSON (null for nothing).
	OnAir(ctx context.Context, stream string, seq uint64) json.RawMessage
}

// AirActions are the producer's on-air actions.
var AirActions = []string{"air", "next", "clear"}

// AirOutcome is what an on-air action answers: the event it wrote and what
// the overlays show once this node has applied it.
type AirOutcome struct {
	Stream string          `json:"stream"`
	Action string          `json:"action"`
	Seq    uint64          `json:"seq"`
	OnAir  json.RawMessage `json:"on_air"`
}

// airBody is the optional body of the on-air actions: the post (air only),
// an auto-advance interval (air and next) and the reason for the audit.
type airBody struct {
	Post    string          `json:"post"`
	Advance config.Duration `json:"advance"`
	Reason  string          `json:"reason"`
}

// Air writes a producer's on-air action: "air" puts postID on air, "next"
// the next post of the on-air queue, "clear" takes it off. advance, when
// set, makes the next post go on air by itself every advance, until the
// next action without it.
func (m *Moderator) Air(ctx context.Context, stream, action, postID string, advance time.Duration, who Who) (AirOutcome, error) {
	if err := m.known(stream); err != nil {
		return AirOutcome{}, err
	}
	e := bus.Event{Stream: stream, Advance: advance}
	switch action {
	case "air":
		if postID == "" {
			return AirOutcome{}, fmt.Errorf("%w: post is required: the id of a post on screen, e.g. {\"post\":\"x:123\"}", ErrBadInput)
		}
		if m.Broadcast != nil {
			if shown, known := m.Broadcast.Shown(stream, postID); known && !shown {
				return AirOutcome{}, fmt.Errorf("%w: post %s is not on the stream's screens; only approved posts on screen go on air", ErrNotShown, postID)
			}
		}
		e.Kind, e.PostID = bus.EventAir, postID
	case "next":
		if postID != "" {
			return AirOutcome{}, fmt.Errorf("%w: next takes no post (air does)", ErrBadInput)
		}
		e.Kind = bus.EventAirNext
	case "clear":
		if postID != "" || advance != 0 {
			return AirOutcome{}, fmt.Errorf("%w: clear takes no post and no advance", ErrBadInput)
		}
		e.Kind = bus.EventAirClear
	default:
		return AirOutcome{}, fmt.Errorf("%w %q (air, next or clear)", ErrUnknownAction, action)
	}
	if advance != 0 && (advance < bus.MinAdvance || advance > bus.MaxAdvance) {
		return AirOutcome{}, fmt.Errorf("%w: advance %s must be from %s to %s", ErrBadInput, advance, bus.MinAdvance, bus.MaxAdvance)
	}
	if advance != 0 && !m.conn.Schedules {
		return AirOutcome{}, fmt.Errorf("%w: advance needs a NATS server that schedules messages (2.12 or newer)", ErrBadInput)
	}
	e.Actor, e.Reason, e.At = who.Actor, who.Reason, m.now().UTC()
	if e.Actor == "" {
		e.Actor = "admin"
	}
	if e.Reason == "" {
		e.Reason = "producer"
	}
	msgs, err := m.conn.AirMsgs(e)
	if err != nil {
		return AirOutcome{}, err
	}
	acks, err := m.conn.PublishAll(ctx, msgs)
	if err != nil {
		return AirOutcome{}, err
	}
	out := AirOutcome{Stream: stream, Action: action, Seq: acks[0].Sequence, OnAir: json.RawMessage("null")}
	if m.Broadcast != nil {
		waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		out.OnAir = m.Broadcast.OnAir(waitCtx, stream, out.Seq)
	}
	return out, nil
}

// AirAction answers POST /api/v1/streams/:id/air (body {"post":"x:1"}),
// .../air/next and .../air/clear; air and next take an optional
// "advance" ("15s": the next post goes on air by itself every 15 s), every
// one an optional "reason". Bodies are JSON or forms, so a Stream Deck or
// Companion button can send one.
func (h *Handlers) AirAction(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		var body airBody
		if err := bind(c, &body); err != nil {
			return err
		}
		w, err := who(c, body.Reason)
		if err != nil {
			return err
		}
		out, err := h.Moderator.Air(c.Request().Context(), c.Param("id"), action, body.Post, body.Advance.D(), w)
		if errors.Is(err, ErrUnknownAction) {
			return echo.NewHTTPError(http.StatusNotFound, err.Error())
		}
		if err != nil {
			return h.httpError(err)
		}
		return c.JSON(http.StatusOK, out)
	}
}

// OnAirNow answers GET /api/v1/streams/:id/air: what the overlays show.
func (h *Handlers) OnAirNow(c echo.Context) error {
	stream := c.Param("id")
	if _, ok := h.Streams.Get(stream); !ok {
		return h.httpError(ErrUnknownStream)
	}
	out := AirOutcome{Stream: stream, Action: "status", OnAir: json.RawMessage("null")}
	if h.Moderator.Broadcast != nil {
		out.OnAir = h.Moderator.Broadcast.OnAir(c.Request().Context(), stream, 0)
	}
	return c.JSON(http.StatusOK, out)
}
