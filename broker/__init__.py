"""The broker part: an embedded amqtt broker (the zero-install default) and Mosquitto configs, with users,
per-device ACLs and TLS for both (`python -m broker user`, `certs`: broker/cli.py, docs/security.md)."""
