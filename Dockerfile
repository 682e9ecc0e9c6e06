# Prism data simulator: a slim, non-root image serving on 0.0.0.0:8000.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    REPORTS_DIR=/data/reports \
    MPLCONFIGDIR=/tmp/matplotlib \
    MALLOC_ARENA_MAX=2

WORKDIR /app

# MALLOC_ARENA_MAX: worker threads (syncs, reports) otherwise each grow a malloc arena and RSS creeps up.
# Dependencies first, so that a code change reuses this layer.
COPY requirements.txt .
RUN pip install -r requirements.txt

RUN useradd --system --uid 10001 --no-create-home prism \
    && mkdir -p /data/reports \
    && chown prism:prism /data/reports

COPY *.py ./

USER prism
EXPOSE 8000
# Reports are the only files the service writes; /tmp holds matplotlib's cache.
# With `docker run --read-only --tmpfs /tmp -v prism-reports:/data/reports` the root filesystem stays read-only.
VOLUME ["/data/reports"]

HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request as u; sys.exit(u.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/health', timeout=2).status != 200)"]

STOPSIGNAL SIGTERM
CMD ["python", "main.py"]
