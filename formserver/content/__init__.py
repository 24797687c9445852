"""Content layer: offers, fields and series read from files. Pure Python: no Flask, no SQL."""
