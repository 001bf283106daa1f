"""Build Directus queries: ``Query`` chains, ``Q`` filters, lookups, dynamic variables.

Pure: no I/O, nothing from the client or the transport.

>>> Query().filter(author__eq="Beff Jezos").limit(10).sort("-date").to_params()
{'filter': '{"author":{"_eq":"Beff Jezos"}}', 'sort': '-date', 'limit': '10'}
"""

from pydirectus.query.filters import Q
from pydirectus.query.lookups import Lookup, get_lookup, lookup_names, register_lookup
from pydirectus.query.parts import COUNT_KEYS, ITEM_READ_KEYS, SHAPE_KEYS, WINDOW_KEYS
from pydirectus.query.query import Query, query_to_params
from pydirectus.query.schema import Relation, Schema
from pydirectus.query.variables import (
    CURRENT_POLICIES,
    CURRENT_ROLE,
    CURRENT_ROLES,
    CURRENT_USER,
    Now,
    Variable,
)

__all__ = [
    "COUNT_KEYS",
    "CURRENT_POLICIES",
    "CURRENT_ROLE",
    "CURRENT_ROLES",
    "CURRENT_USER",
    "ITEM_READ_KEYS",
    "SHAPE_KEYS",
    "WINDOW_KEYS",
    "Lookup",
    "Now",
    "Q",
    "Query",
    "Relation",
    "Schema",
    "Variable",
    "get_lookup",
    "lookup_names",
    "query_to_params",
    "register_lookup",
]
