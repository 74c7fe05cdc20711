# The README's commands: `make run` serves the app, `make test` runs every test.
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app webapp
HOST   ?= 127.0.0.1
PORT   ?= 5000
WORKERS ?= 2
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint bench bench-growth htmx axe chromium wrk screenshots clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# The local htmx copy (fallback for the CDN), fetched from the npm registry; never committed.
htmx: static/vendor/htmx.min.js
static/vendor/htmx.min.js: webapp/config.py scripts/fetch-htmx
	scripts/fetch-htmx

# axe-core, the accessibility checker the browser tests run on every page, from the npm
# registry; never committed.
axe: tests/vendor/axe.min.js
tests/vendor/axe.min.js: scripts/fetch-axe
	scripts/fetch-axe

# Debian's chromium, which Playwright drives (Playwright cannot download browsers here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -q && \
		$(SUDO) apt-get install -y -q chromium fonts-noto-color-emoji; }

# With SMTP_HOST set, the e-mail sender (`flask send-mail`) runs beside gunicorn and stops
# with it; MAIL_SENDER=0 leaves it out (e.g. on all but one of several hosts, or when it
# runs as a service of its own).
MAIL_SENDER ?= 1

# Debian's wrk, the load generator of `make bench` (without it, a slower Python client is used).
wrk:
	@command -v wrk >/dev/null 2>&1 || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q wrk; }

run: $(VENV)/.installed htmx
	$(FLASK) init
	@if [ -n "$$SMTP_HOST" ] && [ "$(MAIL_SENDER)" != 0 ]; then \
		$(FLASK) send-mail & sender=$$!; \
		trap 'kill $$sender 2>/dev/null; wait $$sender' EXIT; \
	fi; \
	$(VENV)/bin/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - \
		--preload --no-control-socket webapp.wsgi:app

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Tests run in parallel workers (one per core; each has its own database, server and
# browser), then the few marked `serial` run alone.
TEST_WORKERS ?= auto
test: $(VENV)/.installed-dev htmx axe chromium lint
	@status=0; \
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile -m "not serial" || status=$$?; \
	$(VENV)/bin/pytest -m serial || status=$$?; \
	exit $$status

# About 5 to 8 minutes; writes bench/results.{json,md} and the table in README.md (Performance).
bench: $(VENV)/.installed-dev htmx chromium wrk
	$(PY) tests/load/bench.py --readme README.md
	$(PY) tests/load/bench_import.py
	$(PY) tests/load/bench_reanchor.py

# The same page and write with 100,000 and 1,000,000 notes in the database (SQLite).
bench-growth: $(VENV)/.installed-dev htmx wrk
	$(PY) tests/load/bench.py --growth --readme README.md

# The README's screenshots (docs/*.png), taken from the app with the seed and the demo class.
screenshots: $(VENV)/.installed-dev htmx chromium
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) static/vendor tests/vendor .pytest_cache
