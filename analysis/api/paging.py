"""Pages of a list: ?page=N&page_size=M, answered as {count, next, previous, results}."""

from rest_framework.pagination import PageNumberPagination


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    invalid_page_message = (
        "There is no page “{page_number}” of this list: pages are numbered from 1 to the "
        "last one with results (see count and page_size)."
    )
