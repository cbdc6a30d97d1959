# Two commands on a fresh Debian machine, as root:
#   make run   set everything up and serve the portal with its worker on 127.0.0.1:8000
#   make test  set everything up, run the whole suite, take the local cluster down
# and a quick lane for any user, with nothing but Python (no root, no system package, no cluster):
#   make check ruff, mypy and the tests not marked cluster, worker or browser
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# The virtualenv's interpreter: Debian's python3.11 where the machine has it (scripts/install-system-packages
# brings it with python3-venv), else the python3 on the PATH. Debian's is built with profile-guided and
# link-time optimization and libpython linked into the binary; a default source build such as pyenv's (a
# shared libpython, neither optimization) spent ~13% more CPU on the portal's code (docs/benchmarks.md).
# A .venv made from another interpreter is kept: remove it to remake it.
PYTHON ?= $(or $(shell dpkg-query -L python3.11-minimal 2>/dev/null | grep -m1 '/bin/python3\.11$$'),python3)
NODES ?= 2
export DEBUG ?= true
export SECRET_KEY ?= insecure-development-key-do-not-use-in-production

# The quick lane's tests must not reach the local cluster, even where one is up: a test that needs it
# without its marker fails here, with the fixture's sentence, instead of passing by chance.
QUICK_MARKERS := not cluster and not worker and not browser
NO_CLUSTER := $(CURDIR)/var/no-cluster/cluster.json

AXE := tests/browser/axe

.PHONY: run test check token setup system-packages venv axe redis cluster-up cluster-down db bench clean

run: setup
	@$(PY) manage.py demo_setup
	@scripts/serve

# make run serves from SQLite (nothing to start) where the suite runs on PostgreSQL: the committed creates
# and the queries compiled once run again on SQLite, in their own test database.
SQLITE_LANE := tests/test_committed_creates.py tests/plumbing/test_prepared.py

# The suite runs in two lanes side by side: the quick lane's tests (CPU, no cluster) in the background, with a
# test database and task queue of their own, beside the cluster, worker and browser tests, which mostly wait
# on Docker, the worker and chromium. The quick lane's report follows the other's; a lane that PYTEST_ARGS
# leaves empty (pytest's status 5) fails nothing.
QUICK_LANE_LOG := var/log/test-quick-lane.log

test: setup
	@set -o pipefail; status=0; mkdir -p var/log; \
	TEST_RUN_ID=quick-lane CELERY_BROKER_URL=redis://127.0.0.1:6379/14 OVERLAY_PORTAL_CLUSTER_FILE=$(NO_CLUSTER) \
	  $(VENV)/bin/pytest -m "$(QUICK_MARKERS)" $(PYTEST_ARGS) > $(QUICK_LANE_LOG) 2>&1 & quick=$$!; \
	$(VENV)/bin/pytest -m "not ($(QUICK_MARKERS))" $(PYTEST_ARGS) || { code=$$?; [ $$code = 5 ] || status=$$code; }; \
	wait $$quick || { code=$$?; [ $$code = 5 ] || status=$$code; }; \
	echo "--- the quick lane, run beside it ($(QUICK_LANE_LOG)):"; cat $(QUICK_LANE_LOG); \
	DATABASE_URL=sqlite:///$(CURDIR)/var/db-sqlite-lane.sqlite3 TEST_RUN_ID=sqlite-lane \
	  OVERLAY_PORTAL_CLUSTER_FILE=$(NO_CLUSTER) $(VENV)/bin/pytest -q $(SQLITE_LANE) || status=$$?; \
	cluster/cluster down || true; \
	exit $$status

check: venv
	@mkdir -p var
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy
	@OVERLAY_PORTAL_CLUSTER_FILE=$(NO_CLUSTER) $(VENV)/bin/pytest -q -m "$(QUICK_MARKERS)" $(PYTEST_ARGS)

# An API token for the shell (`overlay login --token "$(make -s token)"`): the key alone on stdout.
# TOKEN_USER (demo) and TOKEN_NAME (cli) choose whose and what for; it expires as every token does.
token: venv
	@$(PY) manage.py api_token_create --user $(or $(TOKEN_USER),demo) --name $(or $(TOKEN_NAME),cli)

setup: system-packages venv axe redis cluster-up db

system-packages:
	@scripts/install-system-packages

venv: $(VENV)/.installed

# The `overlay` client (client/) too, editable: .venv/bin/overlay runs the checkout's code.
$(VENV)/.installed: requirements.txt requirements-dev.txt client/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install -q --upgrade pip
	@$(VENV)/bin/pip install -q -r requirements-dev.txt
	@$(VENV)/bin/pip install -q -e ./client
	@touch $@

# axe-core for the accessibility browser test, exactly as package-lock.json pins it; again only when the lock changes.
axe: $(AXE)/node_modules/.installed

$(AXE)/node_modules/.installed: $(AXE)/package.json $(AXE)/package-lock.json
	@npm ci --prefix $(AXE) --no-audit --no-fund --loglevel=error
	@touch $@

redis:
	@scripts/ensure-redis

cluster-up:
	@cluster/cluster up --nodes $(NODES)

cluster-down:
	@cluster/cluster down

db:
	@mkdir -p var
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py collectstatic --noinput -v 0
	@$(PY) manage.py demo_setup
	@$(PY) manage.py cluster_register --tenant demo

bench: setup
	@$(PY) bench/allocator.py
	@$(PY) bench/web.py
	@$(PY) bench/tls.py
	@$(PY) bench/api_reads.py
	@$(PY) bench/e2e.py
	@$(PY) bench/scale.py
	@$(PY) bench/load.py

clean: cluster-down
	rm -rf var
