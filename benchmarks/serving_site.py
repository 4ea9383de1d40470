"""Settings of the serving benchmark's server: PROMISE's own production settings (from the
environment benchmarks/serving.py sets), plus the reference view's address."""

from promise.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.serving_urls"
