# The DLSEI portal's production image. One image runs every Python service of
# docker-compose.yml: gunicorn (the default command), the Celery worker and beat, and the one-shot
# `migrate`. The code runs from /app; pip installs the dependencies at the exact versions of
# constraints.txt.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    VAR_DIR=/data/var \
    PRIVATE_MEDIA_ROOT=/data/private

# WeasyPrint draws challans and invoices with Pango and HarfBuzz; Noto has the Latin and the
# Nastaliq (Urdu) faces; gettext's msgfmt is what compilemessages runs.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 \
        fonts-noto-core fonts-dejavu-core gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, in a layer of their own, so that a code change does not reinstall them.
# Only the project's metadata is here yet: `pip install .` brings in its dependencies, and the
# code itself is imported from /app (PYTHONPATH) so that settings find templates/, static/ and
# locale/ beside it.
COPY pyproject.toml constraints.txt ./
RUN pip install -c constraints.txt .

COPY . .

# Static files are collected (hashed and compressed for whitenoise, as DEBUG=0 serves them) and
# translations compiled at build time; the secret here is a throwaway that only lets settings load.
RUN mkdir -p locale \
    && DEBUG=0 SECRET_KEY=image-build-only-not-a-secret python manage.py collectstatic --noinput \
    && DEBUG=0 SECRET_KEY=image-build-only-not-a-secret python manage.py compilemessages

# The portal never runs as root. /data/private is the private-uploads volume (its first mount
# takes this ownership); /data/var holds what settings keep under VAR_DIR.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/dlsei dlsei \
    && mkdir -p /data/private /data/var \
    && chown -R dlsei:dlsei /data
USER dlsei

EXPOSE 8000
CMD ["gunicorn", "dlsei.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
