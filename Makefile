# Chorus: `make run` starts a demo wall at http://localhost:8080,
# `make test` runs every test (race detector on, browser tests in Chromium).

GO      ?= go
BIN     ?= bin/chorus
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

# Load harness settings (make bench RATE=5000 SCREENS=1000 HISTORY=100000);
# go run ./cmd/chorus-load -h lists every option.
RATE     ?= 20000
DURATION ?= 20s
SCREENS  ?= 5000
HISTORY  ?= 1000000

.PHONY: run build test test-cluster bench clean cluster

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/chorus

run: build
	./$(BIN) serve --demo

# Three NATS servers and three Chorus nodes on ports 8081-8083, every stream
# in three copies; Ctrl-C stops them (see README, Running several nodes).
cluster: build
	$(GO) run ./cmd/chorus-cluster -binary $(BIN)

test:
	$(GO) vet ./...
	$(GO) test -race -timeout 12m ./...

# The cluster scenarios alone (they are part of make test too).
test-cluster:
	$(GO) test -race -timeout 10m -v -run 'TestCluster|TestReplicasWarning' ./cmd/chorus-cluster

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./cmd/chorus-load -binary $(BIN) -rate $(RATE) -duration $(DURATION) -screens $(SCREENS) -history $(HISTORY)

clean:
	rm -rf bin
