#!/usr/bin/env bash
# `make test-docker`: build the images, start the compose stack, run its `tests` service, and exit
# with its status; then remove everything the stack made (containers, network, volumes), whatever
# happened, Ctrl-C included. The built images stay, as the cache for the next run.
#
# Environment (all optional): COMPOSE (the compose command; default docker-compose if installed, else
# `docker compose`), COMPOSE_PROJECT_NAME (default picostate), and docker-compose.yml's own variables:
# PYTHON_IMAGE, MOSQUITTO_IMAGE, EXTRA_CA_CERT, PICO_BROKER_PORT.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ -z "${COMPOSE:-}" ]; then
    if command -v docker-compose >/dev/null 2>&1; then
        COMPOSE=docker-compose
    elif docker compose version >/dev/null 2>&1; then
        COMPOSE="docker compose"
    else
        echo "test-docker: neither docker-compose nor the docker compose plugin is installed" >&2
        exit 2
    fi
fi
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-picostate}
# The tests need no port on the host: publish the broker on any free port of 127.0.0.1 unless asked.
export PICO_BROKER_PORT=${PICO_BROKER_PORT-}

compose() { $COMPOSE --ansi never "$@"; }
compose version >/dev/null 2>&1 || compose() { $COMPOSE "$@"; }   # a compose without --ansi

teardown() {
    compose down --volumes --remove-orphans --timeout 10 >/dev/null 2>&1 ||
        compose down --volumes --remove-orphans --timeout 10
}
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'teardown' EXIT

teardown   # what an interrupted run may have left (an old recording on the volume, say)
# Not `up --exit-code-from tests`: that stops the whole stack as soon as any container ends, and the
# one-shot `secrets` service ends first, by design. So: the stack in the background (up waits for each
# service's condition: `secrets` done, the broker and the monitor healthy), then the tests in the
# foreground (run waits for the node to be healthy), with their status; on a failure, the stack's last logs.
status=0
compose build || status=$?
if [ "$status" -eq 0 ]; then
    compose up -d broker monitor node || status=$?
fi
if [ "$status" -eq 0 ]; then
    compose run --rm -T tests || status=$?
fi
if [ "$status" -ne 0 ]; then
    echo "test-docker: failed with status $status; the services' states and their last logs:" >&2
    compose ps >&2 || true
    compose logs --tail 60 secrets broker monitor node >&2 || true
fi
exit "$status"
