# PROMISE: `make run` to use it, `make test` to test it. See README.md.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# `make test` runs the whole suite once, against PostgreSQL (the production database),
# in TEST_PROCESSES pytest-xdist processes, one test file per process at a time; each
# process has a test database, Redis database (REDIS_URL's number minus its index: 15
# and 14 by default), media folder, Celery worker and browser of its own (tests/settings.py).
# Then, on SQLite (make run's default), only the tests about SQLite: what each engine
# stores (JSON key order, hostile names) and the whole path with the web and a worker
# writing one SQLite file. tests/integration/test_make_run*.py start make run on SQLite
# in the first pass already. `make test TEST_POSTGRES_URL=` runs everything on SQLite.
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_PROCESSES ?= 2
SQLITE_TESTS := tests/integration/test_stored_key_order.py \
	tests/integration/test_hostile_names.py tests/integration/test_discovery_path.py
PYTEST_PARALLEL = $(PY) -m pytest -n $(TEST_PROCESSES) --dist loadfile
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: venv run test lint admin chromium clean

venv: $(VENV)/.installed

$(PY):
	@$(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV) with $(PYTHON) (on Debian/Ubuntu: apt-get install python3-venv)."; exit 1; }

# Reinstall only when a requirements file changed since the last install.
$(VENV)/.installed: requirements.txt requirements-test.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -r requirements-test.txt
	@touch $@

run: venv
	@$(PY) bin/run.py

admin: venv
	@$(PY) bin/admin.py

# Debian's chromium for the browser tests (tests/e2e launch /usr/bin/chromium themselves).
chromium:
	@test -x /usr/bin/chromium || { \
		$(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; }

# Style first: ruff's rules and format (pyproject.toml), in seconds, before the suite's minutes.
lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: lint chromium
ifneq ($(strip $(TEST_POSTGRES_URL)),)
	DATABASE_URL=$(TEST_POSTGRES_URL) $(PYTEST_PARALLEL)
	env -u DATABASE_URL $(PY) -m pytest $(SQLITE_TESTS)
else
	env -u DATABASE_URL $(PYTEST_PARALLEL)
endif

# Removes what can be rebuilt; keeps var/ (your database, uploads and models) and .venv.
clean:
	rm -rf .pytest_cache .ruff_cache test-artifacts staticfiles var/staticfiles
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
