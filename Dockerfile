# syntax=docker/dockerfile:1
# Build: a release binary of the service only (the fakes and docquery tests are not shipped).
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY crates ./crates
COPY src ./src
COPY tests ./tests
RUN cargo build --release --locked --bin user-manager-service \
    && mkdir -p -m 0700 /out/data

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
USER nonroot:nonroot
ENTRYPOINT ["/app/user-manager-service"]
