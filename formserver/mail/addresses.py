"""How an address goes to the relay: as given over SMTPUTF8 (RFC 6531), or with an IDNA domain."""

from __future__ import annotations

import smtplib

from formserver.content.errors import FormServerError


class Undeliverable(FormServerError):
    """This relay cannot carry this address (RFC 6531): the send fails for good, not the lead."""


def wire_address(address: str, smtputf8: bool) -> str:
    """``address`` as a relay can take it: as given over SMTPUTF8, else with an IDNA domain.

    Raises ``Undeliverable`` for a non-ASCII local part without SMTPUTF8 (nothing can carry it)
    and for an address whose domain cannot be IDNA-encoded.
    """
    if address.isascii() or smtputf8:
        return address
    from email_validator import EmailNotValidError, validate_email  # only for such an address

    try:
        info = validate_email(address, check_deliverability=False)
    except EmailNotValidError as e:
        raise Undeliverable(f"cannot send to {address}: {e}") from e
    if not info.local_part.isascii():
        raise Undeliverable(
            f"cannot send to {address}: it has non-ASCII characters before the @ and the mail "
            "relay does not offer SMTPUTF8 (RFC 6531); use a relay that does, then retry"
        )
    return f"{info.local_part}@{info.ascii_domain}"


def offers_smtputf8(host: smtplib.SMTP | None) -> bool:
    """Whether the relay takes UTF-8 addresses; with sending suppressed nothing is refused."""
    if host is None:
        return True
    host.ehlo_or_helo_if_needed()
    return host.has_extn("smtputf8")
