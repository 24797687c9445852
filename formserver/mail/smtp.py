"""Building and sending messages: Flask-Mail over SMTP, RFC 8058 headers, optional DKIM.

Every sender (drip steps, the asset, confirm and renewal emails, test sends) goes through
``build`` and ``send`` here, so an internationalised address is handled the same everywhere.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import smtplib
from dataclasses import dataclass
from email import policy
from email.utils import formataddr
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app
from flask_mail import Connection, Mail, Message

from formserver.content.errors import FormServerError

# Undeliverable is re-exported: callers catch it as mail.Undeliverable beside the other failures.
from formserver.mail.addresses import Undeliverable as Undeliverable
from formserver.mail.addresses import offers_smtputf8, wire_address
from formserver.mail.render import RenderedEmail

logger = logging.getLogger(__name__)
mail = Mail()
# Header values are written as built: Flask-Mail's SMTP policy re-encodes long ones as RFC 2047
# encoded-words, which breaks List-Unsubscribe (providers need the bare <URL>), and is slower.
WIRE = policy.compat32.clone(linesep="\r\n", max_line_length=998)
# The same, for a message sent with SMTPUTF8: a non-ASCII address goes into To as UTF-8 (RFC 6532).
WIRE_UTF8 = policy.SMTPUTF8.clone(max_line_length=998)


class HeaderInjection(FormServerError):
    """A header value carried CR or LF: refused, never sent."""


class PermanentFailure(FormServerError):
    """The server refused the recipient for good (5xx): the address bounces."""


class TemporaryFailure(FormServerError):
    """Try again later: a 4xx answer to this message."""


class ConnectionLost(TemporaryFailure):
    """The server went away or is closing (421, disconnect, timeout): nothing more goes over it."""


class SendingMisconfigured(FormServerError):
    """Nothing can be sent until an operator fixes a setting (the DKIM key): no email's fault."""


class TimedConnection(Connection):
    """Flask-Mail's connection with ``MAIL_TIMEOUT`` on the socket (Flask-Mail sets none).

    A relay that stops answering then raises a timeout, which ends the batch like a lost
    connection, instead of holding a worker thread for ever while its claims go stale.
    """

    def configure_host(self) -> smtplib.SMTP:
        factory = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = factory(self.mail.server, self.mail.port, timeout=current_app.config["MAIL_TIMEOUT"])
        host.set_debuglevel(int(self.mail.debug))
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host

    def reopen(self) -> None:
        """Drop this connection and open a fresh one (``OSError`` when the relay is gone)."""
        if self.host is not None:
            self.host.close()
            self.host = self.configure_host()

    def __exit__(self, *exc_info: object) -> None:
        # QUIT on a connection the relay already dropped must not hide what ended the batch.
        try:
            super().__exit__(*exc_info)  # type: ignore[arg-type]
        except (smtplib.SMTPException, OSError):
            if self.host is not None:  # always: only an open host's QUIT can raise these
                self.host.close()


def connect() -> TimedConnection:
    """An SMTP connection for a batch (a context manager, as Flask-Mail's ``connect()``)."""
    return TimedConnection(current_app.extensions["mail"])


@dataclass(frozen=True)
class Envelope:
    """Who a message is from and to, and the headers that make it a proper list email."""

    to: str
    from_name: str
    from_email: str
    reply_to: str
    list_id: str
    unsubscribe_url: str
    message_key: str  # stable per send, so a retry carries the same Message-ID
    marketing: bool


def message_id(key: str) -> str:
    domain = (
        current_app.config["MESSAGE_ID_DOMAIN"]
        or urlsplit(current_app.config["PUBLIC_URL"]).hostname
    )
    digest = hashlib.sha256(f"{current_app.config['SECRET_KEY']}:{key}".encode()).hexdigest()
    return f"<{key}.{digest[:16]}@{domain}>"


def build(rendered: RenderedEmail, env: Envelope) -> Message:
    """A multipart message with every header checked for CR/LF."""
    headers: dict[str, str] = {}
    if env.list_id:
        headers["List-Id"] = env.list_id
    if env.marketing:
        targets = [f"<{env.unsubscribe_url}>"]
        if current_app.config["LIST_UNSUBSCRIBE_MAILTO"]:
            targets.append(f"<mailto:{current_app.config['LIST_UNSUBSCRIBE_MAILTO']}>")
        headers["List-Unsubscribe"] = ", ".join(targets)
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    sender = formataddr((env.from_name, env.from_email))
    msg_id = message_id(env.message_key)
    for value in (*headers.values(), msg_id, rendered.subject, env.to, sender, env.reply_to):
        if "\r" in value or "\n" in value:
            raise HeaderInjection(f"line break in a header value: {value[:60]!r}")
    message = Message(
        subject=rendered.subject,
        recipients=[env.to],
        sender=sender,
        reply_to=env.reply_to or None,
        body=rendered.text,
        html=rendered.html,
        extra_headers=headers,
    )
    message.msgId = msg_id  # Flask-Mail writes Message-ID and Date itself
    return message


def to_bytes(message: Message, to: str | None = None, utf8: bool = False) -> bytes:
    """The message as it goes on the wire, its To header ``to`` (the address as the relay takes it).

    Flask-Mail builds the MIME tree; we write the To header, because Flask-Mail's own refuses a
    non-ASCII local part (``formataddr`` raises), and serialise with UTF-8 headers when ``utf8``.
    """
    blank = copy.copy(message)
    blank.recipients = []
    mime = blank._message()
    mime.replace_header("To", to or ", ".join(map(_header_address, message.recipients)))
    return mime.as_bytes(policy=WIRE_UTF8 if utf8 else WIRE)


def _header_address(address: str | tuple[str, str]) -> str:
    """A recipient as a header writes it (``build`` gives only strings; Flask-Mail allows pairs)."""
    return address if isinstance(address, str) else formataddr(address)


DKIM_SETTINGS = ("DKIM_DOMAIN", "DKIM_SELECTOR", "DKIM_PRIVATE_KEY_PATH")


@lru_cache(maxsize=4)
def _parsed_key(path: str, stamp: tuple[int, int, int]) -> bytes:
    """The key file's bytes, once they parse as a private key; read again when the file changes."""
    import dkim.crypto  # only where mail is signed: dkimpy pulls in dnspython

    key = Path(path).read_bytes()
    try:
        dkim.crypto.parse_pem_private_key(key)
    except Exception as e:  # dkimpy raises several kinds: base64, ASN.1, unparsable key
        raise SendingMisconfigured(f"DKIM_PRIVATE_KEY_PATH {path} is not a usable key: {e}") from e
    return key


def _dkim_key() -> bytes | None:
    """The DKIM private key, None when signing is off; ``SendingMisconfigured`` when unusable."""
    cfg = current_app.config
    given = [name for name in DKIM_SETTINGS if cfg[name]]
    if not given:
        return None
    if len(given) < len(DKIM_SETTINGS):
        raise SendingMisconfigured(f"set all of {', '.join(DKIM_SETTINGS)} to sign, or none")
    path = cfg["DKIM_PRIVATE_KEY_PATH"]
    try:
        stat = Path(path).stat()
        return _parsed_key(path, (stat.st_ino, stat.st_size, stat.st_mtime_ns))
    except OSError as e:
        raise SendingMisconfigured(f"cannot read DKIM_PRIVATE_KEY_PATH {path}: {e.strerror}") from e


def check_sending_config() -> None:
    """Raise ``SendingMisconfigured`` now if no message could be signed (the worker's start)."""
    _dkim_key()


def _dkim_sign(raw: bytes) -> bytes:
    key = _dkim_key()
    if key is None:
        return raw
    import dkim

    cfg = current_app.config
    signed = [
        b"From",
        b"To",
        b"Subject",
        b"Date",
        b"Message-ID",
        b"Reply-To",
        b"List-Id",
        b"List-Unsubscribe",
        b"List-Unsubscribe-Post",
        b"MIME-Version",
        b"Content-Type",
    ]
    present = [h for h in signed if h.lower() + b":" in raw.lower()]
    try:
        signature = dkim.sign(
            raw,
            cfg["DKIM_SELECTOR"].encode(),
            cfg["DKIM_DOMAIN"].encode(),
            key,
            include_headers=present,
        )
    except dkim.DKIMException as e:  # this message, not the key (checked above): retry it
        raise TemporaryFailure(f"DKIM signing failed: {e}") from e
    return signature + raw


def send(connection: Connection, message: Message) -> None:
    """Send over an open Flask-Mail connection, DKIM-signed when configured.

    A non-ASCII address goes as given with ``SMTPUTF8`` when the relay offers it; otherwise its
    domain is IDNA-encoded, and a non-ASCII local part raises ``Undeliverable``.
    """
    host = connection.host  # None with MAIL_SUPPRESS_SEND: Flask-Mail opened no connection
    try:
        smtputf8 = offers_smtputf8(host)
    except (smtplib.SMTPException, OSError) as e:  # EHLO failed: the connection, not this email
        raise ConnectionLost(str(e)) from e
    recipients = [
        # a (name, address) pair, which Flask-Mail allows, goes on the envelope as its address
        wire_address(address if isinstance(address, str) else address[1], smtputf8)
        for address in message.recipients
    ]
    utf8 = not all(address.isascii() for address in recipients)
    raw = _dkim_sign(to_bytes(message, ", ".join(recipients), utf8))
    if host is None:
        return
    try:
        refused = host.sendmail(
            _header_address(message.sender), recipients, raw, ["SMTPUTF8"] if utf8 else []
        )
    except smtplib.SMTPRecipientsRefused as e:
        code = next(iter(e.recipients.values()))[0]
        raise _failure(code)(str(e)) from e
    except smtplib.SMTPResponseException as e:
        raise _failure(e.smtp_code)(str(e)) from e
    except (smtplib.SMTPException, OSError) as e:
        raise ConnectionLost(str(e)) from e
    if refused:
        raise PermanentFailure(str(refused))


def recover(connection: TimedConnection) -> None:
    """After an email failed half-way: reset the SMTP transaction, or open a fresh connection.

    Without this the next email's ``MAIL FROM`` would meet the failed one's open transaction
    (503) and bounce an innocent lead. Raises ``OSError`` if no fresh connection can be had.
    """
    if connection.host is None:
        return
    try:
        connection.host.rset()
    except (smtplib.SMTPException, OSError) as e:
        logger.warning("SMTP connection unusable after a failed email (%s): reconnecting", e)
        connection.reopen()


def _failure(code: int) -> type[FormServerError]:
    """5xx bounces; 421 means the server is closing the connection; other 4xx retry the email."""
    if code >= 500:
        return PermanentFailure
    return ConnectionLost if code == 421 else TemporaryFailure


def init_app(app: Flask) -> None:
    mail.init_app(app)
