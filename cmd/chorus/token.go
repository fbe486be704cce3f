package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/config"
)

// adminTokenFile is where each node writes the admin token for the command
// line on its machine.
const adminTokenFile = "admin-token"

// adminTokenSecret names the generated admin token among the shared
// secrets of the chorus_config bucket.
const adminTokenSecret = "admin-token"

// adminToken returns the admin token of the whole installation: admin_token
// from the config when set; else the one kept in the chorus_config bucket,
// which the first node to need one stored, so every node of a cluster
// accepts the same token. That first node stores the token of its own
// <data_dir>/admin-token when it has one (an installation upgraded keeps its
// token), else a fresh one. Every node writes the token to its
// <data_dir>/admin-token for the command line; path is that file, or ""
// when the token comes from the config.
func adminToken(ctx context.Context, cfg *config.Config, kv jetstream.KeyValue, log *slog.Logger) (token, path string, err error) {
	if cfg.AdminToken.IsSet() {
		if _, err := kv.Get(ctx, "secrets."+adminTokenSecret); err == nil {
			log.Warn("this node takes admin_token from its config, while other nodes of this cluster use the generated token in the chorus_config bucket: give every node the same admin_token")
		}
		return cfg.AdminToken.Reveal(), "", nil
	}
	path = filepath.Join(cfg.DataDir, adminTokenFile)
	own := ""
	if data, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(data))) >= 16 {
		own = strings.TrimSpace(string(data))
	}
	shared, err := bus.SharedValue(ctx, kv, adminTokenSecret, func() ([]byte, error) {
		if own != "" {
			return []byte(own), nil
		}
		buf := make([]byte, 24)
		if _, err := rand.Read(buf); err != nil {
			return nil, fmt.Errorf("admin token: %w", err)
		}
		return []byte(hex.EncodeToString(buf)), nil
	})
	if err != nil {
		return "", "", err
	}
	token = string(shared)
	if len(token) < 16 {
		return "", "", fmt.Errorf("admin token in the chorus_config bucket (secrets.%s) is too short; delete that key to make a new one", adminTokenSecret)
	}
	if token == own {
		return token, path, nil
	}
	if own != "" {
		log.Warn("this node's own admin token is replaced by the cluster's: one token works on every node", "file", path)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return "", "", fmt.Errorf("data_dir: %w", err)
	}
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", "", fmt.Errorf("admin token: %w", err)
	}
	return token, path, nil
}
