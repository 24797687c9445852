"""Failed admin logins: refused per address, slowed down per account, never against its owner.

Counts live in Flask-Limiter's storage (memory, or Redis at scale) through the public ``limits``
API. An address gets ADMIN_LOGIN_RATE_LIMIT failures, then waits for the window to pass. An
account gets as many failures free, from anywhere; after that each failure doubles the wait
before the next try (up to ADMIN_LOGIN_MAX_DELAY seconds), so guessing stays slow but a real
owner is never locked out for long, and never at all from the address they last logged in from.

Why not ``limiter.limit(..., key_func=address, deduct_when=<a 401>, on_breach=...)`` for the
per-address part: that decorator does count only wrong passwords and refuses before the view, but
with RATELIMIT_HEADERS_ENABLED (app-wide, for the public forms) Flask-Limiter then rewrites
Retry-After on every answer of the view to ``int(max(ours, the address window's reset) - now)``.
The account wait's 429 would say "Retry-After: 0" (retry now, into another 429) or the address
window's minute while the page says "Wait 2 seconds", and the 401 and 303 would carry one too.
Tried in issue 14 and kept out: both limits stay here, in one place, on the same storage.
"""

from __future__ import annotations

import logging
import math
import time

from flask import current_app, request
from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerSecond, parse
from limits.strategies import RateLimiter

logger = logging.getLogger(__name__)

NAMESPACE = "admin-login"
# An account's failures are counted for an hour after its first one; the amount is only a ceiling.
ACCOUNT_WINDOW = RateLimitItemPerHour(1_000_000)


def _strategies() -> list[RateLimiter]:
    limiters = current_app.extensions.get("limiter", ())
    return [lim.limiter for lim in limiters if lim.enabled]


def _per_ip() -> RateLimitItem:
    return parse(current_app.config["ADMIN_LOGIN_RATE_LIMIT"])


def address() -> str:
    """This request's client address, cut to what an IPv6 address can be (the column's size)."""
    return (request.remote_addr or "-")[:45]


def account_delay(failures: int) -> int:
    """Seconds an account waits after ``failures`` failures: none at first, then doubling."""
    free = _per_ip().amount
    if failures < free:
        return 0
    return min(2 ** (failures - free + 1), int(current_app.config["ADMIN_LOGIN_MAX_DELAY"]))


def _failures(strategy: RateLimiter, account: str) -> int:
    stats = strategy.get_window_stats(ACCOUNT_WINDOW, NAMESPACE, "account", account)
    return ACCOUNT_WINDOW.amount - stats.remaining


def _seconds_left(strategy: RateLimiter, item: RateLimitItem, *keys: str) -> int:
    reset = strategy.get_window_stats(item, NAMESPACE, *keys).reset_time
    return max(1, math.ceil(reset - time.time()))


def wait_for(account: str, owner_ip: str | None) -> tuple[str, int] | None:
    """``(scope, seconds)`` to wait before this login may be tried, or None to try it now.

    ``owner_ip`` is the account's last successful login address: failures elsewhere never
    slow its owner down there; only that address's own limit applies.
    """
    ip_item = _per_ip()
    for strategy in _strategies():
        if not strategy.test(ip_item, NAMESPACE, "ip", address()):
            return "address", _seconds_left(strategy, ip_item, "ip", address())
        if owner_ip is not None and address() == owner_ip:
            continue
        delay = account_delay(_failures(strategy, account))
        wait = RateLimitItemPerSecond(1, delay) if delay else None
        if wait is not None and not strategy.test(wait, NAMESPACE, "wait", account):
            return "account", _seconds_left(strategy, wait, "wait", account)
    return None


def count_failure(account: str, owner_ip: str | None) -> None:
    """Record a wrong password for this address and (away from its owner's) this account."""
    for strategy in _strategies():
        strategy.hit(_per_ip(), NAMESPACE, "ip", address())
        if owner_ip is not None and address() == owner_ip:
            continue  # the owner's own typos never slow the account down elsewhere
        strategy.hit(ACCOUNT_WINDOW, NAMESPACE, "account", account)
        delay = account_delay(_failures(strategy, account))
        if delay:
            strategy.hit(RateLimitItemPerSecond(1, delay), NAMESPACE, "wait", account)
            logger.warning("admin login for %r slowed down: %s s per try", account, delay)
