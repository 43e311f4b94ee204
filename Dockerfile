# syntax=docker/dockerfile:1
# The uniqodo-mock image: the mock API (:8080) and the callback receiver (:8090).
#   docker build -t uniqodo-mock .
#   docker run -p 8080:8080 -p 8090:8090 uniqodo-mock                 # uniqodo-mock up
#   docker run -p 8080:8080 uniqodo-mock serve --db postgresql+psycopg://...
#   docker run --network host uniqodo-mock contract --base-url http://127.0.0.1:8080
# State lives in /data (a volume); compose.yaml runs it on PostgreSQL. See README.md "Docker".

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: the wheel, exactly as `python -m pip wheel --no-deps` builds it anywhere ---------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# What the wheel is built from (src/_build.py copies openapi/ and fixtures/ into it).
COPY pyproject.toml MANIFEST.in README.md ./
COPY src/ src/
COPY openapi/ openapi/
COPY fixtures/ fixtures/
RUN python -m pip wheel --no-deps -w /dist .

# --- run: the wheel and its dependencies in a venv, a non-root user, state on /data ---------
FROM ${PYTHON_IMAGE}
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/uniqodo-mock
ENV PATH=/opt/uniqodo-mock/bin:$PATH
RUN --mount=type=bind,from=build,source=/dist,target=/dist \
    python -m venv /opt/uniqodo-mock \
    && /opt/uniqodo-mock/bin/python -m pip install /dist/uniqodo_mock-*.whl

# A fixed uid/gid, so a host folder mounted on /data can be given to it (chown 10001).
RUN groupadd --system --gid 10001 uniqodo \
    && useradd --system --uid 10001 --gid uniqodo --create-home --home-dir /home/uniqodo uniqodo \
    && mkdir /data \
    && chown uniqodo:uniqodo /data
COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/uniqodo-mock-entrypoint
COPY --chmod=0755 docker/subscribe_receiver.py /usr/local/bin/uniqodo-mock-subscribe

ENV UNIQODO_MOCK_DB=sqlite:////data/uniqodo-mock.db \
    UNIQODO_MOCK_HEALTH_URL=http://127.0.0.1:8080/__admin/health
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080 8090
# Ready once the mock answers its health endpoint (the receiver alone: set
# UNIQODO_MOCK_HEALTH_URL=http://127.0.0.1:8090/__receiver/health).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(urllib.request.urlopen(os.environ['UNIQODO_MOCK_HEALTH_URL'], timeout=4).status != 200)"]
ENTRYPOINT ["uniqodo-mock-entrypoint"]
CMD ["up"]
