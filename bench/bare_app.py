"""The capture baseline: a bare Flask app that does one SQLite insert per POST."""

from __future__ import annotations

import os
import sqlite3

from flask import Flask, redirect, request

DB = os.environ["BARE_DB"]
app = Flask(__name__)


def _db() -> sqlite3.Connection:
    conn = sqlite3.connect(DB, timeout=10)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


with _db() as setup:
    setup.execute(
        "CREATE TABLE IF NOT EXISTS leads (id INTEGER PRIMARY KEY, email TEXT, body TEXT)"
    )


@app.post("/forms/<offer>")
def submit(offer: str):
    conn = _db()
    with conn:
        conn.execute(
            "INSERT INTO leads (email, body) VALUES (?, ?)",
            (request.form.get("email", ""), repr(dict(request.form))),
        )
    conn.close()
    return redirect("/thanks", code=303)
