"""docs/deploy.md followed for real: its env file, migration, build, units and nginx config.

The blocks are read from the guide itself, so the guide cannot drift from what works. Only what a
test machine must change is rewritten: ports, TLS certificate paths, the paths of this checkout,
and the services (PostgreSQL schema, private Redis, a local SMTP sink).
"""

from __future__ import annotations

import http.client
import os
import re
import shlex
import shutil
import ssl
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from aiosmtpd.controller import Controller
from bs4 import BeautifulSoup

from bench import loadgen
from tests.conftest import ROOT, SmtpSink, free_port
from tests.reliability.fleet import RedisServer

pytestmark = pytest.mark.slow(seconds=9)
GUIDE = (ROOT / "docs" / "deploy.md").read_text()
APP = "/srv/lodestone/app"
BIN = str(Path(sys.executable).parent)


def block(after: str, lang: str) -> str:
    """The first ```lang block after the line containing ``after``."""
    start = GUIDE.index(after)
    return re.search(rf"```{lang}\n(.*?)```", GUIDE[start:], re.S).group(1)


def env_file(services: dict[str, str]) -> dict[str, str]:
    """The guide's /etc/lodestone.env, with this machine's services."""
    env = {}
    for line in block("The environment file, `/etc/lodestone.env`", "sh").splitlines():
        name, _, value = line.partition("=")
        env[name] = shlex.split(value)[0] if value.startswith(("'", '"')) else value
    env = {k: v.replace(APP, str(ROOT)) for k, v in env.items()}
    del env["FORMSERVER_MAIL_USE_TLS"], env["FORMSERVER_MAIL_USERNAME"]
    del env["FORMSERVER_MAIL_PASSWORD"]
    return env | services


def exec_start(unit: str, **ports: int) -> list[str]:
    """The ExecStart command of a systemd unit in the guide, run from this checkout."""
    text = block(unit, "ini").replace("\\\n", " ")
    command = re.search(r"^ExecStart=(.*)$", text, re.M).group(1)
    command = command.replace(f"{APP}/.venv/bin", BIN)
    if "bind" in ports:
        command = command.replace("127.0.0.1:8001", f"127.0.0.1:{ports['bind']}")
    return shlex.split(command)


def nginx_conf(tmp: Path, site: Path, https: int, http_port: int, upstream: int) -> Path:
    """The guide's nginx server blocks inside a minimal main config of our own."""
    servers = block("/etc/nginx/sites-available/lodestone", "nginx")
    servers = servers.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl;")
    servers = servers.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    servers = re.sub(r"/etc/letsencrypt/live/[^/]+/fullchain.pem", str(tmp / "cert.pem"), servers)
    servers = re.sub(r"/etc/letsencrypt/live/[^/]+/privkey.pem", str(tmp / "key.pem"), servers)
    servers = servers.replace("/srv/lodestone/output", str(site))
    servers = servers.replace(f"{APP}/assets/", f"{ROOT}/assets/")
    servers = servers.replace("127.0.0.1:8001", f"127.0.0.1:{upstream}")
    temp = " ".join(
        f"{name}_temp_path {tmp / name};" for name in ("client_body", "proxy", "fastcgi")
    )
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"user root; daemon off; pid {tmp / 'nginx.pid'}; error_log {tmp / 'error.log'};\n"
        "events {}\n"
        f"http {{ include /etc/nginx/mime.types; access_log off; {temp}\n{servers}}}\n"
    )
    return conf


class Browser:
    """HTTPS requests to our nginx for a given host name, without following redirects."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE

    def request(self, method: str, url: str, body: dict | None = None, **headers: str):
        parts = urlsplit(url)
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context)
        sent = {"Host": parts.netloc} | headers
        data = None
        if body is not None:
            data = urlencode(body)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, path, data, sent)
        response = conn.getresponse()
        response.body = response.read()
        conn.close()
        return response


HSTS = "max-age=31536000; includeSubDomains"


def assert_security_headers(response, csp: str, referrer: str) -> None:
    """The headers a browser enforces, each sent once (nginx and the app must not both add one)."""
    expected = {
        "Strict-Transport-Security": HSTS,
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": referrer,
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    sent = {name: response.headers.get_all(name) for name in expected}
    assert sent == {name: [value] for name, value in expected.items()}


@pytest.fixture
def tools() -> None:
    for tool in ("nginx", "openssl", "rsync"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is required: `make test` installs it as root (apt-get)")


def test_the_deploy_guide_serves_site_forms_assets_and_mail(
    tools, pg_url, own_redis: RedisServer, tmp_path: Path
) -> None:
    sink = SmtpSink()
    smtp_port = free_port()
    smtp = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    env = env_file(
        {
            "FORMSERVER_DATABASE_URL": pg_url,
            "FORMSERVER_QUEUE_URL": own_redis.url,
            "FORMSERVER_RATELIMIT_STORAGE_URI": own_redis.url.removesuffix("/0") + "/1",
            "FORMSERVER_MAIL_SERVER": "127.0.0.1",
            "FORMSERVER_MAIL_PORT": str(smtp_port),
        }
    )
    env["FORMSERVER_SECRET_KEY"] = "deploy-guide-test-secret-key-not-for-production"
    dkim_key = block("The DKIM key the worker signs with", "sh").splitlines()[0]  # openssl genrsa
    env["FORMSERVER_DKIM_PRIVATE_KEY_PATH"] = str(tmp_path / "dkim.key")
    run_bg = {"cwd": ROOT, "env": os.environ | env}
    run = run_bg | {"check": True, "capture_output": True}
    flask = [f"{BIN}/flask", "--app", "formserver"]
    subprocess.run([*flask, "db", "upgrade"], **run)
    subprocess.run(shlex.split(dkim_key.replace("/etc/lodestone/", f"{tmp_path}/")), **run)
    site = tmp_path / "output"
    for line in block("## 4. Build and publish the site", "sh").strip().splitlines():
        command = line.removeprefix("as_lodestone ").replace(".venv/bin/", f"{BIN}/")
        command = command.replace("/srv/lodestone/", f"{tmp_path}/")
        subprocess.run(shlex.split(command), **run)
    key, cert = str(tmp_path / "key.pem"), str(tmp_path / "cert.pem")
    openssl = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    subprocess.run([*openssl, "-subj", "/CN=example.com", "-keyout", key, "-out", cert], **run)
    upstream, https, plain = free_port(), free_port(), free_port()
    logs = (tmp_path / "web.log").open("wb")
    web = exec_start("lodestone-web.service", bind=upstream)
    nginx = ["nginx", "-c", str(nginx_conf(tmp_path, site, https, plain, upstream))]
    procs = [
        loadgen.serve(web, upstream, ROOT, env, logs),
        subprocess.Popen(exec_start("lodestone-worker@.service"), **run_bg, stderr=logs),
        loadgen.serve(nginx, https, tmp_path, {}),
    ]
    try:
        browser = Browser(https)
        home = browser.request("GET", "https://www.example.com/")
        assert home.status == 200 and b"<html" in home.body
        forms = "https://forms.example.com"
        site_csp = (
            "default-src 'self'; script-src 'self'; style-src 'self'; "
            f"img-src 'self' data: {forms}; font-src 'self'; connect-src 'self' {forms}; "
            f"form-action 'self' {forms}; "
            "base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
        )
        assert_security_headers(home, site_csp, "strict-origin-when-cross-origin")
        css = browser.request("GET", "https://www.example.com/theme/css/site.css")
        assert css.status == 200 and css.getheader("Cache-Control") == "max-age=604800"
        assert_security_headers(css, site_csp, "strict-origin-when-cross-origin")
        missing = browser.request("GET", "https://www.example.com/no-such-page/")
        assert missing.status == 404
        assert_security_headers(missing, site_csp, "strict-origin-when-cross-origin")
        landing = browser.request("GET", "https://www.example.com/lead-nurturing-playbook/")
        form = BeautifulSoup(landing.body, "html.parser").select_one("form.lead-form")
        assert form["action"] == "https://forms.example.com/forms/playbook"
        fields = {"email": "ada@example.com", "first_name": "Ada", "consent": "yes"}
        origin = {"Origin": "https://www.example.com", "X-Forwarded-For": "203.0.113.9"}
        posted = browser.request("POST", form["action"], fields, **origin)
        assert posted.status == 303, posted.body[:500]
        thanks = browser.request("GET", posted.getheader("Location"))
        assert thanks.status == 200
        page_csp = thanks.getheader("Content-Security-Policy")  # the form server's own
        assert "style-src 'self' https://www.example.com;" in page_csp  # the theme's host
        assert_security_headers(thanks, page_csp, "no-referrer")
        link = BeautifulSoup(thanks.body, "html.parser").select_one("a[href*='/download/']")
        download = browser.request("GET", link["href"])
        assert download.status == 200 and download.getheader("X-Accel-Redirect") is None
        asset = "lead-nurturing-playbook.pdf"
        assert download.body == (ROOT / "assets" / asset).read_bytes()
        file_csp = "default-src 'none'; frame-ancestors 'none'"
        assert_security_headers(download, file_csp, "no-referrer")  # set by nginx, not the app
        direct = http.client.HTTPConnection("127.0.0.1", upstream)  # behind nginx: gunicorn
        direct.request("GET", urlsplit(link["href"]).path, headers={"Host": "forms.example.com"})
        accel = direct.getresponse()
        assert accel.read() == b""  # the form server only checked the link; nginx sent the file
        assert accel.getheader("X-Accel-Redirect") == f"/protected-assets/{asset}"
        hidden = browser.request("GET", f"https://forms.example.com/protected-assets/{asset}")
        assert hidden.status == 404  # `internal`: only through a checked link
        conn = http.client.HTTPConnection("127.0.0.1", plain)
        conn.request("GET", "/pricing/", headers={"Host": "www.example.com"})
        redirect = conn.getresponse()
        assert redirect.status == 301
        assert redirect.getheader("Location") == "https://www.example.com/pricing/"
        deadline = time.monotonic() + 30
        while not sink.to("ada@example.com") and time.monotonic() < deadline:
            time.sleep(0.2)  # the worker unit sends the asset email from the Redis queue
        assert sink.to("ada@example.com"), (tmp_path / "web.log").read_text()[-2000:]
        assert sink.raw[0].startswith(b"DKIM-Signature:")  # signed with the guide's key
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
        smtp.stop()
        logs.close()
    assert "Traceback" not in (tmp_path / "web.log").read_text()
