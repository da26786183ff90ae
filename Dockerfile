# Periscope's image: every binary (the monolith, the six mesh components, periscope-keygen) and the
# sample configuration, on Debian bookworm, running as a non-root user. The Helm chart's
# image.repository points here.
#
#   docker build -t periscope:0.1.0 .
#
# The build stage installs the same Debian packages as scripts/quickstart and builds with CMake +
# Ninja; the runtime stage carries only the shared libraries the binaries link.

FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config ca-certificates \
      libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev \
      libnats-dev libpq-dev prometheus-cpp-dev libgtest-dev libgmock-dev libboost-dev \
      libjemalloc-dev libsodium-dev nlohmann-json3-dev libssl-dev libyaml-cpp-dev libbenchmark-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build /build --target periscope periscope-gateway periscope-userapi periscope-roomserver \
      periscope-syncapi periscope-federationapi periscope-federationsender periscope-keygen \
 && mkdir -p /out/bin /out/lib \
 && cp /build/cmd/periscope /build/cmd/periscope-* /out/bin/ \
 && cp /build/protos/libperiscope_protos.so /out/lib/ \
 && strip --strip-debug /out/bin/* /out/lib/*

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libgrpc++1.51 libgrpc29 libprotobuf32 libnats3.4 libpq5 libprometheus-cpp-core1.0 \
      libprometheus-cpp-pull1.0 libjemalloc2 libsodium23 libyaml-cpp0.7 \
      libabsl20220623 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 periscope \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin periscope
COPY --from=build /out/bin/ /usr/local/bin/
# The generated protobuf code is a shared library of the build.
COPY --from=build /out/lib/ /usr/local/lib/
RUN ldconfig
COPY periscope.sample.yaml /etc/periscope/periscope.sample.yaml
USER 10001:10001
# Client API, federation API, internal gRPC, metrics (the chart's defaults).
EXPOSE 8008 8448 7070 9464
ENTRYPOINT ["periscope"]
CMD ["--config", "/etc/periscope/periscope.yaml"]
