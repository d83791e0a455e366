from __future__ import annotations

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """``?page=N&page_size=M`` (M at most 500); answers ``{count, next, previous, results}``."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def paginated(serializer_class: type, name: str | None = None) -> object:
    """The OpenAPI shape of a paginated list of ``serializer_class`` (for ``extend_schema``)."""
    from drf_spectacular.utils import inline_serializer
    from rest_framework import serializers

    base = name or serializer_class.__name__.removesuffix("Serializer").removesuffix("Output")
    return inline_serializer(
        name=f"Paginated{base}List",
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )
