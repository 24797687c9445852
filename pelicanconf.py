"""Pelican settings for local builds; publishconf.py overrides what production needs."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent

AUTHOR = "The Lodestone team"
SITENAME = "Lodestone"
SITESUBTITLE = "Practical guides to lead generation and lead nurturing for B2B teams"
SITEURL = ""
# Where the lead forms post. Empty: the same origin (``make run`` serves site and forms together).
FORMSERVER_URL = ""

PATH = "content"
ARTICLE_PATHS = ["articles"]
PAGE_PATHS = ["pages", "landing"]
STATIC_PATHS = ["images"]
# content/emails holds drip emails: never published (not in any *_PATHS above).
IGNORE_FILES = [".#*", "emails"]

TIMEZONE = "Europe/London"
DEFAULT_LANG = "en"
DEFAULT_DATE_FORMAT = "%-d %B %Y"

THEME = str(ROOT / "theme")
THEME_STATIC_DIR = "theme"
COPYRIGHT = "© 2026 Lodestone"

ARTICLE_URL = "blog/{slug}/"
ARTICLE_SAVE_AS = "blog/{slug}/index.html"
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
CATEGORY_URL = "category/{slug}/"
CATEGORY_SAVE_AS = "category/{slug}/index.html"
TAG_URL = "tag/{slug}/"
TAG_SAVE_AS = "tag/{slug}/index.html"
ARCHIVES_SAVE_AS = "archives/index.html"
CATEGORIES_SAVE_AS = "categories/index.html"
TAGS_SAVE_AS = "tags/index.html"
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
DIRECT_TEMPLATES = ["index", "categories", "tags", "archives"]
# robots.txt is a template so its Sitemap line gets the absolute site URL.
TEMPLATE_PAGES = {"404.html": "404.html", "robots.txt": "robots.txt"}

MENUITEMS = (
    ("Articles", "/archives/"),
    ("Free playbook", "/lead-nurturing-playbook/"),
    ("Landing page checklist", "/landing-page-checklist/"),
    ("About", "/about/"),
)

FEED_DOMAIN = "http://127.0.0.1:8000"
FEED_ALL_ATOM = "feeds/all.atom.xml"
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None

DEFAULT_PAGINATION = 10
SUMMARY_MAX_LENGTH = 40

PLUGIN_PATHS = [str(ROOT / "plugins")]
PLUGINS = ["landing", "pelican.plugins.sitemap"]
SITEMAP = {
    "format": "xml",
    "priorities": {"articles": 0.7, "indexes": 0.5, "pages": 0.6},
    "changefreqs": {"articles": "monthly", "indexes": "daily", "pages": "monthly"},
    # The 404 page is no content to index: a search engine that lists it sends people to an error.
    "exclude": ["tag/", "category/", r"^404\.html$"],
}
# The share image for pages without their own ``Og_image:`` (a path under the site, or a URL).
OG_IMAGE = "theme/img/og-default.png"
# The landing plugin's one setting: where offers' assets and drip series live.
LANDING = {
    "assets_path": str(ROOT / "assets"),
    "emails_path": str(ROOT / "content" / "emails"),
    "landing_path": str(ROOT / "content" / "landing"),
}

RELATIVE_URLS = False
DELETE_OUTPUT_DIRECTORY = True
