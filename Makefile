# PROMISE: `make run` to use it, `make test` to test it. See README.md.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The PostgreSQL that `make test` runs the database-backed tests against a second time
# (all but those marked engine_agnostic: about Redis, processes, files or page layout);
# `make test TEST_POSTGRES_URL=` skips that run.
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: venv run test admin chromium clean

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

test: venv chromium
	$(PY) -m pytest
ifneq ($(strip $(TEST_POSTGRES_URL)),)
	DATABASE_URL=$(TEST_POSTGRES_URL) $(PY) -m pytest tests/integration tests/e2e -m "not engine_agnostic"
endif

# Removes what can be rebuilt; keeps var/ (your database, uploads and models) and .venv.
clean:
	rm -rf .pytest_cache .ruff_cache test-artifacts staticfiles var/staticfiles
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
