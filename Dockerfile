# kamidesk: one image for the API (`app`), the background worker and the one-shot migration.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so code changes reuse this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 kamidesk \
    && mkdir -p /app/var && chown kamidesk /app/var

USER kamidesk
EXPOSE 8000

# `docker-compose.yml` overrides the command per service (worker, migrate).
CMD ["uvicorn", "kamidesk.app:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers"]
