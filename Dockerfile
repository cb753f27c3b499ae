# syntax=docker/dockerfile:1
# One image for every LogAggregator service; the command chooses which one runs:
#   docker run IMAGE ingest | parser | shipper es | shipper s3 | shipper install-templates
#   docker run IMAGE kibana import | dashboard
ARG PYTHON_IMAGE=python:3.13.5-slim-bookworm

# -- build: compilers are here only, in case a dependency has no wheel for this platform --
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# Dependencies in their own layer: it is rebuilt only when pyproject.toml changes. The
# `dashboard` extra (rq-dashboard, for `logagg dashboard`) is in the image too.
COPY pyproject.toml ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; print('\n'.join(p['dependencies'] + p['optional-dependencies']['dashboard']))" > requirements.txt \
 && pip install -r requirements.txt

# The project itself, without touching the dependency layer.
COPY README.md ./
COPY shared/ shared/
COPY services/ services/
RUN pip install --no-deps . \
 && python -m compileall -q /opt/venv/lib

# -- runtime: the virtualenv, the operator files, an unprivileged user, nothing else --
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="logagg" \
      org.opencontainers.image.description="LogAggregator: ingest, parser and shipper services"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LOGAGG_LOG_FORMAT=json \
    LOGAGG_INGEST_PORT=3001
RUN groupadd --system --gid 10001 logagg \
 && useradd --system --uid 10001 --gid logagg --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin logagg
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY deploy/healthcheck.py /app/healthcheck.py
COPY kibana/ /app/kibana/
# A numeric user, so that Kubernetes' runAsNonRoot can verify it without a passwd lookup.
USER 10001:10001
EXPOSE 3001
# Ingest answers /healthz; a worker container is healthy while its RQ worker is registered.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "/app/healthcheck.py"]
ENTRYPOINT ["logagg"]
CMD ["ingest"]
