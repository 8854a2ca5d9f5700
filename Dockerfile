# Build a static placement_exporter and run it as a non-root user on a
# minimal base image.
#
#   docker build -t placement_exporter .
#   docker run -p 9847:9847 -v $PWD/placement_exporter.yml:/etc/placement_exporter/placement_exporter.yml placement_exporter

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION} -X github.com/prometheus/common/version.Revision=${REVISION}" \
      -o /out/placement_exporter ./cmd/placement_exporter

FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.title="placement_exporter" \
      org.opencontainers.image.description="Per-model duty cycle, idle gaps and serverless versus always-on GPU cost, from inference servers' own metrics" \
      org.opencontainers.image.source="https://github.com/placement-exporter/placement_exporter" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/placement_exporter /bin/placement_exporter
COPY examples/placement_exporter.yml /etc/placement_exporter/placement_exporter.yml
USER nonroot:nonroot
EXPOSE 9847
ENTRYPOINT ["/bin/placement_exporter"]
CMD ["--config.file=/etc/placement_exporter/placement_exporter.yml"]
