# syntax=docker/dockerfile:1
#
# The pipeline's Airflow image, used by every Airflow service in docker-compose.yml and by the one-shot
# warehouse bootstrap and the provider simulator. It is the official Airflow image plus:
#   - exactly the runtime dependency versions pinned in uv.lock (hash-checked, no dev tools);
#   - this project: the probation_evidence package (the `probation-evidence` command), dags/, plugins/,
#     dbt_project/ (with its manifest parsed at build time) and sql/;
#   - Debian's chromium, which prints the evidence packs to PDF (never `playwright install`).
#
# The Airflow version in the FROM line must equal apache-airflow in uv.lock, and uv's version the one the
# Makefile pins: tests/unit/test_deployment.py checks both. Build with `docker compose build`.

FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM apache/airflow:3.3.2-python3.11

USER root
# chromium for the pack PDFs; Liberation (metric-compatible with Arial and Helvetica) and DejaVu so that
# the packs lay out the same as on a developer's machine.
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-liberation fonts-dejavu-core \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*
COPY --from=uv /uv /usr/local/bin/uv
USER airflow

# The project lives in AIRFLOW_HOME: dags/ and plugins/ are where Airflow looks by default, and
# PROBATION_EVIDENCE_HOME tells the installed package where dbt_project/ and sql/ are.
ENV PROBATION_EVIDENCE_HOME=/opt/airflow \
    CHROMIUM_PATH=/usr/bin/chromium \
    DO_NOT_TRACK=1 \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False
WORKDIR /opt/airflow

# 1. Dependencies, in a layer of their own so that a code change does not reinstall them. The export holds
#    every package of the lock with its hashes, apache-airflow included at the FROM line's version, so pip
#    keeps the image's Airflow and installs nothing the lock does not name.
COPY --chown=airflow:0 pyproject.toml uv.lock README.md ./
RUN uv export --frozen --no-dev --no-emit-project --format requirements-txt --output-file /tmp/requirements.txt \
    && pip install --no-cache-dir --requirement /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# 2. The project. The package is installed without dependencies (they are all above).
COPY --chown=airflow:0 plugins/ plugins/
COPY --chown=airflow:0 dags/ dags/
COPY --chown=airflow:0 dbt_project/ dbt_project/
COPY --chown=airflow:0 sql/ sql/
RUN pip install --no-cache-dir --no-deps .

# 3. The dbt manifest the transform DAG is parsed from. `dbt parse` opens no connection; the profile's
#    variables only have to be set.
RUN WAREHOUSE_PORT=5432 WAREHOUSE_USER=parse WAREHOUSE_DB=parse \
    dbt parse --project-dir dbt_project --profiles-dir dbt_project --quiet

# Folders that docker-compose.yml mounts named volumes on: created here, so that a new volume starts out
# owned by the airflow user.
RUN mkdir -p data/landing data/drops output/packs
