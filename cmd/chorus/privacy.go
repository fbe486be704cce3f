package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/auth"
	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/curation"
	"github.com/chorus-wall/chorus/post"
	"github.com/chorus-wall/chorus/privacy"
	"github.com/chorus-wall/chorus/rights"
)

// startPrivacy loads the erased authors before anything reads or writes
// posts, and wires the ban into every part that handles them: the gate
// before the ingest stream, curation, the index and the display. It runs
// after the stream settings are loaded and before the index and display
// are built into stages.
func (a *App) startPrivacy(ctx context.Context) error {
	key, err := bus.SharedSecret(ctx, a.conn.Config, "erasure")
	if err != nil {
		return err
	}
	hasher, err := privacy.NewHasher(key)
	if err != nil {
		return err
	}
	a.bans = privacy.NewBans(a.conn.Erasures, hasher, a.log)
	// An erasure clears the spam memory on every node (it may hold the
	// author's recent posts, hashed).
	a.bans.OnBan(a.streams.ForgetRecent)
	loaded := make(chan struct{})
	a.run(ctx, "erasures", func(ctx context.Context) error { return a.bans.Watch(ctx, func() { close(loaded) }) })
	select {
	case <-loaded:
	case <-ctx.Done():
		return ctx.Err()
	}
	// The open rights requests, which curation matches with consent
	// replies, on every node.
	a.rights = rights.NewBook(a.conn.Rights, a.log)
	booked := make(chan struct{})
	a.run(ctx, "rights", func(ctx context.Context) error { return a.rights.Watch(ctx, func() { close(booked) }) })
	select {
	case <-booked:
	case <-ctx.Done():
		return ctx.Err()
	}
	if a.index != nil { // nodes without the index role keep none
		a.index.AuthorHash = hasher.Hash
		a.index.Banned = a.bans.Banned
		a.index.OnForget = func(posts []post.Post) { a.media.Forget(posts) }
	}
	return nil
}

// startErasure builds the erasure and export services once the parts they
// wait on exist.
func (a *App) startErasure() {
	a.eraser = &privacy.Eraser{Conn: a.conn, Bans: a.bans, Streams: a.streams, Settings: a.store,
		Index: a.index, Display: a.hub, Scrubber: a.hub, Rights: a.rights, Log: a.log}
	a.exporter = &privacy.Exporter{Conn: a.conn, Bans: a.bans, Streams: a.streams}
}

// privacyRoutes adds erasure and export: owners and managers of every
// stream for the whole installation, managers of a stream for that stream.
func (a *App) privacyRoutes(admin adminRoute) {
	h := &privacy.Handlers{Eraser: a.eraser, Exporter: a.exporter, ActorKey: curation.ActorKey}
	everywhere := auth.Access{Role: auth.Manager, Everywhere: true}
	ofStream := auth.Access{Role: auth.Manager, Stream: true}
	admin(http.MethodPost, "/authors/:author/erase", everywhere, h.Erase)
	admin(http.MethodGet, "/authors/:author/export", everywhere, h.Export)
	admin(http.MethodPost, "/streams/:id/authors/:author/erase", ofStream, h.Erase)
	admin(http.MethodGet, "/streams/:id/authors/:author/export", ofStream, h.Export)
}

// aboutSomeone reports whether the route acts on one person's data
// (erasure, export): its logs name the author by hash, never by handle,
// so an erasure leaves no trail of who was erased.
func aboutSomeone(c echo.Context) bool {
	p := c.Path()
	return strings.HasSuffix(p, "/authors/:author/erase") || strings.HasSuffix(p, "/authors/:author/export")
}

// loggedAuthor is how logs name the route's author.
func (a *App) loggedAuthor(c echo.Context) string {
	raw := c.Param("author")
	if !aboutSomeone(c) || a.bans == nil {
		return raw
	}
	if un, err := url.PathUnescape(raw); err == nil {
		raw = un
	}
	key, err := privacy.ParseAuthor(raw)
	if err != nil {
		return "(not an author key)"
	}
	return "hash:" + a.bans.Hasher().Hash(key)
}

// loggedPath is the request's path as logs show it.
func (a *App) loggedPath(c echo.Context, path string) string {
	if !aboutSomeone(c) {
		return path
	}
	return strings.NewReplacer(":author", a.loggedAuthor(c), ":id", c.Param("id")).Replace(c.Path())
}
