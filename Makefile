# Lodestone: `make run` to see it work, `make test` to prove it.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)
PORT   ?= 8000
# Tests run against the local PostgreSQL too; point these elsewhere if yours differ.
export FORMSERVER_TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export FORMSERVER_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: setup build run test test-fast browser quality lint audit format assets clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

build: $(STAMP)
	$(VENV)/bin/pelican content -s pelicanconf.py -o output --fatal errors
	$(VENV)/bin/flask --app formserver drip lint

run: build
	FORMSERVER_DEV=true $(VENV)/bin/flask --app formserver dev --port $(PORT)

# The browser tests drive Debian's chromium (no browser downloads); the deploy-guide test runs
# nginx. As root we install both.
browser:
	@{ test -x /usr/bin/chromium && command -v nginx >/dev/null && command -v rsync >/dev/null; } || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq chromium nginx-light openssl rsync >/dev/null; } || \
	  { echo "Install Debian's chromium, nginx-light and rsync (apt-get install ...) for the tests"; exit 1; }

# Everything, both databases, in under 5 minutes on 2 cores: the longest tests start first and
# xdist hands out one test at a time (pyproject.toml). The load and three-worker tests run 4,000
# items, not 20,000, at the same concurrency (why: tests/reliability/test_load.py, test_workers.py);
# LOAD_SUBMISSIONS=20000 RELIABILITY_SENDS=20000 make test repeats docs/performance.md's figures.
test: $(STAMP) browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -n 2

# The tests' temporary files (SQLite databases, fixture sites) in memory: ~15% faster than disk.
test test-fast: export TMPDIR := $(if $(wildcard /dev/shm/.),/dev/shm,$(or $(TMPDIR),/tmp))

# The run to repeat while working, under a minute: SQLite only, no browser, no tests/reliability.
# CI runs `make test`, which runs all of it.
test-fast: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -n 2 -m "not postgresql" --ignore=tests/e2e --ignore=tests/reliability

# Lighthouse and the Nu HTML Checker need Debian's chromium and a JRE (see .ci/run).
node_modules/.installed: package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	touch $@

quality: build browser node_modules/.installed
	@command -v java >/dev/null || { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq default-jre-headless >/dev/null; }
	$(PY) scripts/quality.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Known vulnerabilities in the installed dependencies (PyPI's advisories) and bandit at medium
# severity; every finding bandit is told to skip carries its reason beside a nosec comment.
audit: $(STAMP)
	$(PY) scripts/audit.py
	$(VENV)/bin/bandit -q -c pyproject.toml -r formserver plugins scripts -ll

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

assets: $(STAMP)
	$(PY) scripts/build_assets.py

clean:
	rm -rf output instance/*.db
