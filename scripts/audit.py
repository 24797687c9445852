"""Dependency audit: pip-audit against PyPI's advisory data, for every package in the venv.

pip-audit's PyPI service asks ``/pypi/<name>/<version>/json``. Where the registry answers only the
project document (``/pypi/<name>/json``, as the registry mirror CI reaches does), pip-audit skips
the package; we then read the same advisory list from the project document, which PyPI computes
for its newest release, and apply it when that release is the one installed. A package that is
neither audited by pip-audit nor the newest release is listed as not audited, by name.

Exit status: 1 when any installed package has a known vulnerability, else 0.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
PROJECT_JSON = "https://pypi.org/pypi/{name}/json"
PROJECT = "lodestone"
SKIPPED = re.compile(r"\((?P<version>[^()]+)\)\s*$")


def run_pip_audit() -> list[dict]:
    """pip-audit's JSON report of the installed environment (the one tests and the app run in)."""
    result = subprocess.run(
        [
            str(VENV_BIN / "pip-audit"),
            "--local",
            "--vulnerability-service",
            "pypi",
            "--progress-spinner",
            "off",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if not result.stdout.strip():
        sys.exit(f"pip-audit produced no report:\n{result.stderr}")
    return json.loads(result.stdout)["dependencies"]


def project_advisories(name: str, version: str) -> list[dict] | None:
    """PyPI's advisories for ``name`` when ``version`` is its newest release, else None."""
    url = PROJECT_JSON.format(name=name)  # a fixed https host: not user input
    with urllib.request.urlopen(url, timeout=30) as answer:  # nosec B310
        document = json.load(answer)
    if document["info"]["version"] != version:
        return None
    return [v for v in document.get("vulnerabilities", []) if not v.get("withdrawn")]


def main() -> int:
    found: list[str] = []
    not_audited: list[str] = []
    by_pip_audit = by_project = 0
    for dep in run_pip_audit():
        name = dep["name"]
        if name == PROJECT:  # this checkout, installed editable: not a dependency
            continue
        if "skip_reason" not in dep:
            by_pip_audit += 1
            found += [
                f"{name} {dep['version']}: {v['id']} (fix: {v['fix_versions']})"
                for v in dep.get("vulns", [])
            ]
            continue
        match = SKIPPED.search(dep["skip_reason"])
        if match is None:  # e.g. the project itself, installed from this checkout
            not_audited.append(f"{name}: {dep['skip_reason']}")
            continue
        version = match["version"]
        advisories = project_advisories(name, version)
        if advisories is None:
            not_audited.append(f"{name} {version}: not the newest release, no per-version data")
            continue
        by_project += 1
        found += [f"{name} {version}: {v['id']} (fix: {v.get('fixed_in')})" for v in advisories]
    print(
        f"audited {by_pip_audit + by_project} packages "
        f"({by_pip_audit} by pip-audit, {by_project} from PyPI's project advisories)"
    )
    for line in not_audited:
        print(f"not audited: {line}")
    for line in found:
        print(f"VULNERABLE: {line}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
