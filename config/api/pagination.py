"""Page-number pagination for small, bounded lists (docs/api-conventions.md)."""

from django.conf import settings
from rest_framework import pagination


class Pagination(pagination.PageNumberPagination):
    """``?page=`` and ``?page_size=`` (at most ``API_MAX_PAGE_SIZE``)."""

    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
            elif parameter["name"] == self.page_query_param:
                parameter["schema"].update(minimum=1)
        return parameters
