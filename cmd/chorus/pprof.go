package main

import (
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/labstack/echo/v4"
)

// pprofHandler serves Go's profiles under /debug/pprof/ so anyone running
// Chorus can see where a busy server spends its time and memory:
//
//	go tool pprof -http : -H 'Authorization: Bearer <admin token>' ...
//	curl -H 'Authorization: Bearer <token>' localhost:8080/debug/pprof/profile?seconds=20 > cpu.pprof
//
// Profiles reveal what the process is doing (and, for goroutine dumps,
// parts of what it holds), so routes using it require the admin token.
func pprofHandler() echo.HandlerFunc {
	named := map[string]http.HandlerFunc{
		"cmdline": pprof.Cmdline,
		"profile": pprof.Profile,
		"symbol":  pprof.Symbol,
		"trace":   pprof.Trace,
	}
	return func(c echo.Context) error {
		name := strings.TrimPrefix(c.Request().URL.Path, "/debug/pprof/")
		if h, ok := named[name]; ok {
			h(c.Response(), c.Request())
			return nil
		}
		// Index lists the profiles at /debug/pprof/ and serves the runtime's
		// named ones (heap, goroutine, allocs, block, mutex, threadcreate).
		pprof.Index(c.Response(), c.Request())
		return nil
	}
}
