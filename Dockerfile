# One image for every process of the desk; docker-compose.yml picks the command per service.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

COPY . .
# Hashed, precompressed static files for WhiteNoise; the key exists only for this build step.
RUN DJANGO_ENV=production DJANGO_SECRET_KEY=collectstatic-build-step-only-0123456789abcdef \
    python manage.py collectstatic --no-input -v 0
RUN useradd --create-home desk && mkdir -p /app/var && chown -R desk /app/var
USER desk

EXPOSE 8000 8001 15100 15101 15102 15103
CMD ["python", "-m", "daphne", "-b", "0.0.0.0", "-p", "8000", "desk.asgi:application"]
