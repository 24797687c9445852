"""Marketer tooling: lint catches each mistake with file and line, preview, test send, timeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from formserver import create_app
from formserver.core import db
from formserver.dashboard import auth
from tests.admin.admin_helpers import csrf_token, login
from tests.drip.conftest import SERIES_TOML, STEPS
from tests.site.conftest import write_site


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = write_site(tmp_path / "site")
    folder = root / "content" / "emails" / "guide-series"
    (folder / "series.toml").write_text(SERIES_TOML)
    (folder / "00-guide.md").unlink()
    for name, text in STEPS.items():
        (folder / name).write_text(text)
    return root


@pytest.fixture
def app_config(app_config: dict, site: Path, smtp) -> dict:
    return app_config | {
        "CONTENT_PATH": str(site / "content"),
        "ASSETS_PATH": str(site / "assets"),
        "MAIL_PORT": smtp[1],
        "SITE_OUTPUT_PATH": str(site / "output"),
    }


def lint(runner, *args: str):
    return runner.invoke(args=["drip", "lint", *args])


def step(site: Path, name: str) -> Path:
    return site / "content" / "emails" / "guide-series" / name


def test_lint_passes_on_the_fixture_and_the_sample_series(app, runner) -> None:
    result = lint(runner)
    assert result.exit_code == 0, result.output
    samples = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": app.config["DATABASE_URL"],
            "QUEUE_URL": app.config["QUEUE_URL"],
        }
    ).test_cli_runner()
    result = lint(samples)
    assert result.exit_code == 0, result.output
    assert "2 series, 0 errors" in result.output


CASES = [
    ("01-tip.md", "A **tip**.", "A {{ lead.first_name ", 4, "Jinja syntax error"),
    ("01-tip.md", "A **tip**.", "A {{ lead.shoe_size }}.", 4, "unknown merge field lead.shoe_size"),
    ("01-tip.md", "A **tip**.", "A {{ coupon_code }}.", 4, "unknown merge field coupon_code"),
    ("02-proof.md", "Subject: Proof\n", "", 1, "missing Subject header"),
    ("02-proof.md", "Delay: 1 week", "Delay: -1 week", 2, "delay '-1 week'"),
    (
        "01-tip.md",
        "Read [the article](https://www.lodestone.test/blog/a/)",
        "Read [the article](/blog/a/)",
        4,
        "relative link '/blog/a/'",
    ),
    (
        "01-tip.md",
        "A **tip**.",
        "A **tip**. ![](https://img.example.com/x.png)",
        4,
        "image without alt text",
    ),
    (
        "01-tip.md",
        "A **tip**.",
        'A <img src="https://img.example.com/x.png">',
        4,
        "image without alt text",
    ),
    (
        "01-tip.md",
        "A **tip**.",
        "A <a class=cta href=/blog/a/>tip</a>.",  # unquoted: the old regex missed it
        4,
        "relative link '/blog/a/'",
    ),
    (
        "01-tip.md",
        "A **tip**.",
        "A <a\n  href='/blog/b/'>tip</a>.",  # a tag over two lines: reported on its first
        4,
        "relative link '/blog/b/'",
    ),
    (
        "02-proof.md",
        "Delay: 1 week\n",
        "Delay: 1 week\nLayout: none\n",
        5,
        "marketing email with Layout: none needs {{ unsubscribe_url }}",
    ),
]


@pytest.mark.parametrize("name,old,new,line,message", CASES)
def test_lint_names_file_line_and_problem(app, runner, site, name, old, new, line, message) -> None:
    path = step(site, name)
    path.write_text(path.read_text().replace(old, new))
    result = lint(runner, "guide-series")
    assert result.exit_code == 1
    assert f"{path}:{line}: {message}" in result.output


def test_duplicate_step_order_and_link_to_a_missing_page(app, runner, site) -> None:
    (site / "output" / "blog" / "a").mkdir(parents=True)
    (site / "output" / "blog" / "a" / "index.html").write_text("ok")
    path = step(site, "01-tip.md")
    path.write_text(path.read_text().replace("/blog/a/", "/blog/missing/"))
    assert f"{path}:4: link to a missing page" in lint(runner).output
    step(site, "01-copy.md").write_text(STEPS["01-tip.md"])
    result = lint(runner)
    assert result.exit_code == 1 and "two files are step 1" in result.output


def test_long_subject_is_only_a_warning(app, runner, site) -> None:
    path = step(site, "02-proof.md")
    path.write_text(path.read_text().replace("Subject: Proof", "Subject: " + "Proof " * 15))
    result = lint(runner)
    assert result.exit_code == 0
    assert f"{path}:1: warning: subject is 89 characters" in result.output


def test_preview_writes_both_parts_with_merge_fields(app, runner, tmp_path) -> None:
    out = tmp_path / "preview"
    result = runner.invoke(args=["drip", "preview", "guide-series", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Tip one for Sam" in (out / "index.html").read_text()
    assert "Hi Sam" in (out / "00.txt").read_text()
    assert "Some proof for Example Ltd" in (out / "02.html").read_text()
    lead = tmp_path / "lead.json"
    lead.write_text('{"first_name": "Zoe", "company": "Zed Co"}')
    runner.invoke(
        args=[
            "drip",
            "preview",
            "guide-series",
            "--step",
            "2",
            "--lead",
            str(lead),
            "--out",
            str(out / "zoe"),
        ]
    )
    assert "Some proof for Zed Co" in (out / "zoe" / "02.html").read_text()
    assert not (out / "zoe" / "01.html").exists()


def test_preview_index_shows_a_subject_as_text(app, runner, site, tmp_path) -> None:
    path = step(site, "02-proof.md")
    path.write_text(path.read_text().replace("Subject: Proof", "Subject: <b>Proof</b> & co"))
    out = tmp_path / "preview"
    result = runner.invoke(args=["drip", "preview", "guide-series", "--out", str(out)])
    assert result.exit_code == 0, result.output
    index = (out / "index.html").read_text()
    assert '<a href="02.html">&lt;b&gt;Proof&lt;/b&gt; &amp; co</a>' in index
    assert '<a href="02.txt">text</a>' in index


def test_send_test_arrives_at_the_smtp_sink(app, runner, smtp) -> None:
    sink, _ = smtp
    result = runner.invoke(args=["drip", "send-test", "guide-series", "--to", "me@example.com"])
    assert result.exit_code == 0, result.output
    assert [m["Subject"] for m in sink.to("me@example.com")] == [
        "[TEST] Confirm",
        "[TEST] Your The Secret Guide",
        "[TEST] Tip one for Sam",
        "[TEST] Proof",
    ]
    one = runner.invoke(
        args=["drip", "send-test", "guide-series", "--to", "me@example.com", "--step", "2"]
    )
    assert one.exit_code == 0 and sink.messages[-1]["Subject"] == "[TEST] Proof"


def test_timeline_across_a_weekend_and_dst(app, runner) -> None:
    result = runner.invoke(
        args=[
            "drip",
            "timeline",
            "guide-series",
            "--start",
            "2026-03-19T20:00",
            "--tz",
            "Europe/London",
        ]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Thu 2026-03-19 20:00 GMT   2026-03-19 20:00" in lines[1]
    assert "Mon 2026-03-23 09:00 GMT   2026-03-23 09:00" in lines[2]  # Saturday → Monday
    assert "Mon 2026-03-30 09:00 BST   2026-03-30 08:00" in lines[3]  # after the clocks moved


def test_admin_series_page_needs_login_then_shows_everything(app, client, smtp) -> None:
    assert client.get("/admin/series/guide-series").status_code in (302, 401, 403)
    with app.app_context(), db.new_session() as s:
        auth.create_user(s, "m@example.com", "a long enough password")
        s.commit()
    assert login(client, "m@example.com", "a long enough password").status_code == 303
    page = client.get("/admin/series/guide-series?start=2026-03-19T20:00&tz=Europe/London")
    assert page.status_code == 200
    assert "Tip one for Sam" in page.text and "srcdoc=" in page.text
    assert "Mon 30 Mar 2026 09:00 BST" in page.text
    sent = client.post(
        "/admin/series/guide-series/send-test",
        data={"to": "me@example.com", "step": "1", "csrf_token": csrf_token(page.text)},
    )
    assert sent.status_code == 302
    assert smtp[0].messages[-1]["Subject"] == "[TEST] Tip one for Sam"
    assert client.get("/admin/series/guide-series?start=nonsense").status_code == 400
    for edge in ("9999-12-31T23:59", "0001-01-01T00:00"):  # were 500s (dates past the calendar)
        answer = client.get(f"/admin/series/guide-series?start={edge}")
        assert answer.status_code == 400
        assert b"between 1970 and 9000" in answer.data


def test_spam_scores_come_from_spamassassin(app, runner) -> None:
    import os
    import shutil

    if shutil.which("spamassassin") is None:
        if os.environ.get("CI"):
            pytest.fail("SpamAssassin is required on CI (apt-get install spamassassin)")
        pytest.skip("spamassassin not installed")
    passing = runner.invoke(args=["drip", "lint", "guide-series", "--spam"])
    assert passing.exit_code == 0, passing.output
    strict = runner.invoke(args=["drip", "lint", "guide-series", "--spam", "--threshold", "-50"])
    assert strict.exit_code == 1
    assert "01-tip.md:1: spam score" in strict.output
