# CRM Warden as ops deploy it: one image for the worker, Celery workers, beat and the release step.
# Build: docker build -t crm-warden .   Run: docker compose up (see compose.yaml and the README).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY connectors ./connectors
COPY dedupe ./dedupe
COPY demo ./demo
COPY domain ./domain
COPY enforcement ./enforcement
COPY jobs ./jobs
COPY notify ./notify
COPY store ./store
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin nonroot \
    && mkdir -p /app/.warden && chown nonroot /app/.warden

USER nonroot
ENTRYPOINT ["warden"]
CMD ["worker"]
