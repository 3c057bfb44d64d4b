# syntax=docker/dockerfile:1
#
# release-chan container image.
#
#   docker build -t release-chan:dev \
#     --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" .
#
# Base images are pinned by tag here. Pinning by digest (`swift:6.2-jammy@sha256:…`) is done by the
# publish workflow, which passes the resolved digests as SWIFT_IMAGE / RUNTIME_IMAGE build args, and by
# Renovate's docker digest pinning; this file stays readable and builds locally without either.
#
# Builder and runtime must share the distribution (glibc): swift:X-jammy builds, ubuntu:jammy runs.
# Package.swift declares swift-tools-version 6.2, so the builder needs Swift 6.2 or newer.
# See docs/deployment.md ("Image") for what is inside and why.

ARG SWIFT_IMAGE=swift:6.2-jammy
ARG RUNTIME_IMAGE=ubuntu:jammy

# ---------------------------------------------------------------------------------------------------
# Build stage
# ---------------------------------------------------------------------------------------------------
FROM ${SWIFT_IMAGE} AS build

WORKDIR /build

# Resolve dependencies first: this layer stays cached while only the sources change.
# (Package.resolved is not committed in this repository, so it is not copied; see .dockerignore.)
COPY Package.swift ./
RUN swift package resolve

# The manifest declares the client and test targets as well: SwiftPM wants their folders present.
COPY Sources ./Sources
COPY Clients ./Clients
COPY Tests ./Tests

# --static-swift-stdlib links the Swift runtime, Foundation, Dispatch and ICU data into the binary;
# what stays dynamic is glibc, libstdc++, libgcc_s, libz (CompressNIO) and libcurl with its own
# dependencies (FoundationNetworking, for `release-chan dispatch`): the runtime stage installs libcurl4,
# the rest is part of ubuntu:jammy. scripts/check-image.sh checks this list against ldd.
# swift-backtrace-static prints a symbolicated backtrace on a crash (SWIFT_BACKTRACE below).
RUN swift build -c release --static-swift-stdlib --product release-chan \
 && mkdir -p /staging/db \
 && cp "$(swift build -c release --static-swift-stdlib --show-bin-path)/release-chan" /staging/release-chan \
 && cp /usr/libexec/swift/linux/swift-backtrace-static /staging/swift-backtrace-static \
 && strip --strip-debug /staging/release-chan

COPY db/db.json /staging/db/db.json

# ---------------------------------------------------------------------------------------------------
# Runtime stage
# ---------------------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE}

ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=https://github.com/acme/release-chan

LABEL org.opencontainers.image.title="release-chan" \
      org.opencontainers.image.description="Release channel service: which image each container runs on each channel (HTTP API on 8089, TCP lookup protocol on 8090)" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.url="${SOURCE}" \
      org.opencontainers.image.documentation="${SOURCE}/blob/main/docs/deployment.md" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.vendor="acme" \
      org.opencontainers.image.base.name="docker.io/library/ubuntu:jammy"

# Runtime libraries. zlib1g (libz.so.1, used by CompressNIO for the precompressed gzip bodies) and
# libstdc++6 / libgcc-s1 are already part of ubuntu:jammy; they are listed so that the dependency is
# explicit and survives a change of base image. ca-certificates: TLS roots for `release-chan dispatch`;
# libcurl4: FoundationNetworking (the URLSession that `dispatch` uses) links it.
# Versions are not pinned: the archive drops old versions, the base image digest pins the state.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates \
      libcurl4 \
      libgcc-s1 \
      libstdc++6 \
      zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 nonroot \
 && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin nonroot

# Everything under /app belongs to root and is read-only for the service user: the process writes
# nothing outside /tmp (in Kubernetes an emptyDir), so the root filesystem can be mounted read-only.
COPY --from=build --chown=0:0 --chmod=0755 /staging/release-chan /staging/swift-backtrace-static /app/
COPY --from=build --chown=0:0 --chmod=0644 /staging/db/db.json /app/db/db.json

ENV SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/app/swift-backtrace-static

WORKDIR /app

# Numeric user so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 65532:65532

# 8089: HTTP API, /v1/health, /v1/ready, /metrics. 8090: TCP lookup protocol.
EXPOSE 8089 8090

# No HEALTHCHECK: Kubernetes probes /v1/health (liveness) and /v1/ready (readiness), and Docker's
# HEALTHCHECK is ignored there (the image has no curl either). SIGTERM, the default stop signal, shuts
# down gracefully: /v1/ready turns 503, the drain delay passes, in-flight requests finish, exit 0.
ENTRYPOINT ["/app/release-chan"]
CMD ["serve", "--db", "/app/db/db.json"]
