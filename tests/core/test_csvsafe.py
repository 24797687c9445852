"""CSV cells: a spreadsheet shows a lead's text as text, never runs it as a formula."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from formserver.core.csvsafe import safe_cell


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("https://evil.test","click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        "\n=1+1",
    ],
)
def test_text_a_spreadsheet_would_evaluate_gets_a_leading_quote(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Ada", "Ada"),
        ("ada+tag@example.com", "ada+tag@example.com"),  # a formula character later is text
        (None, ""),
        (True, "yes"),
        (False, "no"),
        (-5, -5),  # a negative score is a number, not a formula
        (datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC), "2026-01-02T03:04:05+00:00"),
    ],
)
def test_other_values_keep_their_meaning(value, expected):
    assert safe_cell(value) == expected
