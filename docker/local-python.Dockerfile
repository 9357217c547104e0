# local/python: Python 3 from Debian's packages on local/bookworm, for building docker/python.Dockerfile
# where no registry can be reached (docker/ci-images.sh builds it; it has no build context).
ARG BASE=local/bookworm
FROM ${BASE}
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
RUN set -eu; \
    apt-get update -qq; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        python3 python3-venv ca-certificates >/dev/null; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/*
CMD ["python3"]
