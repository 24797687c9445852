"""SECRET_KEY: kept in instance/ in development; in production set, strong, and the same everywhere.

Every link we send is signed with it, so a web server and a worker with different keys hand out
links that fail. Production (neither DEV nor TESTING) therefore never makes a key up: a server
(gunicorn) refuses to load the app without a strong one, and so does every ``flask`` command
except the few that neither sign nor read a link or session (``make build`` runs ``drip lint``
on a machine with no settings at all).
"""

from __future__ import annotations

import logging
import secrets
import sys
from pathlib import Path

import click
from flask import Flask

from formserver.content.errors import FormServerError

logger = logging.getLogger(__name__)

MIN_BYTES = 32
# Values from tutorials, templates and our own docs that someone may paste unchanged.
KNOWN_DEFAULTS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "changethis",
        "default",
        "dev",
        "development",
        "insecure",
        "lodestone",
        "lodestone-dev",
        "mysecret",
        "password",
        "secret",
        "secret-key",
        "secret_key",
        "secretkey",
        "supersecret",
        "test",
        "testing",
        "your-secret-key",
        "your_secret_key",
    }
)
# `flask` commands that neither sign nor verify anything: they run without a key.
KEYLESS_COMMANDS = frozenset({"db upgrade", "drip lint", "drip timeline", "routes"})
HOW_TO = (
    'set FORMSERVER_SECRET_KEY to the same random value on every machine: python3 -c "import'
    ' secrets; print(secrets.token_urlsafe(48))" (development: FORMSERVER_DEV=true)'
)


class InsecureSecretKey(FormServerError, click.ClickException):
    """Production was asked to start with a missing, default or short SECRET_KEY.

    A ClickException too, so ``flask …`` prints it as one ``Error:`` line, not a traceback.
    """


def weakness(key: object) -> str | None:
    """Why ``key`` is unfit for production, or None when it will do."""
    if not key:
        return "SECRET_KEY is not set"
    if not isinstance(key, str | bytes):
        return "SECRET_KEY must be a string"
    text = key.decode(errors="replace") if isinstance(key, bytes) else key
    if text.strip().lower() in KNOWN_DEFAULTS:
        return f"SECRET_KEY is a well-known default ({text.strip()!r})"
    if text.startswith("<") and text.endswith(">"):
        return "SECRET_KEY is still the placeholder from docs/deploy.md"
    size = len(key if isinstance(key, bytes) else key.encode())
    if size < MIN_BYTES:
        return f"SECRET_KEY is {size} bytes long; production needs at least {MIN_BYTES}"
    if len(set(text)) < 8:
        return "SECRET_KEY repeats too few characters to be random"
    return None


def _dev_secret(instance_path: Path) -> str:
    """A random key kept in the instance folder, so dev links survive restarts."""
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(32))
    return key_file.read_text().strip()


# Global options of the `flask` command that take a value (`--app formserver`).
_VALUED_OPTIONS = frozenset({"--app", "-A", "--env-file", "-e"})


def command_words(argv: list[str]) -> str:
    """The command a ``flask ...`` line runs: ``"drip lint"`` for ``--app formserver drip lint``.

    The flask CLI loads the app while it is still looking the command up, so the command is
    read from the same argument list click parses.
    """
    words: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _VALUED_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            words.append(arg)
    return " ".join(words[:2])


def _keyless(argv: list[str]) -> bool:
    if "--help" in argv:
        return True
    words = command_words(argv)
    return not words or words in KEYLESS_COMMANDS or words.split()[0] in KEYLESS_COMMANDS


def configure(app: Flask, instance: Path) -> None:
    """Give development its instance key; refuse a weak key in production (see module doc)."""
    config = app.config
    if config["DEV"] or config["TESTING"]:
        if not config["SECRET_KEY"]:
            config["SECRET_KEY"] = _dev_secret(instance)
        return
    problem = weakness(config["SECRET_KEY"])
    if problem is None:
        return
    if click.get_current_context(silent=True) is not None:  # `flask …`: click prints the error
        if _keyless(sys.argv[1:]):
            return  # e.g. `make build`'s `drip lint` on a machine with no settings at all
    else:  # a WSGI server: one clear line in its log, above the traceback
        logger.critical("formserver refuses to start: %s: %s", problem, HOW_TO)
    raise InsecureSecretKey(f"{problem}: {HOW_TO}")
