"""Marketer tooling over the mail layer: lint, preview, spam score, test send, timeline."""
