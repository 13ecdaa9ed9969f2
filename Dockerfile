# Boxwire as a container: a static binary (pure Go, no C library) on a
# distroless base, running as a non-root user, data in /data.
#   docker build -t boxwire .
#   docker run -p 8080:8080 -v boxwire-data:/data -e BOXWIRE_PUBLIC_URL=http://localhost:8080 boxwire
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The .git directory is copied too, so `boxwire version` names the revision.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/boxwire ./cmd/boxwire && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/boxwire /usr/local/bin/boxwire
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV BOXWIRE_ADDR=0.0.0.0:8080 \
    BOXWIRE_DATA=/data
EXPOSE 8080
VOLUME /data
ENTRYPOINT ["/usr/local/bin/boxwire"]
CMD ["serve"]
