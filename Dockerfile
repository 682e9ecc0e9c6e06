# Prism data simulator: a slim, non-root image serving on 0.0.0.0:8000.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    REPORTS_DIR=/data/reports \
    MPLCONFIGDIR=/opt/matplotlib \
    MALLOC_ARENA_MAX=2

WORKDIR /app

# MALLOC_ARENA_MAX: worker threads (syncs, reports) otherwise each grow a malloc arena and RSS creeps up.
# Dependencies first, so that a code change reuses this layer.
COPY requirements.txt .
RUN pip install -r requirements.txt \
    && python -c "import matplotlib.font_manager" \
    && chmod -R a+rX /opt/matplotlib

# matplotlib's font cache is built above, at image build, so the first report does not pay for it and a
# read-only root filesystem is enough at run time.
RUN groupadd --gid 10001 prism \
    && useradd --uid 10001 --gid prism --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin prism \
    && mkdir -p /data/reports \
    && chown prism:prism /data/reports

# The top-level modules are the doors of the design card; the rest of the code is the prism package.
COPY *.py ./
COPY prism ./prism

USER prism
EXPOSE 8000
# Reports are the only files the service writes.
# With `docker run --read-only --tmpfs /tmp -v prism-reports:/data/reports` the root filesystem stays read-only.
VOLUME ["/data/reports"]

# Checked every second while starting (Docker 25+), so the container is healthy within a few seconds.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --start-interval=1s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request as u; sys.exit(u.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/health', timeout=2).status != 200)"]

STOPSIGNAL SIGTERM
CMD ["python", "main.py"]
