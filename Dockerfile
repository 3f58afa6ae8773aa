# Parley's image: a release build in a Rust image, run from a slim Debian
# as a non-root user, the data dir a volume. The build command is the one
# .ci/run runs, so CI builds what this image ships.
#   docker build -t parley .
#   docker run -p 127.0.0.1:10002:10002 -v parley-data:/data parley
# The toolchain CI builds with.
FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake pkg-config zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p api --bin parley

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin parley \
 && mkdir -p /data && chown parley:parley /data && chmod 0700 /data
COPY --from=build /src/target/release/parley /usr/local/bin/parley
USER parley
VOLUME ["/data"]
# In a container the API listens on every interface of the container's
# network; publish the port on 127.0.0.1 of the host (see docker-compose.yml).
ENV PARLEY_DATA_DIR=/data \
    PARLEY_LISTEN=0.0.0.0:10002 \
    PARLEY_LOG_FORMAT=json
EXPOSE 10002
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=5 \
  CMD curl -fsS http://127.0.0.1:10002/readyz || exit 1
ENTRYPOINT ["parley"]
CMD ["serve"]
