"""The request rules in formserver.core: which answer format, which origin, which host."""

from __future__ import annotations

import pytest
from flask import Flask

from formserver.core.requests import allowed_origins, origin_allowed, wants_json
from formserver.core.urls import host, origin

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept", "json_body", "expected"),
    [
        (BROWSER_ACCEPT, False, False),  # a person following a link or posting the form
        (BROWSER_ACCEPT, True, False),  # a browser asked for a page: it gets one
        ("application/json", False, True),  # our landing page's script
        ("application/json, text/html;q=0.5", False, True),  # prefers JSON, takes HTML
        ("application/json, */*;q=0.1", False, True),
        ("text/html, application/json;q=0.5", True, False),
        ("*/*", False, False),  # fetch's default: no preference, a form body
        ("*/*", True, True),  # no preference, a JSON body: a script
        (None, True, True),
        (None, False, False),  # curl posting a form
    ],
)
def test_wants_json_follows_the_clients_ranking_then_its_body(accept, json_body, expected):
    app = Flask(__name__)
    headers = {"Accept": accept} if accept else {}
    body = {"json": {"a": "b"}} if json_body else {"data": {"a": "b"}}
    with app.test_request_context("/", method="POST", headers=headers, **body):
        assert wants_json() is expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.example.com", "https://www.example.com"),
        ("https://www.example.com/", "https://www.example.com"),
        ("https://www.example.com/landing/?utm_source=x#top", "https://www.example.com"),
        ("  HTTPS://WWW.Example.COM:443/ ", "https://www.example.com"),
        ("http://example.com:80", "http://example.com"),
        ("http://example.com:8000/", "http://example.com:8000"),
        ("https://user:pw@example.com/", "https://example.com"),
        ("http://[::1]:8000/", "http://[::1]:8000"),
        ("www.example.com", ""),  # no scheme: not an origin
        ("javascript:alert(1)", ""),
        ("chrome-extension://abc", ""),
        ("https://example.com:99999/", ""),  # a port out of range
        ("http://[::1", ""),  # a broken IPv6 literal
        ("null", ""),
        ("", ""),
    ],
)
def test_origin_is_what_a_browser_sends_in_origin(url, expected):
    assert origin(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://News.Example.com/a/b?c=d", "news.example.com"),
        ("https://user@example.com:8443/", "example.com"),
        ("android-app://com.google.android.gm/", "com.google.android.gm"),
        ("example.com/page", ""),  # no scheme, so no host
        ("http://[::1", ""),
        ("", ""),
    ],
)
def test_host_is_the_lower_cased_host_name_or_nothing(url, expected):
    assert host(url) == expected


@pytest.mark.parametrize(
    "allowed",
    [
        ["https://www.example.com"],
        ["https://www.example.com/"],
        "https://www.example.com/",
        "https://a.example, https://www.example.com",
        "https://a.example https://www.example.com/",
    ],
)
def test_allowed_origins_read_a_list_or_a_string_the_same_way(allowed):
    config = {"ALLOWED_ORIGINS": allowed, "PUBLIC_URL": "https://forms.example.com/"}
    found = allowed_origins(config)
    assert "https://www.example.com" in found and "https://forms.example.com" in found
    assert "" not in found and all(o.startswith("https://") for o in found)
    assert origin_allowed("https://www.example.com/page", config)
    assert origin_allowed("https://forms.example.com", config)
    assert not origin_allowed("https://www.example.com.evil.test", config)
    assert not origin_allowed("garbage", config)  # no origin at all is never "allowed"
