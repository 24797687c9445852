"""PostgreSQL restarted during submissions: 503 while down, nothing half-stored, then it resumes."""

from __future__ import annotations

import glob
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from formserver import create_app
from formserver.core import db
from formserver.core.models import Consent, Lead, Submission
from tests.capture.conftest import ORIGIN
from tests.conftest import free_port

BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


class Cluster:
    """A throwaway PostgreSQL cluster of our own, so restarting it disturbs no other test."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="lodestone-pg-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.port = free_port()
        self._as_postgres(
            f"{BIN[-1]}/initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres"
        )

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=120
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres?connect_timeout=2"

    def start(self) -> None:
        self._as_postgres(
            f"{BIN[-1]}/pg_ctl",
            "-D",
            str(self.dir / "data"),
            "-w",
            "-l",
            str(self.dir / "log"),
            "-o",
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1",
            "start",
        )

    def stop(self) -> None:
        self._as_postgres(
            f"{BIN[-1]}/pg_ctl", "-D", str(self.dir / "data"), "-w", "-m", "fast", "stop"
        )


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if not BIN:
        pytest.fail("PostgreSQL server binaries are required (they run on this machine kind)")
    own = Cluster()
    own.start()
    yield own
    try:
        own.stop()
    except subprocess.CalledProcessError:
        pass  # already stopped
    shutil.rmtree(own.dir, ignore_errors=True)


def submit(client, i: int):
    return client.post(
        "/forms/guide",
        headers={"Origin": ORIGIN, "Accept": "application/json"},
        data={"email": f"p{i}@example.com", "first_name": "P", "consent": "yes"},
    )


def test_restart_gives_503_then_resumes_with_nothing_half_stored(cluster, site, tmp_path) -> None:
    app = create_app(
        {
            "SECRET_KEY": "restart-test-secret-key-not-for-production",
            "DATABASE_URL": cluster.url,
            "RATELIMIT_ENABLED": False,
            "QUEUE_URL": f"sqlite:///{tmp_path / 'q.db'}",
            "MAIL_PORT": 1,
            "SITE_URL": "https://www.lodestone.test",
            "PUBLIC_URL": "https://forms.lodestone.test",
            "CONTENT_PATH": str(site / "content"),
            "ASSETS_PATH": str(site / "assets"),
        }
    )
    client = app.test_client()
    assert [submit(client, i).status_code for i in range(5)] == [201] * 5
    cluster.stop()
    down = [submit(client, i) for i in range(5, 10)]
    assert [r.status_code for r in down] == [503] * 5
    outage = {"error": "We are having a short outage. Please try again in a minute."}
    assert all(r.get_json() == outage for r in down)  # what the landing page's script shows
    assert client.get("/healthz").status_code == 503
    cluster.start()
    assert client.get("/healthz").status_code == 200  # pool_pre_ping reconnects by itself
    assert [submit(client, i).status_code for i in range(10, 15)] == [201] * 5
    with app.app_context():
        s = db.session()
        emails = set(s.scalars(select(Lead.email)))
        assert emails == {f"p{i}@example.com" for i in (*range(5), *range(10, 15))}
        assert s.scalar(select(func.count()).select_from(Submission)) == 10
        assert s.scalar(select(func.count()).select_from(Consent)) == 10
