"""The form server's exceptions: one root, a few subclasses that carry what went wrong."""

from __future__ import annotations

from pathlib import Path


class FormServerError(Exception):
    """Root of every error this package raises on purpose."""


class DefinitionError(FormServerError):
    """A file in ``content/`` (an offer, a series, an email) is not valid."""

    def __init__(self, path: Path | str, reason: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.reason = reason
        self.line = line
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"{where}: {reason}")


class OfferError(DefinitionError):
    """A landing page's offer definition is broken (missing asset, unknown series, ...)."""


class SeriesError(DefinitionError):
    """A drip series folder or one of its emails is broken."""
