package curation

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/post"
	"github.com/chorus-wall/chorus/rights"
)

// RightsBook keeps the open requests for the right to use a post
// (rights.Book).
type RightsBook interface {
	Put(ctx context.Context, r rights.Request) error
	Delete(ctx context.Context, stream, postID string) error
}

// Consent recognises an author's consent in the posts curation reads
// (rights.Book): the grant events a post gives.
type Consent interface {
	Consents(p *post.Post) []bus.Event
}

// RightsActions are what a moderator does about the right to use a post:
// ask for it (the answer carries the text to send the author), record a
// consent given elsewhere (grant, with a note saying how), or revoke it.
var RightsActions = []string{"request", "grant", "revoke"}

// RightsOutcome is what a rights action did, with the request's text.
type RightsOutcome struct {
	Outcome
	Rights bus.Rights `json:"rights"`
}

// maxNote bounds a moderator's note on a grant or revocation.
const maxNote = 500

// Rights applies a rights action to a post of a stream and writes it as a
// rights event (the audit, the index, the licensed screens follow it).
// A request is kept in the book until the author's consent reply grants
// it (curation) or a moderator grants or revokes.
func (m *Moderator) Rights(ctx context.Context, stream, postID, action, note string, who Who) (RightsOutcome, error) {
	st, ok := m.streams.Get(stream)
	if !ok {
		return RightsOutcome{}, ErrUnknownStream
	}
	note = strings.TrimSpace(note)
	switch {
	case !slices.Contains(RightsActions, action):
		return RightsOutcome{}, fmt.Errorf("%w %q (one of %s)", ErrUnknownAction, action, strings.Join(RightsActions, ", "))
	case len(note) > maxNote:
		return RightsOutcome{}, fmt.Errorf("%w: note must be at most %d bytes", ErrBadInput, maxNote)
	case action == "grant" && note == "":
		return RightsOutcome{}, fmt.Errorf("%w: note must say how the author gave their consent (a grant without their reply needs one)", ErrBadInput)
	case m.RightsBook == nil:
		return RightsOutcome{}, fmt.Errorf("rights: this node keeps no rights requests")
	}
	p, status, err := m.finder.Find(ctx, stream, postID)
	if err != nil {
		return RightsOutcome{}, err
	}
	hashtag := st.Rights.ConsentHashtag()
	r := bus.Rights{Hashtag: hashtag}
	switch action {
	case "request":
		r.State, r.Text = bus.RightsRequested, st.Rights.RequestText(p.Author.Handle)
		keys := rights.AuthorKeys(&p)
		if len(keys) == 0 {
			return RightsOutcome{}, fmt.Errorf("%w: the network gave no handle or id for this post's author, so their reply cannot be recognised; record their consent with grant instead", ErrBadInput)
		}
		if err := m.RightsBook.Put(ctx, rights.Request{Stream: stream, PostID: p.ID, Authors: keys, Hashtag: hashtag,
			Text: r.Text, At: m.now().UTC(), Actor: who.Actor}); err != nil {
			return RightsOutcome{}, err
		}
	case "grant":
		r.State, r.Proof = bus.RightsGranted, &bus.Proof{Note: note, At: m.now().UTC()}
	case "revoke":
		r.State = bus.RightsRevoked
		if note != "" {
			r.Proof = &bus.Proof{Note: note, At: m.now().UTC()}
		}
	}
	if action != "request" {
		if err := m.RightsBook.Delete(ctx, stream, p.ID); err != nil {
			return RightsOutcome{}, err
		}
	}
	if who.Reason == "" {
		who.Reason = map[string]string{"request": "rights requested", "grant": "rights granted by a moderator", "revoke": "rights revoked"}[action]
	}
	e := bus.Event{Kind: bus.EventRights, Stream: stream, PostID: p.ID, Rights: &r}
	out, err := m.write(ctx, e, who, Outcome{Stream: stream, PostID: p.ID, Action: "rights " + action, Status: status})
	if err != nil {
		return RightsOutcome{}, err
	}
	return RightsOutcome{Outcome: out, Rights: r}, nil
}

// consents returns the rights events the batch's posts grant by their
// authors' consent replies, ready to store with the batch's decisions.
func (c *Curator) consents(items []*item) ([]pending, error) {
	if c.Consent == nil {
		return nil, nil
	}
	var out []pending
	now := c.now().UTC()
	for _, it := range items {
		for _, e := range c.Consent.Consents(&it.post) {
			e.At = now
			// One grant per request and reply, however often the reply is read.
			msg, err := e.Msg("rights." + e.Stream + "." + e.PostID + "." + it.post.ID)
			if err != nil {
				return nil, err
			}
			ev := e
			out = append(out, pending{event: &ev, msg: msg, consent: true})
		}
	}
	return out, nil
}

// settleConsents closes the requests the stored grants answered. Best
// effort: a request left open is granted again by the next reply, which
// changes nothing.
func (c *Curator) settleConsents(ctx context.Context, work []pending) {
	if c.RightsBook == nil {
		return
	}
	for _, w := range work {
		if w.consent {
			if err := c.RightsBook.Delete(ctx, w.event.Stream, w.event.PostID); err != nil {
				c.log.Warn("curation: close a granted rights request", "stream", w.event.Stream, "post", w.event.PostID, "err", err)
			}
		}
	}
}
