"""Webhooks never reach internal addresses: refused when configured, checked, and at send time.

Only loopback is dialled: internal answers come from an injected resolver, and a fence on
``socket.connect`` stops any non-loopback connection before it leaves (a broken guard fails).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from formserver.core import db
from formserver.core.models import Lead
from formserver.domain import webhook_http, webhooks
from tests.admin.admin_helpers import T0, post_form, text_of

SECRET = "whsec_ssrf_secret"
METADATA = "169.254.169.254"


@dataclass
class Fence:
    """Records every outgoing connection; refuses, without dialling, any that is not loopback."""

    connects: list[tuple[str, int]] = field(default_factory=list)
    blocked: list[tuple[str, int]] = field(default_factory=list)


@pytest.fixture(autouse=True)
def fence(monkeypatch: pytest.MonkeyPatch) -> Fence:
    record = Fence()
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: tuple) -> None:  # type: ignore[type-arg]
        host, port = str(address[0]), int(address[1])
        if not ipaddress.ip_address(host.split("%")[0]).is_loopback:
            record.blocked.append((host, port))
            raise ConnectionRefusedError(f"test fence: {host} is not loopback")
        record.connects.append((host, port))
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return record


class Listener(ThreadingHTTPServer):
    """A loopback receiver that counts the connections it accepts and keeps what it was sent."""

    def __init__(self) -> None:
        self.accepted = 0
        self.requests: list[tuple[dict[str, str], bytes]] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                listener.requests.append((dict(self.headers), data))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                """Quiet: the test asserts on what arrived, not on a log."""

        super().__init__(("127.0.0.1", 0), Handler)

    def get_request(self):
        connection = super().get_request()
        self.accepted += 1
        return connection


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@dataclass
class Resolver:
    """A DNS stand-in: the answers a test chooses, and a record of every lookup."""

    answers: list[str]
    calls: list[tuple[str, int]] = field(default_factory=list)

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        return list(self.answers)


@pytest.fixture
def app_config(app_config: dict, listener: Listener) -> dict:
    # hooks.example (a reserved name no real DNS answers) on the listener's port: if a guard
    # let an answer through, that is where the connection would go.
    app_config["WEBHOOKS"] = [
        {"url": f"http://hooks.example:{listener.server_port}/hooks", "secret": SECRET}
    ]
    return app_config


def _attempt(app, lead_id: int, answers: list[str]):
    """One delivery of lead.created, attempted once with the resolver giving ``answers``."""
    resolver = Resolver(answers)
    app.extensions["webhook_resolver"] = resolver
    with app.app_context(), db.new_session() as s:
        [delivery_id] = webhooks.emit(s, "lead.created", s.get(Lead, lead_id), T0)
        s.commit()
    return webhooks.attempt(app, delivery_id, T0), resolver


@pytest.mark.parametrize(
    "answers, refused",
    [
        (["10.0.0.5"], "10.0.0.5 (private network)"),
        ([METADATA], f"{METADATA} (link-local)"),
        (["::ffff:127.0.0.1"], "::ffff:127.0.0.1 (loopback)"),
        (["127.0.0.1"], "127.0.0.1 (loopback)"),
        # Every answer is checked, not only the first one.
        (["93.184.215.14", "10.0.0.5"], "10.0.0.5 (private network)"),
    ],
)
def test_an_internal_answer_is_refused_before_any_connection(
    app, admin_client, listener, fence, make_lead, answers, refused
):
    row, resolver = _attempt(app, make_lead("ada@example.com"), answers)
    assert row.status == "pending" and row.attempts == 1  # a failed attempt, retried later
    assert row.last_status is None and row.last_error == f"refused: private address {refused}"
    assert resolver.calls == [("hooks.example", listener.server_port)]
    assert listener.accepted == 0 and listener.requests == []
    assert fence.blocked == [] and fence.connects == []
    page = text_of(admin_client.get("/admin/webhooks/").text)
    assert f"refused: private address {refused}" in page


def test_the_checked_address_is_the_one_dialled_with_the_original_host(
    app, listener, fence, make_lead
):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True  # development: a receiver on this machine
    row, resolver = _attempt(app, make_lead("ada@example.com"), ["127.0.0.1"])
    assert row.status == "delivered" and row.last_status == 200
    assert resolver.calls == [("hooks.example", listener.server_port)]  # looked up once
    assert fence.connects == [("127.0.0.1", listener.server_port)]
    [(headers, body)] = listener.requests
    assert headers["Host"] == f"hooks.example:{listener.server_port}"
    stamp, signature = headers["X-Lodestone-Timestamp"], headers["X-Lodestone-Signature"]
    assert webhooks.verify(SECRET, stamp, body, signature, now=int(T0.timestamp()))
    assert json.loads(body)["event"] == "lead.created"


@pytest.mark.parametrize(
    "address",
    # loopback, private, link-local (metadata), unique-local, unspecified, multicast, reserved,
    # CGNAT, and IPv4 inside IPv6 (mapped, 6to4, NAT64): every one of them stays in-house.
    [
        *("127.0.0.1", "127.8.9.10", "::1", "10.0.0.5", "172.16.4.2", "192.168.1.1"),
        *(METADATA, "169.254.1.1", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1"),
        *("0.0.0.0", "::", "224.0.0.1", "ff02::1", "240.0.0.1", "255.255.255.255"),
        *("100.64.0.1", "::ffff:10.0.0.5", "::ffff:169.254.169.254", "2002:a00:5::1"),
        *("64:ff9b::7f00:1", "not-an-ip"),
    ],
)
def test_every_internal_range_is_refused(address):
    assert webhook_http.address_refusal(address).startswith("refused: ")


def test_public_addresses_are_allowed():
    for address in ("93.184.215.14", "8.8.8.8", "2606:4700::1111"):
        assert webhook_http.address_refusal(address) is None


@pytest.mark.parametrize(
    "url",
    [
        *("http://127.0.0.1:8080/hook", "http://127.1/hook", "http://2130706433/hook"),
        *("http://0x7f.0.0.1/hook", "http://[::1]/hook", "http://[::ffff:7f00:1]/hook"),
        *(f"https://{METADATA}/latest/meta-data/", "http://localhost:5000/hook"),
        *("http://api.localhost/hook", "http://10.1.2.3/hook"),
    ],
)
def test_urls_that_spell_an_internal_address_are_refused_without_a_lookup(url):
    assert webhook_http.url_refusal(url, allow_private=False).startswith("refused: private")
    assert webhook_http.url_refusal(url, allow_private=True) is None


def test_internal_webhooks_in_the_settings_are_not_used_and_shown(
    app, admin_client, listener, fence, make_lead
):
    port = listener.server_port
    app.config["WEBHOOKS"] = [
        {"url": f"http://127.0.0.1:{port}/hooks", "secret": SECRET},
        {"url": f"http://2130706433:{port}/hooks", "secret": SECRET},
        {"url": f"http://localhost:{port}/hooks", "secret": SECRET},
        {"url": "http://[::ffff:a9fe:a9fe]/latest/", "secret": SECRET},
    ]
    lead_id = make_lead("ada@example.com")
    with app.app_context(), db.new_session() as s:
        assert webhooks.emit(s, "lead.created", s.get(Lead, lead_id), T0) == []  # none owed
    page = admin_client.get("/admin/webhooks/")
    text = text_of(page.text)
    assert "4 WEBHOOKS entries are refused" in text
    assert f"http://2130706433:{port}/hooks refused: private address 127.0.0.1 (loopback)" in text
    assert "refused: private address localhost (loopback)" in text
    assert "refused: private address ::ffff:a9fe:a9fe (link-local)" in text
    assert SECRET not in page.text
    assert listener.accepted == 0 and fence.connects == []


@pytest.mark.parametrize(
    "url, answers, status, shown",
    [
        (f"http://{METADATA}/latest/meta-data/", [], 422, f"{METADATA} (link-local)"),
        ("https://hooks.example/in", ["10.0.0.5"], 422, "10.0.0.5 (private network)"),
        ("https://hooks.example/in", ["fd00::7"], 422, "fd00::7 (private network)"),
        ("ftp://hooks.example/in", [], 422, "must start with https:// or http://"),
        ("", [], 422, "no URL given"),
        ("https://hooks.example/in", ["93.184.215.14"], 200, "resolves to 93.184.215.14"),
    ],
)
def test_the_dashboard_checks_a_url_before_it_is_configured(
    app, admin_client, fence, url, answers, status, shown
):
    app.extensions["webhook_resolver"] = Resolver(answers)
    response = post_form(admin_client, "/admin/webhooks/", "/admin/webhooks/check", {"url": url})
    assert response.status_code == status
    text = text_of(response.text)
    assert shown in text
    assert ("Not allowed" in text) is (status == 422)
    assert fence.connects == [] and fence.blocked == []  # a check never connects


def _certificate(tmp_path: Path, name: str) -> str:
    """A self-signed certificate for ``name`` and its key, in one PEM file."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = tmp_path / "hooks.pem"
    encoding, plain = serialization.Encoding.PEM, serialization.NoEncryption()
    key_pem = key.private_bytes(encoding, serialization.PrivateFormat.PKCS8, plain)
    pem.write_bytes(cert.public_bytes(encoding) + key_pem)
    return str(pem)


def test_https_to_a_pinned_address_sends_the_name_in_sni_and_checks_the_certificate(
    app, tmp_path, fence, make_lead
):
    server_names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(_certificate(tmp_path, "hooks.example"))
    context.sni_callback = lambda _sock, name, _ctx: server_names.append(name)
    server = socket.create_server(("127.0.0.1", 0))

    def serve_one() -> None:
        connection, _ = server.accept()
        try:
            with context.wrap_socket(connection, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError):
            pass  # our self-signed certificate is refused by the client, as it must be

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()
    port = server.getsockname()[1]
    app.config["WEBHOOKS"] = [{"url": f"https://hooks.example:{port}/in", "secret": SECRET}]
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    row, _ = _attempt(app, make_lead("ada@example.com"), ["127.0.0.1"])
    thread.join(timeout=10)
    server.close()
    assert server_names == ["hooks.example"]  # SNI names the host, not 127.0.0.1
    assert row.status == "pending" and "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert fence.connects == [("127.0.0.1", port)]
