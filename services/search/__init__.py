"""Search that reviewers expect: a query parser and the databases' own full-text search."""

from services.search.query import Query, QueryError, parse
from services.search.records import SORTS, Filters, criterion_filters, search_records

__all__ = [
    "SORTS",
    "Filters",
    "Query",
    "QueryError",
    "criterion_filters",
    "parse",
    "search_records",
]
