"""Path converters: ids that fit a 64-bit column (a 30-digit id answers 404, not a database
overflow), and app versions where -1 means the latest."""

from django.urls import register_converter


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


class AppVersionConverter(IdConverter):
    regex = "-1|[0-9]{1,9}"


register_converter(IdConverter, "id")
register_converter(AppVersionConverter, "version")
