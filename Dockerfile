# Chorus as a container: a static binary on a distroless base, running as a
# user without privileges. See docs/deploy.md.
#
#   docker build -t chorus --build-arg VERSION=$(git describe --tags --always) .
#   docker run -p 8080:8080 -v chorus-data:/data chorus serve --demo
#
# Not built by CI (its machines run no Docker daemon); TestDockerfile in
# deploy/ checks its stages, its user, its Go version against go.mod, and
# that every package builds with cgo off (so the binary is static).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# No cgo: one static binary that runs on any Linux without a libc.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/chorus ./cmd/chorus \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/chorus /usr/local/bin/chorus
# The data directory (embedded NATS, search index, media cache) belongs to
# the unprivileged user; mount a volume here.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
WORKDIR /data
ENV CHORUS_DATA_DIR=/data \
    CHORUS_ADDR=:8080
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/chorus"]
CMD ["serve"]
