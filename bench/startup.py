"""Start-up benchmark: what a command costs before it does anything, side by side in one run.

Times, each in a fresh process, the median of ``--repeat`` runs:

- ``python -c pass`` (the interpreter alone: the floor);
- ``flask --app formserver --help`` (the app factory and the command groups);
- ``flask --app formserver drip lint`` on the sample site (what ``make build`` runs after Pelican);
- ``make build``'s two steps (Pelican with our theme and plugin, then ``drip lint``) on a generated
  site of ``--articles`` articles and 50 landing pages, against vanilla Pelican on the same
  articles (the goal is at most 1.1x).

Usage: ``.venv/bin/python bench/startup.py [--articles 1000] [--repeat 5]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import ROOT, build, make_site, settings_file

FLASK = str(Path(sys.executable).parent / "flask")


def timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    """Wall time of one run of ``argv``, which must succeed."""
    start = time.perf_counter()
    subprocess.run(argv, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_of(repeat: int, argv: list[str], env: dict[str, str] | None = None) -> float:
    return statistics.median(timed(argv, env) for _ in range(repeat))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = args.repeat
    floor = median_of(n, [sys.executable, "-c", "pass"])
    helptext = median_of(n, [FLASK, "--app", "formserver", "--help"])
    lint = median_of(n, [FLASK, "--app", "formserver", "drip", "lint"])
    print(f"{'python -c pass':40}{floor:6.3f} s")
    print(
        f"{'flask --app formserver --help':40}{helptext:6.3f} s   {helptext / floor:5.1f}x python"
    )
    print(f"flask --app formserver drip lint        {lint:6.3f} s   {lint / floor:5.1f}x python")
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp)
        make_site(site, args.articles, 50)
        vanilla = settings_file(site, vanilla=True, cache=False)
        ours = settings_file(site, vanilla=False, cache=False)
        env = os.environ | {
            "FORMSERVER_CONTENT_PATH": str(site / "content"),
            "FORMSERVER_ASSETS_PATH": str(site / "assets"),
        }
        lint_argv = [FLASK, "--app", "formserver", "drip", "lint"]
        v_times, b_times, p_times = [], [], []
        for _ in range(max(n // 2, 3)):  # interleaved, so drift hits both sides alike
            v_times.append(build(site, vanilla, site / "out-v"))
            pelican = build(site, ours, site / "out-l")
            p_times.append(pelican)
            b_times.append(pelican + timed(lint_argv, env))
        v, p, b = (statistics.median(t) for t in (v_times, p_times, b_times))
    print(f"vanilla Pelican, {args.articles} articles        {v:6.3f} s")
    print(f"Pelican with our theme and plugin       {p:6.3f} s   ratio {p / v:.2f}x vanilla")
    print(f"make build (Pelican + drip lint)        {b:6.3f} s   ratio {b / v:.2f}x vanilla")
    return 0


if __name__ == "__main__":
    sys.exit(main())
