"""One safe reader of JSON request bodies, for every endpoint that accepts JSON."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Request, abort

logger = logging.getLogger(__name__)

# No body we accept nests more than two levels; 32 leaves room and stops
# "[[[[...]]]]" long before Python's recursion limit.
MAX_DEPTH = 32


def _no_constants(name: str) -> Any:
    # NaN and Infinity are Python's extension, not JSON: a number field must not receive them.
    raise ValueError(f"{name} is not valid JSON")


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when ``value`` nests lists or objects over ``limit`` deep (walked, not recursed)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if level > limit:
            return True
        stack.extend((child, level + 1) for child in children)
    return False


def read_json(request: Request, max_depth: int = MAX_DEPTH) -> Any:
    """The body parsed as JSON, or a 400 that says why; never a RecursionError or a 500."""
    raw = request.get_data(cache=True)
    try:
        value = json.loads(raw, parse_constant=_no_constants)
    except RecursionError:
        abort(400, description=f"The JSON body is nested too deeply (at most {max_depth} levels).")
    except ValueError:  # JSONDecodeError, bad UTF-8, an integer of more than 4,300 digits
        abort(400, description="The request body is not valid JSON.")
    if too_deep(value, max_depth):
        abort(400, description=f"The JSON body is nested too deeply (at most {max_depth} levels).")
    return value
