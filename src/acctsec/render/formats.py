"""The names of output formats, importable without loading any formatter."""

from enum import StrEnum


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"
