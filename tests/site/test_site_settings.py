"""The server reads the theme's settings without Pelican, and must read what Pelican reads."""

from __future__ import annotations

import pytest
from pelican.settings import read_settings

from formserver import PROJECT_ROOT
from formserver.core.site_settings import THEME_SETTINGS, site_context


@pytest.mark.parametrize("name", ["pelicanconf.py", "publishconf.py"])
def test_theme_settings_equal_pelicans(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LODESTONE_SITE_URL", "https://www.example.org")
    path = str(PROJECT_ROOT / name)
    expected = read_settings(path)
    ours = site_context(path)
    assert ours == {key: expected.get(key) for key in THEME_SETTINGS}
    if name == "publishconf.py":
        assert ours["SITEURL"] == "https://www.example.org"


def test_a_file_without_the_settings_gets_pelicans_defaults(tmp_path) -> None:
    path = tmp_path / "bare.py"
    path.write_text("SITENAME = 'Bare'\n")
    expected = read_settings(str(path))
    assert site_context(str(path)) == {key: expected.get(key) for key in THEME_SETTINGS}
