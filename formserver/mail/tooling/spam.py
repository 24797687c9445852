"""Optional SpamAssassin scoring of rendered emails (local tests only, no network checks)."""

from __future__ import annotations

import re
import shutil
import subprocess

from formserver.content.series import Series
from formserver.mail.smtp import Envelope, build, to_bytes
from formserver.mail.tooling.lint import Problem
from formserver.mail.tooling.preview import preview_series, sample_lead

SCORE = re.compile(r"^X-Spam-Status: \w+, score=(-?[\d.]+)", re.M)


def score_series(series: Series, threshold: float) -> list[Problem]:
    """One problem per email scoring above ``threshold``; exit 2 if SpamAssassin is missing."""
    if shutil.which("spamassassin") is None:
        raise SystemExit("--spam needs SpamAssassin: apt-get install spamassassin")
    problems = []
    for p in preview_series(series, sample_lead()):
        envelope = Envelope(
            "sam.sample@example.com",
            series.from_name,
            series.from_email,
            series.reply_to,
            "",
            "https://example.invalid/u",
            f"spam-{p.label}",
            p.email.headers.get("delay", "0") != "0",
        )
        raw = to_bytes(build(p.rendered, envelope))
        result = subprocess.run(
            ["spamassassin", "-L", "-t"], input=raw, capture_output=True, timeout=120
        )
        match = SCORE.search(result.stdout.decode(errors="replace"))
        score = float(match.group(1)) if match else 0.0
        if score > threshold:
            problems.append(Problem(p.email.path, 1, f"spam score {score} > {threshold}"))
    return problems
