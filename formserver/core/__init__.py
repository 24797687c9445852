"""Core: settings, the database and its models, signed tokens, cached catalogs."""
