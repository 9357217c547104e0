# local/mosquitto: Debian's Mosquitto (2.0.11 in bookworm) and its clients on local/bookworm, for building
# docker/mosquitto.Dockerfile where no registry can be reached (docker/ci-images.sh builds it).
ARG BASE=local/bookworm
FROM ${BASE}
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
RUN set -eu; \
    apt-get update -qq; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        mosquitto mosquitto-clients >/dev/null; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/*
EXPOSE 1883
CMD ["mosquitto", "-c", "/etc/mosquitto/mosquitto.conf"]
