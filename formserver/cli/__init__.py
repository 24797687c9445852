"""Command groups for ``flask --app formserver``."""
