"""PROMISE's own limits and defaults, each from the environment (promise/settings.py
imports them): uploads and reading them, limits per user, the audit log's retention,
discovery, and serving predictions."""

import os

# Largest upload, and limits per user (analysis/limits.py); an administrator sets one
# user's own in the admin.
PROMISE_MAX_UPLOAD_BYTES = int(os.environ.get("PROMISE_MAX_UPLOAD_BYTES", 20 * 1024**3))
PROMISE_STORAGE_QUOTA_BYTES = int(os.environ.get("PROMISE_STORAGE_QUOTA_BYTES", 200 * 1024**3))
PROMISE_MAX_CONCURRENT_RUNS = int(os.environ.get("PROMISE_MAX_CONCURRENT_RUNS", 10))
PROMISE_MAX_TIME_BUDGET = int(os.environ.get("PROMISE_MAX_TIME_BUDGET", 24 * 3600))
# The audit log (analysis/audit.py) keeps entries this many days; prune_audit removes older.
PROMISE_AUDIT_RETENTION_DAYS = int(os.environ.get("PROMISE_AUDIT_RETENTION_DAYS", 365))

# Reading an upload: hard limits, checked while the file streams, not after it was read
# (analysis/automl/ingest/limits.py). Past one, the file is refused with a sentence that
# names the limit; none of them holds back a table PROMISE could otherwise learn from.
# Bytes out of a gzip, bz2 or zip upload's decompressor.
PROMISE_MAX_DECOMPRESSED_BYTES = int(os.environ.get("PROMISE_MAX_DECOMPRESSED_BYTES", 50 * 1024**3))
# Bytes out of an .xlsx workbook's members (its sheet's XML): openpyxl reads 2 to 5 MB of
# it a second, so 1 GB is minutes of a worker; larger tables belong in a CSV or Parquet.
PROMISE_MAX_XLSX_BYTES = int(os.environ.get("PROMISE_MAX_XLSX_BYTES", 1024**3))
# Decompressed bytes per compressed byte, judged once PROMISE_EXPANSION_RATIO_AFTER_BYTES
# came out (for a workbook's XML, a sixteenth of that, as openpyxl reads it that much
# slower): tables compress 3 to 30 times, compression bombs a thousand.
PROMISE_MAX_EXPANSION_RATIO = float(os.environ.get("PROMISE_MAX_EXPANSION_RATIO", 100))
PROMISE_EXPANSION_RATIO_AFTER_BYTES = int(
    os.environ.get("PROMISE_EXPANSION_RATIO_AFTER_BYTES", 64 * 1024**2)
)
PROMISE_MAX_ROWS = int(os.environ.get("PROMISE_MAX_ROWS", 2_000_000_000))
PROMISE_MAX_COLUMNS = int(os.environ.get("PROMISE_MAX_COLUMNS", 2000))
# One profile, every pass over the file included.
PROMISE_MAX_PROFILE_SECONDS = float(os.environ.get("PROMISE_MAX_PROFILE_SECONDS", 1800))
# Profiling tasks of one user that run at once; the others wait in the queue, so one
# user's uploads cannot hold every worker.
PROMISE_PROFILES_PER_USER = int(os.environ.get("PROMISE_PROFILES_PER_USER", 1))

# Discovery defaults
PROMISE_DEFAULT_SAMPLE_ROWS = int(os.environ.get("PROMISE_DEFAULT_SAMPLE_ROWS", 100_000))
PROMISE_DEFAULT_TIME_BUDGET = int(os.environ.get("PROMISE_DEFAULT_TIME_BUDGET", 120))
# Resident memory one candidate's training may use before it is stopped and marked failed.
# Unset: 80% of the machine's memory shared by one worker process per core.
PROMISE_CANDIDATE_MEMORY_MB = int(os.environ.get("PROMISE_CANDIDATE_MEMORY_MB", 0)) or None

# Serving predictions (analysis/serving.py). Each web process keeps the models it served
# last within this memory (estimated from their files); answers stay in Redis this many
# seconds (0: not cached); each model's latency percentiles use its last this many requests.
SERVING_MODEL_CACHE_MB = int(os.environ.get("PROMISE_SERVING_MODEL_CACHE_MB", 512))
SERVING_PREDICTION_CACHE_SECONDS = int(os.environ.get("PROMISE_PREDICTION_CACHE_SECONDS", 300))
SERVING_LATENCY_SAMPLES = int(os.environ.get("PROMISE_SERVING_LATENCY_SAMPLES", 1000))
# Answers come from (and go to) the Redis cache only for a model whose recent answers took
# at least this many milliseconds to compute: a faster model answers in less time than the
# round trips to Redis cost (analysis/serving.py). 0: cache every model's answers.
SERVING_PREDICTION_CACHE_MIN_MS = float(os.environ.get("PROMISE_PREDICTION_CACHE_MIN_MS", 2))
# Each web process remembers a candidate asked for predictions this many seconds: one
# deleted is refused by every process within this time (analysis/serving.py).
SERVING_CANDIDATE_SECONDS = float(os.environ.get("PROMISE_SERVING_CANDIDATE_SECONDS", 5))

# Each web process remembers the owner of an API token it checked this many seconds: a
# revoked token is refused by every process within this time (analysis/tokens.py).
TOKEN_CACHE_SECONDS = float(os.environ.get("PROMISE_TOKEN_CACHE_SECONDS", 5))
