"""Production settings: absolute URLs and the public form server address."""

import os
import sys

sys.path.append(os.curdir)
from pelicanconf import *  # noqa: F403

SITEURL = os.environ.get("LODESTONE_SITE_URL", "https://www.lodestone.example")
FORMSERVER_URL = os.environ.get("LODESTONE_FORMSERVER_URL", "https://forms.lodestone.example")
FEED_DOMAIN = SITEURL
RELATIVE_URLS = False
DELETE_OUTPUT_DIRECTORY = True
