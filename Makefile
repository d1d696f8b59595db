# Kestrel 客隼 — developer commands. `make run` and `make test` work on a fresh machine that has
# Python ≥ 3.12, pip and make; everything else is installed into .venv by these targets.
#
#   make run     serve the demo company on http://127.0.0.1:8000 and print the admin login
#   make test    ruff, the migration check and the test suite (SQLite; PostgreSQL too with KESTREL_TEST_PG)
#
# GNU make 4.3. Recipes use bash for `set -o pipefail` and `[[ ]]`.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV := .venv
PY := $(VENV)/bin/python
KESTREL := $(VENV)/bin/kestrel
# Stamps live inside the venv: deleting .venv forgets them, and a changed pyproject.toml is newer.
INSTALLED := $(VENV)/.installed
INSTALLED_TEST := $(VENV)/.installed-test

HOST ?= 127.0.0.1
PORT ?= 8000
ADMIN_USER ?= admin
# Generated once, printed on every `make run`; var/ is gitignored.
ADMIN_PASSWORD_FILE := var/admin-password
DEMO_USERS := gm, director, rm1, sh_gm, sh_sm, sh_rep1, hr, it
DEMO_PASSWORD := kestrel-demo-2026

PYTEST_ARGS ?=

# No settings module guessing anywhere: every Django command below uses this one.
export DJANGO_SETTINGS_MODULE := kestrel.settings

.PHONY: help venv test-venv assets run test test-pg lint fmt messages bench clean chromium

help:
	@echo "make run      venv + assets + migrate + demo data + admin login, then serve on http://$(HOST):$(PORT)/"
	@echo "make test     ruff check, makemigrations --check, pytest on SQLite (and on KESTREL_TEST_PG if set)"
	@echo "make lint     ruff check and ruff format --check"
	@echo "make fmt      ruff format and ruff check --fix"
	@echo "make messages refresh the Chinese catalogue (kestrel/locale) and compile it"
	@echo "make bench    run benchmarks/*.py"
	@echo "make clean    remove .venv, caches and collected static files (keeps var/ data)"
	@echo "variables:    PORT=$(PORT) HOST=$(HOST) DEMO_CUSTOMERS=2000 PYTHON=<interpreter> PYTEST_ARGS='-k …' KESTREL_TEST_PG=<url>"

# --- Environment --------------------------------------------------------------------------------

venv: $(INSTALLED)

# Rebuild the venv when it is missing or was made by a Python older than 3.12 (or one that no longer
# runs, e.g. after a pyenv upgrade); reinstall only when pyproject.toml changed since the last time.
$(INSTALLED): pyproject.toml
	@if ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	    python=$$(scripts/find-python); \
	    echo "Creating $(VENV) with $$python ($$($$python --version))"; \
	    rm -rf $(VENV); \
	    "$$python" -m venv $(VENV); \
	fi
	@echo "Installing Kestrel and its dependencies into $(VENV) (the first time takes a few minutes)…"
	$(PY) -m pip install --quiet --disable-pip-version-check --editable .
	@touch $@

test-venv: $(INSTALLED_TEST)

$(INSTALLED_TEST): pyproject.toml $(INSTALLED)
	@echo "Installing the test tools ([test] extras)…"
	$(PY) -m pip install --quiet --disable-pip-version-check --editable '.[test]'
	@touch $@

# npm packages (htmx, styles, …) come from package-lock.json without node: the script downloads each
# tarball, checks its integrity hash and unpacks what the pages use into kestrel/web/static/vendor/.
# It is idempotent, so running it every time costs little and never leaves a half-updated tree.
assets: venv
	@if [[ -f scripts/fetch_assets.py ]]; then \
	    $(PY) scripts/fetch_assets.py; \
	else \
	    echo "WARNING: scripts/fetch_assets.py is missing; pages will lack their vendored scripts and styles." >&2; \
	fi

# --- Run ----------------------------------------------------------------------------------------

# The embedded shape (SPEC §10): SQLite in var/, demo data, one waitress process. Re-running keeps
# the data: migrate and seed-demo are idempotent, and the admin login is created only once.
# DEMO_CUSTOMERS: the demo customer base (seed-demo tops it up; a million takes minutes).
DEMO_CUSTOMERS ?= 2000
run: venv assets
	$(KESTREL) migrate --no-input
	$(KESTREL) seed-demo --customers $(DEMO_CUSTOMERS)
	@$(PY) scripts/ensure_admin.py --username '$(ADMIN_USER)' --password-file $(ADMIN_PASSWORD_FILE)
	@echo
	@echo "  Kestrel 客隼    http://$(HOST):$(PORT)/"
	@echo "  admin login    $(ADMIN_USER) / $$(cat $(ADMIN_PASSWORD_FILE))    (kept in $(ADMIN_PASSWORD_FILE))"
	@echo "  demo logins    $(DEMO_USERS) / $(DEMO_PASSWORD)"
	@echo "  API docs       http://$(HOST):$(PORT)/api/v1/docs"
	@echo "  admin site     http://$(HOST):$(PORT)/admin/"
	@echo "  stop with Ctrl-C"
	@echo
	$(KESTREL) serve --host $(HOST) --port $(PORT)

# --- Tests --------------------------------------------------------------------------------------

# Test runs get a var/ of their own, so they never touch the developer's database or secret key
# (pytest itself uses Django's throwaway test database anyway), and run on SQLite even when the
# developer's shell points KESTREL_DATABASE_URL at PostgreSQL or sets production mode.
test test-pg: export KESTREL_VAR_DIR := $(CURDIR)/var/test
test test-pg: export KESTREL_PRODUCTION :=
test: export KESTREL_DATABASE_URL :=
test-pg: export KESTREL_DATABASE_URL = $(KESTREL_TEST_PG)

# pytest exits 5 when it collected no tests. That must fail `make test` loudly, never read as green:
# nothing here may swallow a non-zero exit (no "or true" fallback, no `-` prefix on a recipe line).
PYTEST = $(PY) -m pytest $(PYTEST_ARGS) || { status=$$?; \
    if [[ $$status -eq 5 ]]; then echo "make test: pytest collected no tests; that is a failure." >&2; fi; \
    exit $$status; }

test: test-venv assets chromium
	@mkdir -p "$$KESTREL_VAR_DIR/static"  # whitenoise warns about a missing STATIC_ROOT
	$(VENV)/bin/ruff check .
	$(PY) -m django makemigrations --check --dry-run
	@echo "== pytest on SQLite"
	$(PYTEST)
	@if [[ -n "$${KESTREL_TEST_PG:-}" ]]; then \
	    $(MAKE) test-pg; \
	else \
	    echo "(KESTREL_TEST_PG is not set: the PostgreSQL run was skipped)"; \
	fi

# The same suite again on PostgreSQL: KESTREL_TEST_PG=postgresql://postgres@127.0.0.1:5432/test make test
# (Django creates and drops its own test_<name> database there). Checked first, so a server that is
# down fails with one clear line instead of a page of test errors.
test-pg: test-venv assets chromium
	@$(PY) scripts/check_postgres.py "$${KESTREL_TEST_PG:?set KESTREL_TEST_PG to a PostgreSQL URL}"
	@mkdir -p "$$KESTREL_VAR_DIR/static"
	@echo "== pytest on PostgreSQL"
	$(PYTEST)

# The UI tests drive Debian's Chromium (Playwright cannot download its own browser here). Install it
# when we can (root with apt-get), with CJK fonts so screenshots show Chinese; otherwise warn.
chromium:
	@if [[ -x /usr/bin/chromium ]]; then \
	    :; \
	elif [[ $$(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the UI tests (apt-get)…"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get -o DPkg::Lock::Timeout=300 update -qq && \
	    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends chromium fonts-noto-cjk \
	        || echo "WARNING: apt-get could not install chromium; the UI tests will fail or skip." >&2; \
	else \
	    echo "WARNING: /usr/bin/chromium is missing and cannot be installed here (needs root and apt-get);" \
	         "the UI tests will fail or skip. Install it with: sudo apt-get install chromium" >&2; \
	fi

# --- Code quality -------------------------------------------------------------------------------

lint: test-venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: test-venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Collects every translatable string of kestrel/ into the zh_Hans catalogue; translate the new
# entries in kestrel/locale/zh_Hans/LC_MESSAGES/django.po, then run it again to compile.
# (kestrel/web/tests/test_translations.py fails the suite on an untranslated or stale entry.)
messages: venv
	cd kestrel && ../$(PY) ../manage.py makemessages -l zh_Hans --ignore "web/static/*" --no-wrap \
	    --add-location file --no-obsolete
	msgfmt --check -o kestrel/locale/zh_Hans/LC_MESSAGES/django.mo kestrel/locale/zh_Hans/LC_MESSAGES/django.po
	@grep -c '^msgstr ""$$' kestrel/locale/zh_Hans/LC_MESSAGES/django.po | xargs -I{} echo "{} entries without a translation (the header is one)"

# --- Benchmarks ---------------------------------------------------------------------------------

# Each benchmarks/*.py is a standalone script that prints its figures; RESULTS.md records them with
# the machine they came from. They get their own var/ so the demo database stays as it was.
bench: export KESTREL_VAR_DIR := $(CURDIR)/var/bench
bench: test-venv
	@shopt -s nullglob; scripts=(benchmarks/*.py); \
	if [[ $${#scripts[@]} -eq 0 ]]; then \
	    echo "No benchmarks yet: add benchmarks/<name>.py (see benchmarks/README.md)."; \
	    exit 0; \
	fi; \
	for script in "$${scripts[@]}"; do \
	    echo "== $$script"; \
	    $(PY) "$$script"; \
	done

# --- Cleaning -----------------------------------------------------------------------------------

# Keeps var/ (the demo database, the secret key, the admin password): delete it by hand to start over.
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis build dist *.egg-info
	rm -rf var/static var/test var/bench test-artifacts
	find . -name __pycache__ -type d -not -path './node_modules/*' -prune -exec rm -rf {} +
