# The `broker` service of docker-compose.yml: Mosquitto 2 with broker/mosquitto-docker.conf.
#
# Build argument MOSQUITTO_IMAGE: any image with `mosquitto` on its PATH (default eclipse-mosquitto:2; CI
# builds local/mosquitto from Debian's package, with no registry). The health check needs mosquitto_pub
# too (eclipse-mosquitto has it; Debian's is in mosquitto-clients).
# The two keep their own configs in different places, so the config goes to a path of its own and the
# command names it.
ARG MOSQUITTO_IMAGE=eclipse-mosquitto:2
FROM ${MOSQUITTO_IMAGE}
COPY broker/mosquitto-docker.conf /etc/picostate/mosquitto.conf
EXPOSE 1883
CMD ["mosquitto", "-c", "/etc/picostate/mosquitto.conf"]
