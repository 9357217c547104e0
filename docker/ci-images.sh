#!/usr/bin/env bash
# Build the base images the compose stack needs without any registry, from Debian's packages alone:
#   local/bookworm   debootstrap --variant=minbase bookworm, imported with `docker import` (made once:
#                    skipped when the image exists; remove it to make it again)
#   local/python     Python 3 from Debian on top   (for docker/python.Dockerfile's PYTHON_IMAGE)
#   local/mosquitto  Mosquitto from Debian on top  (for docker/mosquitto.Dockerfile's MOSQUITTO_IMAGE)
# Then:  PYTHON_IMAGE=local/python MOSQUITTO_IMAGE=local/mosquitto make test-docker
# Needs root, a running Docker engine, debootstrap, and Debian's package mirror over HTTP.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOCKER_BUILDKIT=0   # the classic builder: BuildKit needs buildx, which Debian's docker.io lacks

SUITE=${SUITE:-bookworm}

if docker image inspect local/bookworm >/dev/null 2>&1; then
    echo "ci-images: local/bookworm exists, not made again"
else
    command -v debootstrap >/dev/null || { echo "ci-images: debootstrap is not installed" >&2; exit 1; }
    root=$(mktemp -d "${TMPDIR:-/var/tmp}/local-bookworm.XXXXXX")
    trap 'rm -rf "$root"' EXIT
    echo "ci-images: debootstrap --variant=minbase $SUITE (about 30 s)"
    if ! debootstrap --variant=minbase "$SUITE" "$root" >"$root.log" 2>&1; then
        tail -n 30 "$root.log" >&2
        rm -f "$root.log"
        exit 1
    fi
    rm -f "$root.log"
    # As in Debian's own container images: no service starts at package installation, no recommends,
    # no package cache or lists left in layers.
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
        >"$root/etc/apt/apt.conf.d/90picostate-container"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
        "$root"/usr/share/man/* "$root"/usr/share/info/*
    tar --numeric-owner -C "$root" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["bash"]' \
        - local/bookworm >/dev/null
    rm -rf "$root"
    trap - EXIT
    echo "ci-images: made local/bookworm"
fi

# Cached by Docker's layer cache while local/bookworm stays the same. No build context: stdin only.
build() {
    local tag=$1 file=$2 log
    log=$(mktemp)
    if ! docker build -t "$tag" --build-arg BASE=local/bookworm - <"$file" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        rm -f "$log"
        echo "ci-images: building $tag failed" >&2
        exit 1
    fi
    rm -f "$log"
}
build local/python docker/local-python.Dockerfile
echo "ci-images: local/python ready ($(docker run --rm local/python python3 --version))"
build local/mosquitto docker/local-mosquitto.Dockerfile
echo "ci-images: local/mosquitto ready ($(docker run --rm local/mosquitto mosquitto -h 2>&1 | head -n 1))"
