# The `broker` service of docker-compose.yml: Mosquitto 2 with broker/mosquitto-docker.conf (TLS on 8883,
# users and the per-device ACL from the `secrets` volume, copied and owned at start by
# docker/broker-start.sh; an anonymous listener on the container's loopback for the health check only).
#
# Build argument MOSQUITTO_IMAGE: any image with `mosquitto` and a POSIX sh on its PATH and a `mosquitto`
# user (default eclipse-mosquitto:2; CI builds local/mosquitto from Debian's package, with no registry).
# The health check needs mosquitto_pub too (eclipse-mosquitto has it; Debian's is in mosquitto-clients).
# The two keep their own configs in different places, so the config goes to a path of its own and the
# command names it.
ARG MOSQUITTO_IMAGE=eclipse-mosquitto:2
FROM ${MOSQUITTO_IMAGE}
COPY broker/mosquitto-docker.conf /etc/picostate/mosquitto.conf
COPY docker/mosquitto-health.acl /etc/picostate/health.acl
COPY docker/broker-start.sh /usr/local/bin/picostate-broker-start
EXPOSE 8883
CMD ["picostate-broker-start", "/secrets"]
