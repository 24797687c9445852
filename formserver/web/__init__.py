"""Web: the public endpoints (forms, download, confirm, unsubscribe, tracking, health, errors)."""
