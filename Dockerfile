# SecondOp application image: one image for the web (gunicorn), worker and beat services.
# Plain Dockerfile syntax (no RUN --mount), so it builds with BuildKit and the classic builder.

ARG PYTHON_IMAGE=python:3.12-slim

# --- Stage 1: resolve the locked runtime dependencies into /opt/venv ---------------------
FROM ${PYTHON_IMAGE} AS deps

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1

RUN pip install "uv==0.13.8"

WORKDIR /app
# Only the lock inputs first: this layer is rebuilt only when dependencies change.
# --frozen: install exactly uv.lock (fail rather than re-resolve); --no-dev: no test tools;
# --no-build: wheels only, so the slim image needs no compiler.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project --no-build

# --- Stage 2: runtime -------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv

RUN groupadd --system --gid 10001 secondop \
    && useradd --system --uid 10001 --gid secondop --create-home --home-dir /home/secondop \
        --shell /usr/sbin/nologin secondop

# WeasyPrint renders the signed report's PDF with Pango, in a font of the image's own;
# python-magic names an uploaded record's true type with libmagic.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core libmagic1 gettext \
    && rm -rf /var/lib/apt/lists/*

COPY --from=deps /opt/venv /opt/venv

WORKDIR /app
COPY . .

# Static files are collected (and hashed/compressed for whitenoise) at build time. With DEBUG
# off the settings refuse to load without the real services, which a build does not have; this
# one command runs with DEBUG on, which only lets the settings load (nothing is served here).
RUN DJANGO_DEBUG=true STATIC_MANIFEST=true python manage.py collectstatic --noinput \
    && DJANGO_DEBUG=true python manage.py compilemessages -v 0

# The code stays root-owned and read-only for the app user; only /tmp and $HOME are writable.
USER secondop

EXPOSE 8000

# Default command is the web service; compose overrides it for worker and beat.
CMD ["sh", "/app/docker/web-start.sh"]
