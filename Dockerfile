# syntax=docker/dockerfile:1
# A release binary of the service only (the fakes and the bench are not shipped), built in three
# stages so that the dependencies are a layer of their own (cargo-chef): a change to the sources
# leaves recipe.json unchanged, and the `cargo chef cook` layer, which compiles every dependency,
# comes from the cache. Only a change to Cargo.toml, Cargo.lock or a crate's manifest rebuilds it.

# The toolchain and cargo-chef, shared by the two stages below.
FROM rust:1.95-slim-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

# Plan: the workspace's skeleton (manifests, lock file, targets) as recipe.json. Every member
# (".", crates/docquery, crates/fakes, crates/bench) is copied: the root's dev-dependency on
# crates/fakes must resolve.
FROM chef AS planner
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
COPY src ./src
COPY tests ./tests
RUN cargo chef prepare --recipe-path recipe.json

# Build: the dependencies of the service's binary from the recipe (the cached layer), then the
# binary itself with the same profile, flags and target, so that the dependencies are reused.
FROM chef AS build
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --bin user-manager-service --recipe-path recipe.json
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY crates ./crates
COPY src ./src
COPY tests ./tests
RUN cargo build --release --locked --bin user-manager-service \
    && mkdir /out \
    && mkdir -m 0700 /out/data

# Run: distroless with glibc and CA certificates, non-root, nothing else.
FROM gcr.io/distroless/cc-debian12:nonroot
WORKDIR /app
COPY --from=build /src/target/release/user-manager-service /app/user-manager-service
COPY config ./config
# Embedded mode writes its SQLite file and signing key here, owner-only (mount a volume to keep them).
COPY --from=build --chown=65532:65532 /out/data /app/data
# mimalloc (the global allocator) commits arena memory lazily: idle RSS ~10 MB instead of ~19 MB.
ENV MIMALLOC_ARENA_EAGER_COMMIT=0 \
    HTTP_PORT=3000 \
    LOG_LEVEL=info \
    DATA_DIR=/app/data
EXPOSE 3000
# The "nonroot" user of the distroless image, by number so that runAsNonRoot can verify it.
USER 65532:65532
# No HEALTHCHECK: the image has no shell or HTTP client to run one, and orchestrators probe
# /-/healthz and /-/ready over HTTP (deploy/kubernetes).
# checkov:skip=CKV_DOCKER_2:no shell or HTTP client in the distroless image; health is probed over HTTP by the orchestrator
ENTRYPOINT ["/app/user-manager-service"]
