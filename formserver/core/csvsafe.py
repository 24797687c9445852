"""CSV cells that a spreadsheet shows as text: no formula injection from a lead's own values."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

logger = logging.getLogger(__name__)

# A cell starting with one of these runs as a formula in Excel, LibreOffice and Sheets (OWASP);
# a line break or tab first also lets a spreadsheet read what follows as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: Any) -> str | int:
    """A value as a CSV cell; text that a spreadsheet would evaluate gets a leading quote.

    Whole numbers stay numbers (a negative score is data, not a formula); everything else is text.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
