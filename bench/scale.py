"""Scale benchmark (issue 8): a dispatch pass over 1,000,000 leads costs what it does over 1,000.

On PostgreSQL, in private schemas dropped at the end, seeds 1,000,000 leads, 100,000 active
enrolments in playbook-nurture (1,000 due now, the rest spread over three weeks) and 100,000
completed ones, with their sent Send rows, Event rows and tags; a baseline schema holds 1,000 leads
and 1,000 enrolments, all due. Then, in one process, with SMTP to a local aiosmtpd sink:

1. one dispatch pass (``drip.tick``: schedule the 1,000 due steps, claim, render, send, record)
   at scale and on the baseline, repeated with fresh due rows, and an idle pass (nothing due);
   medians and the ratio scale / baseline (target about 1.0);
2. a long run of the worker loop at scale (one app, an app context per pass, as the Huey worker
   does): N passes of 1,000 emails each, RSS after pass 5 against the last (target flat).

Usage: ``.venv/bin/python bench/scale.py [--postgres URL] [--leads 1000000]
[--enrolments 100000] [--due 1000] [--repeats 5] [--passes 50]``
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dispatch import Counter, free_port

from formserver import create_app
from formserver.core import db
from formserver.mail.tick import tick

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FRAC = "((hashint4({0}) & 2147483647) / 2147483648.0)"  # a stable pseudo-random [0, 1)

SEED = [
    # Leads: created over a year; the enrolled ones (id % stride = 0) are all active.
    f"""INSERT INTO leads (id, email, first_name, last_name, company, attributes, time_zone,
        status, score, created_at, updated_at, confirmed_at, unsubscribed_at, bounced_at)
    SELECT g, 'lead' || g || '@example.com', 'Lead' || g, '',
        CASE WHEN g % 3 = 0 THEN 'Company ' || g % 5000 ELSE '' END, '{{}}',
        CASE WHEN g % 4 = 0 THEN 'America/New_York' ELSE '' END, st, g % 40, c, c, c,
        CASE WHEN st = 'unsubscribed' THEN c END, CASE WHEN st = 'bounced' THEN c END
    FROM (SELECT g, :now - interval '365 days' * {FRAC.format("g")} AS c,
        CASE WHEN g % :stride = 0 THEN 'active' WHEN g % 37 = 1 THEN 'unsubscribed'
        WHEN g % 53 = 2 THEN 'bounced' ELSE 'active' END AS st
        FROM generate_series(1, :leads) g) x""",
    # Active enrolments, 1 to 4 steps sent; the first :due are due now, the rest in 3 weeks.
    f"""INSERT INTO enrolments (id, lead_id, offer_id, series, cycle, status, enrolled_at,
        started_at, last_step, last_sent_at, next_due_at, stop_reason)
    SELECT e, e * :stride, 'playbook', 'playbook-nurture', 0, 'active', en, en, e % 4,
        en + (e % 4) * interval '2 days',
        CASE WHEN e <= :due THEN :now - interval '1 minute'
        ELSE :now + interval '1 hour' + interval '21 days' * {FRAC.format("e")} END, ''
    FROM (SELECT e, :now - interval '1 day' * (1 + (e % 4) * 3) - interval '1 hour' * (e % 24)
        AS en FROM generate_series(1, :enrolments) e) x""",
    # Completed enrolments (when there are leads to spare): all five steps sent.
    f"""INSERT INTO enrolments (id, lead_id, offer_id, series, cycle, status, enrolled_at,
        started_at, last_step, last_sent_at, stop_reason)
    SELECT :enrolments + k, (k - 1) * :stride + 1, 'playbook', 'playbook-nurture', 0,
        'completed', en, en, 4, en + interval '8 days', ''
    FROM (SELECT k, :now - interval '20 days' - interval '340 days' * {FRAC.format("k")} AS en
        FROM generate_series(1, :enrolments) k) x WHERE :stride > 1""",
    """SELECT setval(pg_get_serial_sequence('leads', 'id'), (SELECT max(id) FROM leads))""",
    """SELECT setval(pg_get_serial_sequence('enrolments', 'id'),
        (SELECT max(id) FROM enrolments))""",
    """INSERT INTO sends (lead_id, enrolment_id, offer_id, series, kind, step, template, status,
        due_at, attempts, last_error, claimed_at, sent_at, message_id, subject)
    SELECT en.lead_id, en.id, en.offer_id, en.series, 'step', st, '0' || st || '-step.md', 'sent',
        t, 1, '', t, t, '<seed-' || en.id || '-' || st || '@lodestone.example>', 'Step ' || st
    FROM enrolments en, generate_series(0, en.last_step) st,
        LATERAL (SELECT en.enrolled_at + st * interval '2 days' AS t) tt""",
    """INSERT INTO events (lead_id, offer_id, kind, data, created_at)
    SELECT id, 'playbook', 'submitted', '{}', created_at FROM leads""",
    """INSERT INTO events (lead_id, offer_id, kind, data, created_at)
    SELECT lead_id, offer_id, 'sent',
        json_build_object('send', id, 'series', series, 'step', step, 'kind', kind), sent_at
    FROM sends""",
    """INSERT INTO events (lead_id, offer_id, kind, data, created_at)
    SELECT lead_id, offer_id, 'downloaded', '{}', sent_at + interval '5 minutes'
    FROM sends WHERE step = 0 AND id % 3 <> 0""",
    """INSERT INTO lead_tags (lead_id, tag, source, created_at)
    SELECT id, tag, 'offer', created_at FROM leads,
        LATERAL (VALUES ('newsletter', id % 10 = 3),
                        ('customer', id % 100 = 7 AND id % :stride <> 0)) v(tag, keep)
    WHERE keep""",
]
COUNTED = ("leads", "enrolments", "sends", "events", "lead_tags")
IDLE_PASSES = 5
MAKE_DUE = """UPDATE enrolments SET next_due_at = :at WHERE id IN (SELECT id FROM enrolments
    WHERE status = 'active' AND next_due_at > :at ORDER BY next_due_at LIMIT :n)"""


def rss_mb() -> float:
    """This process's resident set size, from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def schema_url(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def make_app(url: str, smtp_port: int, tmp: Path, name: str) -> Flask:
    """A production-like app: pooled engine, default batch size, migrated by AUTO_MIGRATE."""
    return create_app(
        {
            "SECRET_KEY": "bench-secret-key-not-for-production",
            "DATABASE_URL": url,
            "QUEUE_URL": f"sqlite:///{tmp / f'{name}-q.db'}",
            "MAIL_PORT": smtp_port,
        }
    )


def seed(engine: Engine, leads: int, enrolments: int, due: int) -> dict[str, int]:
    """Fill the schema server-side, ANALYZE it, and return the row count of each table."""
    params = {
        "now": datetime.now(UTC),
        "leads": leads,
        "enrolments": enrolments,
        "due": due,
        "stride": leads // enrolments,
    }
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE leads, lead_tags RESTART IDENTITY CASCADE"))
        for sql in SEED:
            conn.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in COUNTED}


def make_due(engine: Engine, n: int) -> int:
    """Bring the next ``n`` future steps forward to now, as time passing would."""
    with engine.begin() as conn:
        at = datetime.now(UTC).replace(microsecond=0)
        return conn.execute(text(MAKE_DUE), {"at": at, "n": n}).rowcount


def one_pass(app: Flask) -> tuple[float, float, dict[str, int]]:
    """One worker sweep, as the periodic Huey task runs it: a fresh app context, real ``now``.

    Returns wall-clock seconds, this process's CPU seconds (less sensitive to other load on
    the machine; PostgreSQL's own work is not in it), and tick's totals.
    """
    with app.app_context():
        start, cpu = time.perf_counter(), time.process_time()
        totals = tick(datetime.now(UTC))
        return time.perf_counter() - start, time.process_time() - cpu, totals


def ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


def timed_round(app: Flask, due: int, t: dict[str, list[float]]) -> None:
    """A dispatch pass that must send ``due`` emails, then idle passes with nothing due."""
    wall, cpu, totals = one_pass(app)
    assert totals.get("sent") == due, totals
    t["wall"].append(wall)
    t["cpu"].append(cpu)
    for _ in range(IDLE_PASSES):
        t["idle"].append(one_pass(app)[0])


def compare(big: Flask, base: Flask, args: argparse.Namespace) -> None:
    """Timed passes, interleaved: scale (next 1,000 brought due) and baseline (reseeded)."""
    at_scale: dict[str, list[float]] = {"wall": [], "cpu": [], "idle": []}
    baseline: dict[str, list[float]] = {"wall": [], "cpu": [], "idle": []}
    for r in range(args.repeats + 1):  # round 0 warms caches and the pool, and is not counted
        if r:
            make_due(db.engine(big), args.due)
        timed_round(big, args.due, at_scale)
        seed(db.engine(base), args.due, args.due, args.due)
        timed_round(base, args.due, baseline)
        if not r:
            for t in (at_scale, baseline):
                for samples in t.values():
                    samples.clear()
    title = f"medians of {args.repeats} rounds"
    print(f"\n{title:29s} {'baseline':>11s} {'at scale':>11s}   ratio (scale / base)")
    for label, key in (
        (f"dispatch pass, {args.due} due", "wall"),
        ("  worker CPU in that pass", "cpu"),
        (f"idle pass (x{IDLE_PASSES} per round)", "idle"),
    ):
        b, s = ms(baseline[key]), ms(at_scale[key])
        print(f"{label:29s} {b:8.1f} ms {s:8.1f} ms   {s / b:.2f}")
    for name, t in (("at scale", at_scale), ("baseline", baseline)):
        print(f"dispatch pass {name}, each (s): " + " ".join(f"{x:.1f}" for x in t["wall"]))


def long_run(app: Flask, args: argparse.Namespace) -> None:
    """The worker loop at scale: RSS and pass time sampled after every pass."""
    rss: list[float] = []
    times: list[float] = []
    sent = 0
    for _ in range(args.passes):
        make_due(db.engine(app), args.due)
        elapsed, _, totals = one_pass(app)
        sent += totals.get("sent", 0)
        times.append(elapsed)
        rss.append(rss_mb())
    k = min(5, len(rss))
    print(f"\nlong run at scale: {args.passes} passes, {sent} emails sent")
    print(
        f"RSS after pass {k}: {rss[k - 1]:7.1f} MB   after pass {len(rss)}: {rss[-1]:7.1f} MB"
        f"   growth ratio {rss[-1] / rss[k - 1]:.3f}   (max {max(rss):.1f} MB)"
    )
    print(
        f"pass time, median of first 5: {ms(times[:5]):7.1f} ms   "
        f"of last 5: {ms(times[-5:]):7.1f} ms   ratio {ms(times[-5:]) / ms(times[:5]):.2f}"
    )
    print("RSS per pass (MB): " + " ".join(f"{x:.0f}" for x in rss))
    print("time per pass (s): " + " ".join(f"{x:.1f}" for x in times))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=PG_URL)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--enrolments", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--passes", type=int, default=50)
    args = parser.parse_args()
    if not args.due <= args.enrolments <= args.leads:
        parser.error("need due <= enrolments <= leads")
    # `timeout` and kill send SIGTERM: exit through the finally below, which drops the schemas.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    schemas = [f"bench_scale_{os.getpid()}_{x}" for x in ("big", "base")]
    sink = Counter()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    apps: list[Flask] = []
    try:
        with admin.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
            for schema in schemas:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        print(
            f"machine: {os.cpu_count()} CPUs, {platform.machine()}, Python "
            f"{platform.python_version()}, PostgreSQL {version}, load {os.getloadavg()[0]:.2f}"
        )
        print(
            f"parameters: leads={args.leads:,} active enrolments={args.enrolments:,} "
            f"due per pass={args.due:,} repeats={args.repeats} passes={args.passes}"
        )
        with tempfile.TemporaryDirectory() as tmp:
            for schema in schemas:
                apps.append(make_app(schema_url(args.postgres, schema), port, Path(tmp), schema))
            big, base = apps
            start = time.perf_counter()
            counts = seed(db.engine(big), args.leads, args.enrolments, args.due)
            print(
                f"seeded at scale in {time.perf_counter() - start:.0f} s: "
                + ", ".join(f"{t} {n:,}" for t, n in counts.items())
            )
            compare(big, base, args)
            long_run(big, args)
            print(
                f"\n{sink.count} messages received by the sink in all; load average "
                + " ".join(f"{x:.2f}" for x in os.getloadavg())
            )
    finally:
        controller.stop()
        for app in apps:
            db.engine(app).dispose()
        with admin.connect() as conn:
            for schema in schemas:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
