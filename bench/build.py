"""Site build benchmark: our theme and landing plugin against vanilla Pelican on the same articles.

Generates 1,000 articles and 50 landing pages (with their assets and series) in a temporary
folder, then times, side by side in this one run:

- vanilla Pelican (its default theme, no plugins) on the 1,000 articles;
- Lodestone's settings (theme, landing plugin, sitemap) on the same articles plus the landing pages;
- a Lodestone rebuild with the content cache after one article was edited.

Usage: ``.venv/bin/python bench/build.py [--articles 1000] [--landing 50] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = (
    "lead nurturing landing page conversion segment score funnel email offer consent "
    "campaign attribution audience content checklist playbook series window engagement"
).split()


def paragraph(seed: int, length: int = 60) -> str:
    return " ".join(WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(length)).capitalize()


def make_site(root: Path, articles: int, landing: int) -> None:
    """Write a generated content tree with the real series and assets alongside."""
    (root / "content" / "articles").mkdir(parents=True)
    (root / "content" / "landing").mkdir(parents=True)
    shutil.copytree(ROOT / "content" / "emails", root / "content" / "emails")
    shutil.copytree(ROOT / "content" / "pages", root / "content" / "pages")
    shutil.copy(ROOT / "content" / "robots.txt", root / "content" / "robots.txt")
    shutil.copytree(ROOT / "assets", root / "assets")
    for i in range(articles):
        body = "\n\n".join(paragraph(i + p) for p in range(6))
        (root / "content" / "articles" / f"a{i:04d}.md").write_text(
            f"Title: Article {i}\nDate: 2026-01-{i % 28 + 1:02d} 10:{i % 60:02d}\n"
            f"Category: Category {i % 5}\nTags: tag{i % 20}, tag{i % 7}\nSlug: article-{i}\n"
            f"Summary: {paragraph(i, 20)}.\n\n## Section\n\n{body}\n"
        )
    for i in range(landing):
        (root / "content" / "landing" / f"l{i:02d}.md").write_text(
            f"Title: Offer {i}\nSlug: offer-{i}\nTemplate: landing\nSummary: Offer {i}.\n"
            f"Offer: offer-{i}\nAsset: lead-nurturing-playbook.pdf\nSeries: playbook-nurture\n"
            "Fields: first_name, email, company?, role?\nDouble_optin: no\n"
            "Consent: I agree. See our [privacy policy](/privacy/).\nConsent_version: 1\n"
            f"Thank_you: Thanks.\n\n{paragraph(i)}\n"
        )


def settings_file(site: Path, vanilla: bool, cache: bool) -> Path:
    """A settings file for this site; vanilla drops our theme and plugins."""
    path = site / ("vanilla.py" if vanilla else "lodestone-cached.py" if cache else "lodestone.py")
    lines = [
        "import sys",
        f"sys.path.insert(0, {str(ROOT)!r})",
        "from pelicanconf import *  # noqa",
        f"PATH = {str(site / 'content')!r}",
        f"LOAD_CONTENT_CACHE = {cache}",
        f"CACHE_CONTENT = {cache}",
        f"CACHE_PATH = {str(site / ('cache-' + path.stem + str(cache)))!r}",
    ]
    if vanilla:
        lines += ["THEME = 'notmyidea'", "PLUGINS = []", "PAGE_PATHS = ['pages']"]
        lines += ["TEMPLATE_PAGES = {}", "MENUITEMS = ()"]
    else:
        lines += [
            f"PLUGIN_PATHS = [{str(ROOT / 'plugins')!r}]",
            f"THEME = {str(ROOT / 'theme')!r}",
            "LANDING = {"
            f"'assets_path': {str(site / 'assets')!r}, "
            f"'emails_path': {str(site / 'content' / 'emails')!r}, "
            f"'landing_path': {str(site / 'content' / 'landing')!r}}}",
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


def build(site: Path, settings: Path, output: Path) -> float:
    """Time one full ``pelican`` run in a fresh process, as ``make build`` does."""
    if "cached" not in settings.name:
        for stale in site.glob(f"cache-{settings.stem}*"):
            shutil.rmtree(stale)
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pelican",
            str(site / "content"),
            "-s",
            str(settings),
            "-o",
            str(output),
            "--quiet",
            "--fatal",
            "errors",
        ],
        check=True,
        cwd=site,
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--landing", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp)
        make_site(site, args.articles, args.landing)
        vanilla = settings_file(site, vanilla=True, cache=False)
        ours = settings_file(site, vanilla=False, cache=False)
        cached = settings_file(site, vanilla=False, cache=True)
        v_times, o_times = [], []
        for _ in range(args.repeat):  # interleaved, so drift hits both sides alike
            v_times.append(build(site, vanilla, site / "out-v"))
            o_times.append(build(site, ours, site / "out-l"))
        build(site, cached, site / "out-c")  # warm the cache
        edited = site / "content" / "articles" / "a0000.md"
        edited.write_text(edited.read_text() + "\nOne more sentence after an edit.\n")
        rebuild = build(site, cached, site / "out-c")
        v, o = statistics.median(v_times), statistics.median(o_times)
        print(f"articles={args.articles} landing pages={args.landing} repeats={args.repeat}")
        print(f"vanilla Pelican (articles only)     {v:6.2f} s")
        print(f"Lodestone (articles + landing)      {o:6.2f} s   ratio {o / v:.2f}x vanilla")
        print(
            f"Lodestone rebuild, 1 edited article {rebuild:6.2f} s   ratio {rebuild / o:.2f}x full"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
