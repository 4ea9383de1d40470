"""The JSON API: the same use cases as the pages, for scripts.

One module per resource (datasets, chunks for chunked uploads, runs, candidates), with
what they share beside them: parsing of request bodies, the one error format, paging,
filters, token authentication and throttling. The URLs are in analysis/api_urls.py; the
OpenAPI schema is served at /api/schema/ and browsed at /api/docs/.
"""

from . import schema  # noqa: F401  (registers the schema extensions)
from .serializers import RunStartSerializer

__all__ = ["RunStartSerializer"]
