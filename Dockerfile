# Two stages: the build stage installs the pinned, hash-checked dependencies (requirements.txt,
# from pip-compile --generate-hashes) and the project into a virtualenv; the runtime stage copies
# only that virtualenv, the migrations and alembic.ini, and runs as a non-root user.
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY requirements.txt ./
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r requirements.txt
COPY pyproject.toml README.md ./
COPY app ./app
# The dependencies are in already: only the project itself, built with the virtualenv's setuptools.
RUN /opt/venv/bin/pip install --no-deps --no-build-isolation .

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    TRACKER_HOST=0.0.0.0 TRACKER_PORT=8000 \
    TRACKER_DATABASE_URL=sqlite:////data/tracker.db TRACKER_STORAGE_DIR=/data/files

RUN useradd --create-home --uid 10001 tracker && mkdir /data && chown tracker: /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY alembic.ini ./
COPY migrations ./migrations

USER tracker
VOLUME ["/data"]
EXPOSE 8000
# Alone (SQLite), it migrates, then serves; with compose.yaml a migration job runs first instead.
CMD ["sh", "-c", "tracker migrate && exec tracker serve"]
