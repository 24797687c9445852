"""A lead's values are text, never markup: Markdown, HTML, ``javascript:`` stay literal in mail."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from markupsafe import escape

from formserver.content.errors import SeriesError
from formserver.content.series import Email
from formserver.mail.render import compile_email, lead_context, render_email
from tests.capture.conftest import ORIGIN
from tests.drip.conftest import advance

THEME = Path(__file__).resolve().parents[2] / "theme" / "templates"
EMAIL = "**ada**_x_@example.com"  # valid: * and _ are allowed in an address's local part
PAYLOADS = {
    "first_name": "[Verify account](https://evil.example/x)",
    "last_name": "![x](https://evil.example/p.png)",
    "company": '<a href="javascript:alert(1)">Acme</a> **Bold**',
    "job_title": "[click](javascript:alert(1)) <img src=https://evil.example/i.png>",
    "phone": "<https://evil.example/call>",
}
SELECTS = {"role": "founder", "company_size": "11-50"}
LANDING = """Title: Everything
Slug: everything
Template: landing
Summary: Asks for every field.
Offer: everything
Asset: secret-guide.pdf
Series: merge-series
Fields: email, first_name, last_name, company, job_title, phone, role, company_size
Double_optin: no
Consent: I agree to emails.
Consent_version: v1
Thank_you: Thanks.
"""
EVERY_FIELD = """Hi **{{ lead.first_name }}** {{ lead.last_name }},

[Download the guide]({{ download_url }}) for *{{ lead.company }}*.

{% if lead.job_title %}
As {{ lead.job_title }}, we will call {{ lead.phone }}.
{% endif %}

| Field | Value |
|-------|-------|
| Email | {{ lead.email }} |
| Role | {{ lead.role }}, {{ lead.company_size }} |
"""
STEPS = {
    "00-asset.md": "Subject: For {{ lead.first_name }}\nDelay: 0\nPreheader: {{ lead.company }}\n\n"
    + EVERY_FIELD,
    "01-tip.md": "Subject: A tip for {{ lead.last_name }}\nDelay: 2 days\n\n"
    + EVERY_FIELD
    + "\n<p>Raw HTML for {{ lead.company }}</p>\n\n"
    "Read [the article](https://www.lodestone.test/blog/a/).\n",
}
OURS = ("https://forms.lodestone.test/", "https://www.lodestone.test/")


@pytest.fixture
def site(site: Path) -> Path:
    (site / "content" / "landing" / "everything.md").write_text(LANDING)
    series = site / "content" / "emails" / "merge-series"
    series.mkdir()
    (series / "series.toml").write_text(
        (site / "content" / "emails" / "guide-series" / "series.toml").read_text()
    )
    for name, text in STEPS.items():
        (series / name).write_text(text)
    return site


def assert_literal(message: EmailMessage, values: dict[str, str]) -> None:
    """No link or image from a lead value; each value shown as text in both parts."""
    html = message.get_body(("html",)).get_content()
    soup = BeautifulSoup(html, "html.parser")
    for tag, attr in (("a", "href"), ("img", "src")):
        for element in soup.find_all(tag):
            url = element.get(attr, "")
            assert url.startswith(OURS), f"<{tag} {attr}={url!r}> did not come from us"
    assert not soup.find_all(href=re.compile(r"^\s*javascript:", re.I))
    assert not soup.find_all(src=re.compile(r"evil\.example"))
    visible = soup.get_text()
    text = message.get_body(("plain",)).get_content()
    for value in values.values():
        assert value in visible  # what the reader sees
        assert str(escape(value)) in html  # HTML-escaped text, not markup
        assert value in text  # verbatim in the text part


def test_markup_in_every_lead_field_arrives_as_text(app, client, runner, smtp) -> None:
    sink, _ = smtp
    huey = app.extensions["huey"]
    huey.flush()
    form = {"email": EMAIL, "consent": "yes"} | PAYLOADS | SELECTS
    tampered = form | {"role": PAYLOADS["company"]}  # a select only takes its own choices
    assert (
        client.post("/forms/everything", data=tampered, headers={"Origin": ORIGIN}).status_code
        == 422
    )
    response = client.post("/forms/everything", data=form, headers={"Origin": ORIGIN})
    assert response.status_code == 303
    huey.execute(huey.dequeue())  # the worker's send task delivers the asset email
    [asset] = sink.to(EMAIL)
    assert asset["Subject"] == f"For {PAYLOADS['first_name']}"
    values = PAYLOADS | SELECTS | {"email": EMAIL}
    assert_literal(asset, values)
    assert "/download/" in asset.get_body(("plain",)).get_content()
    advance(app, runner, 10)  # the dispatch pass, at the moment step 1 is due
    [_, step] = sink.to(EMAIL)
    assert step["Subject"] == f"A tip for {PAYLOADS['last_name']}"
    assert_literal(step, values)
    html = step.get_body(("html",)).get_content()
    assert "<strong>[Verify account](https://evil.example/x)</strong>" in html


# Renderer edge cases: no database, so these run once.

CONTEXT = {
    "offer": {"id": "o", "title": "The Guide & Co"},
    "series": {"title": "S", "name": "s"},
    "download_url": 'https://forms.lodestone.test/download/t?a=1&b="2<',
    "unsubscribe_url": "https://forms.lodestone.test/unsubscribe/u",
    "preferences_url": "https://forms.lodestone.test/preferences/p",
}


def render(body: str, subject: str = "Hi", marketing: bool = False, **lead: str):
    email = Email(Path("x.md"), subject, "", body, 4, {})
    context = CONTEXT | {"lead": lead_context("ada@example.com", **lead)}
    return render_email(email, context, THEME, "Lodestone", marketing)


def card(html: str) -> BeautifulSoup:
    """The email's own content, without the layout around it."""
    return BeautifulSoup(html, "html.parser").find("div", class_="card")


def test_emphasis_around_a_merge_field_still_applies() -> None:
    r = render("Hi **{{ lead.first_name }}**, _{{ lead.company }}_.", first_name="**x**")
    strong = card(r.html).find("strong")
    assert strong.get_text() == "**x**"
    assert card(r.html).find("em").get_text() == ""
    assert r.text == "Hi **x**, .\n"  # the value stays literal, no markup of ours is left


def test_merge_field_in_a_link_target_and_an_attribute_is_attribute_escaped() -> None:
    r = render(
        '[Download]({{ download_url }}) <a href="{{ download_url }}">raw</a> <{{ download_url }}>'
    )
    links = card(r.html).find_all("a")
    assert [a["href"] for a in links] == [CONTEXT["download_url"]] * 3
    assert 'href="https://forms.lodestone.test/download/t?a=1&amp;b=&#34;2&lt;"' in r.html
    assert f"Download ({CONTEXT['download_url']})" in r.text


@pytest.mark.parametrize("company", ["Acme", ""])
def test_block_tags_on_their_own_lines_leave_no_empty_paragraph(company: str) -> None:
    body = (
        "First.\n\n{% if lead.company %}\nFor {{ lead.company }}.\n{% endif %}\n\n"
        "Inline{% if lead.company %} at {{ lead.company }}{% endif %}. {# editors only #}\n\nLast."
    )
    r = render(body, company=company)
    paragraphs = [p.get_text() for p in card(r.html).find_all("p")][1:]  # after the brand line
    expected = ["First.", f"For {company}.", f"Inline at {company}. "] if company else []
    assert paragraphs == (expected or ["First.", "Inline. "]) + ["Last."]
    assert not re.search(r"<p[^>]*>\s*</p>", r.html)
    middle = f"For {company}.\n\nInline at {company}." if company else "Inline."
    assert r.text == f"First.\n\n{middle} \n\nLast.\n"


def test_block_tags_between_table_rows_stay_in_the_table() -> None:
    body = (
        "| Name | Company |\n|------|---------|\n| {{ lead.first_name }} | {{ lead.company }} |\n\n"
        "<table><tbody>\n{% if lead.company %}<tr><td>{{ lead.company }}</td></tr>{% endif %}\n"
        "<tr><td>end</td></tr>\n</tbody></table>\n"
    )
    r = render(body, first_name="Ada", company="<b>Acme</b>")
    tables = card(r.html).find_all("table")
    assert [td.get_text() for td in tables[0].find_all("td")] == ["Ada", "<b>Acme</b>"]
    assert [td.get_text() for td in tables[1].find_all("td")] == ["<b>Acme</b>", "end"]
    assert "{%" not in r.html and "zj" not in r.html


def test_jinja_strings_raw_blocks_and_literal_braces() -> None:
    body = "{{ '}}' ~ lead.first_name }} {{ {'k': '%}'}['k'] }} "
    body += "{% raw %}{{ kept }}{% endraw %} {curly}"
    r = render(body, first_name="Ada")
    assert card(r.html).find_all("p")[1].get_text() == "}}Ada %} {{ kept }} {curly}"
    assert r.text == "}}Ada %} {{ kept }} {curly}\n"


def test_subject_and_footer_come_from_the_same_compiled_template() -> None:
    r = render("Body.", subject="Hi {{ lead.first_name }} & co", marketing=True, first_name="<i>")
    assert r.subject == "Hi <i> & co"
    assert "<title>Hi &lt;i&gt; &amp; co</title>" in r.html
    soup = BeautifulSoup(r.html, "html.parser")
    assert soup.find("a", string="Unsubscribe")["href"] == CONTEXT["unsubscribe_url"]
    assert "for The Guide &amp; Co on Lodestone" in r.html
    assert r.text.endswith(
        f"Unsubscribe: {CONTEXT['unsubscribe_url']}\n"
        f"Email preferences: {CONTEXT['preferences_url']}\n"
    )


def test_each_version_of_a_step_is_compiled_once() -> None:
    body = "Compiled once for {{ lead.first_name }}, a unique body 7c1e."
    before = compile_email.cache_info().misses
    assert "Ada" in render(body, first_name="Ada").html
    assert "Bea" in render(body, first_name="Bea").html
    assert compile_email.cache_info().misses == before + 1
    assert "edited" in render(body + " edited", first_name="Ada").html  # an edit applies
    assert compile_email.cache_info().misses == before + 2


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("Fine.\n\nHi {{ lead.shoe_size }}.", 6, "shoe_size"),
        ("Fine.\n\n{% if lead.company %}\nno end", 6, "endif"),
        ("Fine.\n{{ lead.first_name(1 }}", 5, "expected ')'"),
    ],
)
def test_template_errors_name_the_file_line(body: str, line: int, message: str) -> None:
    with pytest.raises(SeriesError) as error:
        render(body)
    assert error.value.path == Path("x.md") and error.value.line == line
    assert message in error.value.reason


def test_text_part_is_readable_text_with_the_writers_own_lines() -> None:
    """Issue 15: the signature's lines stay lines; no tag or entity reaches the text part."""
    body = (
        "Hi {{ lead.first_name }} &amp; team, read [the guide]({{ download_url }}) "
        "or <https://www.lodestone.test/blog/>.\n\n"
        '<p>Raw <b>HTML</b> 2 &lt; 3 <a href="mailto:hi@lodestone.test">write</a></p>\n\n'
        "<table><tbody>\n{% if lead.company %}<tr><td>At {{ lead.company }}</td></tr>{% endif %}\n"
        "<tr><td>end</td></tr>\n</tbody></table>\n\n"
        "Maya\nLodestone\n"
    )
    with_company = render(body, first_name="<b>Ada</b> &amp;", company="Acme").text
    assert with_company.startswith(
        f"Hi <b>Ada</b> &amp; & team, read the guide ({CONTEXT['download_url']}) "
        "or https://www.lodestone.test/blog/.\n\nRaw HTML 2 < 3 write (hi@lodestone.test)\n\n"
    )
    assert with_company.endswith("\n\nMaya\nLodestone\n")
    assert "At Acme" in with_company
    without = render(body, first_name="Ada").text
    assert "At " not in without and "end" in without
    for text in (with_company.replace("<b>Ada</b> &amp;", ""), without):
        assert not re.search(r"<[a-z/]|&[a-z]+;|\*\*|\]\(", text), text
