package auth

import "net/http"

// Register adds the sign-in, session, setup, single sign-on, user and key
// routes to r (the /api/v1 group), guarding all but the few that signing
// in needs. cmd/chorus/routes.go lists every other route.
func (h *Handlers) Register(r Router, g *Guard) {
	// Open: these are how a credential is obtained.
	r.Add(http.MethodGet, "/login-options", h.LoginOptions)
	r.Add(http.MethodPost, "/session", h.Login)
	r.Add(http.MethodPost, "/setup", h.Setup)
	r.Add(http.MethodGet, "/oidc/login", h.SSOLogin)
	r.Add(http.MethodGet, "/oidc/callback", h.SSOCallback)

	// Anyone signed in, about themselves.
	self := Access{Role: Viewer}
	g.Handle(r, http.MethodGet, "/session", self, h.WhoAmI)
	g.Handle(r, http.MethodDelete, "/session", self, h.Logout)
	g.Handle(r, http.MethodPut, "/session/password", self, h.ChangePassword)
	g.Handle(r, http.MethodGet, "/sessions", self, h.MySessions)
	g.Handle(r, http.MethodDelete, "/sessions", self, h.SignOutEverywhere)
	g.Handle(r, http.MethodDelete, "/sessions/:session", self, h.EndSession)

	// Owners manage people and keys.
	owner := Access{Role: Owner}
	g.Handle(r, http.MethodGet, "/users", owner, h.ListUsers)
	g.Handle(r, http.MethodPost, "/users", owner, h.CreateUser)
	g.Handle(r, http.MethodGet, "/users/:name", owner, h.GetUser)
	g.Handle(r, http.MethodPatch, "/users/:name", owner, h.UpdateUser)
	g.Handle(r, http.MethodDelete, "/users/:name", owner, h.RemoveUser)
	g.Handle(r, http.MethodPut, "/users/:name/password", owner, h.ResetPassword)
	g.Handle(r, http.MethodDelete, "/users/:name/sessions", owner, h.SignOutUser)
	g.Handle(r, http.MethodGet, "/keys", owner, h.ListKeys)
	g.Handle(r, http.MethodPost, "/keys", owner, h.CreateKey)
	g.Handle(r, http.MethodDelete, "/keys/:name", owner, h.RevokeKey)
}
