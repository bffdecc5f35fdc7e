# Slim image, non-root user; migrates the database, then serves.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    TRACKER_HOST=0.0.0.0 TRACKER_PORT=8000 \
    TRACKER_DATABASE_URL=sqlite:////data/tracker.db TRACKER_STORAGE_DIR=/data/files

RUN useradd --create-home --uid 10001 tracker && mkdir /data && chown tracker: /data
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-cache-dir .

USER tracker
VOLUME ["/data"]
EXPOSE 8000
CMD ["sh", "-c", "tracker migrate && exec tracker serve"]
