#!/bin/sh
# The `broker` service's start: copy Mosquitto's files from the `secrets` volume (docker/stack_secrets.py
# made them, owned by root, 0600) to /run/picostate, owned by user `mosquitto`, then run Mosquitto on
# broker/mosquitto-docker.conf. Mosquitto started as root drops to `mosquitto` before it reads them, and
# that user's uid differs between eclipse-mosquitto (1883) and Debian's package (100 in local/mosquitto):
# so the owner is set here, at start, not in the volume.
#
#   broker-start.sh [SECRETS]     (default /secrets)
set -eu
src=${1:-/secrets}
dst=/run/picostate
if [ ! -f "$src/ready" ]; then
    echo "broker-start: no secrets in $src: the stack's secrets service makes them (docker-compose up secrets)" >&2
    exit 1
fi
mkdir -p "$dst"
cp "$src/certs/server.pem" "$src/certs/server.key" "$src/users/mosquitto.passwd" "$src/users/mosquitto.acl" "$dst/"
chown -R "$(id -u mosquitto):$(id -g mosquitto)" "$dst"
chmod 0700 "$dst"
chmod 0600 "$dst/server.key" "$dst/mosquitto.passwd" "$dst/mosquitto.acl"
chmod 0644 "$dst/server.pem"
exec mosquitto -c /etc/picostate/mosquitto.conf
