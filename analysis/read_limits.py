"""The read limits of ingest, from the settings (PROMISE_MAX_*; see promise/settings.py)."""

from django.conf import settings

from .automl.ingest.limits import ReadLimits, set_default_limits


def limits_from_settings() -> ReadLimits:
    """The limits the settings give for one read of an upload."""
    return ReadLimits(
        decompressed_bytes=settings.PROMISE_MAX_DECOMPRESSED_BYTES,
        xlsx_bytes=settings.PROMISE_MAX_XLSX_BYTES,
        expansion_ratio=settings.PROMISE_MAX_EXPANSION_RATIO,
        ratio_after_bytes=settings.PROMISE_EXPANSION_RATIO_AFTER_BYTES,
        rows=settings.PROMISE_MAX_ROWS,
        columns=settings.PROMISE_MAX_COLUMNS,
        seconds=settings.PROMISE_MAX_PROFILE_SECONDS,
    )


def install() -> None:
    """Make the settings' limits the default of every read in this process (commands,
    sampling's re-read of a missing copy), not only of profiling."""
    set_default_limits(limits_from_settings())
