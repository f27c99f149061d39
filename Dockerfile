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

COPY --from=deps /opt/venv /opt/venv

WORKDIR /app
COPY . .

# Static files are collected (and hashed/compressed for whitenoise) at build time. The settings
# refuse to load with DEBUG off unless a 50+ character secret key and SMTP_URL are set, so this
# one command gets throwaway values; they exist only for this RUN and are not kept in the image.
RUN DJANGO_PRODUCTION=true \
    DJANGO_SECRET_KEY=build-time-only-dummy-key-not-used-at-runtime-0123456789abcdef \
    SMTP_URL=smtp://localhost:25 \
    python manage.py collectstatic --noinput

# The code stays root-owned and read-only for the app user; only /tmp and $HOME are writable.
USER secondop

EXPOSE 8000

# Default command is the web service; compose overrides it for worker and beat.
CMD ["sh", "/app/docker/web-start.sh"]
