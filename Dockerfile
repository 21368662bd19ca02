# Kit App Starter, production image: gunicorn with gunicorn.conf.py. The Kit
# sandbox (kit_sandbox/) is not in it; the `sandbox` stage adds it for compose.
#
# The steps are those of `make serve` and the Procfile, which the test suite
# runs (tests/test_serve.py starts gunicorn with this config); this project's CI
# has no Docker engine and does not build the image, so keep them in step.
#
#   docker build -t kit-app-starter .
#   docker run --rm --env-file .env kit-app-starter flask --app app db upgrade
#   docker run --rm --env-file .env -p 8000:8000 kit-app-starter
#
# The second line is the release step: run it once per deploy, before the new
# containers take traffic (compose.yaml's `migrate` service does it).
FROM python:3.11-slim AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8000

RUN useradd --create-home --uid 10001 app
WORKDIR /srv/app

# The runtime dependencies only (no dev extra). The app itself runs from this
# folder, not from site-packages: its templates, static files and migrations
# live beside the package, where create_app looks for them.
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install . && rm -rf build ./*.egg-info

COPY gunicorn.conf.py ./
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
# instance/: the SQLite database when DATABASE_URL is unset (not for production).
RUN mkdir instance && chown app:app instance

USER app
EXPOSE 8000

# /healthz checks the database; slim images have no curl, so Python asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c 'import os, urllib.request as u; u.urlopen("http://127.0.0.1:%s/healthz" % os.environ.get("PORT", "8000"), timeout=4)'

CMD ["gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"]


# The Kit sandbox, for trying the image without a Kit account (compose.yaml's
# `--profile sandbox`): `docker build --target sandbox .`. Not in the app's
# image, which is the default (last) stage below.
FROM app AS sandbox
COPY kit_sandbox ./kit_sandbox
HEALTHCHECK NONE
EXPOSE 5001
CMD ["python", "-m", "kit_sandbox", "--host", "0.0.0.0", "--port", "5001"]


FROM app
