package access

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/apibody"
	"github.com/chorus-wall/chorus/config"
)

// defaultTokenTTL is a viewer token's life when the request names none.
const defaultTokenTTL = 24 * time.Hour

// tokenRequest is the body of POST /api/v1/streams/:id/viewer-tokens.
type tokenRequest struct {
	TTL config.Duration `json:"ttl"`
}

// TokenResponse is what minting a viewer token answers.
type TokenResponse struct {
	Stream    string    `json:"stream"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// MintToken answers POST /api/v1/streams/:id/viewer-tokens (an admin route)
// with a viewer token for the stream: body {"ttl":"720h"} (default 24h, at
// most 366 days), or no body.
func (p *Policy) MintToken(c echo.Context) error {
	s, ok := p.Streams.Get(c.Param("id"))
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "no stream with that id")
	}
	req := tokenRequest{TTL: config.Duration(defaultTokenTTL)}
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, 4096))
	if err != nil {
		return err
	}
	if err := apibody.Decode(c.Request().Header.Get(echo.HeaderContentType), raw, &req); err != nil {
		var be *apibody.Error
		if errors.As(err, &be) {
			return echo.NewHTTPError(be.Status, be.Msg)
		}
		return err
	}
	token, exp, err := p.Tokens.Mint(s.ID, req.TTL.D())
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("ttl: %v", err))
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, TokenResponse{Stream: s.ID, Token: token, ExpiresAt: exp})
}
