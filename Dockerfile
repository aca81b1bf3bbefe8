# Production image: one image for init (migrate, grants), web (gunicorn), worker and beat (celery);
# see docker-compose.yml.
# The base by tag and digest: a rebuild gets the same system. To move to a newer patch release:
# `docker buildx imagetools inspect python:3.11-slim-bookworm`, then replace the digest.
FROM python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DEBIAN_FRONTEND=noninteractive

# WeasyPrint's libraries and the CJK fonts of the letters (docs/letter-layout.md, "Fonts"):
# Noto CJK and AR PL UKai from Debian, Fandol extracted from texlive-lang-chinese without TeX.
COPY scripts/install-fandol-fonts /usr/local/bin/install-fandol-fonts
RUN apt-get update -q \
    && apt-get install -y -q --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libffi-dev fontconfig \
        fonts-noto-cjk fonts-arphic-ukai fonts-lxgw-wenkai \
        postgresql-client tzdata \
    && install-fandol-fonts /usr/local/share/fonts/fandol \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb

WORKDIR /app

# Dependencies first (cached while the lock is unchanged): exactly the locked versions, every
# file checked against the lock's hash (requirements/prod.txt, made by `make lock`).
COPY requirements/prod.txt /tmp/requirements.txt
RUN pip install --require-hashes --no-deps -r /tmp/requirements.txt \
    && pip check \
    && rm /tmp/requirements.txt

COPY . .

# The code is run from /app (templates/ and manage.py live here); it is not installed as a package.
# STATIC_MANIFEST: the settings' production storage (hashed names from the manifest, no finders).
ENV PYTHONPATH=/app \
    STATIC_ROOT=/app/staticfiles \
    STATIC_MANIFEST=true \
    MEDIA_ROOT=/data/media \
    TZ=Asia/Shanghai

# Static files, once, at build time: hashed names, a .gz and a .br (the Brotli package is in the
# lock) beside each file, served by whitenoise from here with a one-year cache. Owned by root and
# readable by everyone, written by no one else: the app's user (uid 1000) reads, never changes them.
RUN SECRET_KEY=collectstatic-only DATABASE_URL=sqlite:////tmp/build.sqlite3 \
        python manage.py collectstatic --noinput \
    && chmod -R a+rX,go-w /app/staticfiles \
    && rm -f /tmp/build.sqlite3*

RUN useradd --system --create-home --home-dir /home/app --uid 1000 app \
    && mkdir -p /data/media \
    && chown -R app:app /data
USER app

EXPOSE 8000
# gunicorn.conf.py: bind 0.0.0.0:8000, workers, logs, metrics (GUNICORN_* variables).
CMD ["gunicorn", "-c", "gunicorn.conf.py", "tracker.wsgi:application"]
