# Wegwijzer I&D: one instance of `wegwijzer serve`. Run two or more behind a load balancer, all
# with the same settings and one PostgreSQL (docs/deploy.md). Migrations are a separate command:
#   docker run --rm --env-file wegwijzer.env IMAGE wegwijzer db upgrade
# Build: docker build -t wegwijzer .   (not built in this repository's CI: no Docker engine there)

FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot bot
COPY dialogs dialogs
COPY services services
COPY storage storage
COPY content content
COPY manifest manifest
RUN python -m venv /opt/wegwijzer && /opt/wegwijzer/bin/pip install .

FROM python:3.12-slim
RUN useradd --system --create-home --home-dir /app --uid 10001 wegwijzer
COPY --from=build /opt/wegwijzer /opt/wegwijzer
ENV PATH=/opt/wegwijzer/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ENVIRONMENT=production \
    HOST=0.0.0.0 \
    PORT=3978
WORKDIR /app
USER wegwijzer
EXPOSE 3978
# /healthz says the process answers; the load balancer should probe /readyz (database too).
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3978'), timeout=2)"]
# SIGTERM (docker stop, a rolling update) lets turns in flight finish first (docs/operations.md).
STOPSIGNAL SIGTERM
CMD ["wegwijzer", "serve"]
