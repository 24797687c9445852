"""The dashboard reads offers through the one shared catalog (``formserver.catalog``)."""

from formserver.catalog import offer, offers

__all__ = ["offer", "offers"]
