# Chorus: `make run` starts a demo wall at http://localhost:8080,
# `make test` runs every test (race detector on, browser tests in Chromium).

GO      ?= go
BIN     ?= bin/chorus
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

# Load harness settings: make bench RATE=2000 CLIENTS=1000 DURATION=30s
RATE     ?= 1000
CLIENTS  ?= 500
DURATION ?= 20s

.PHONY: run build test bench clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/chorus

run: build
	./$(BIN) serve --demo

test:
	$(GO) vet ./...
	$(GO) test -race -timeout 12m ./...

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./cmd/chorus-load -binary $(BIN) -rate $(RATE) -clients $(CLIENTS) -duration $(DURATION)

clean:
	rm -rf bin
