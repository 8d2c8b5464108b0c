# brygga — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test install worker lint typecheck check messages rules-table bench-smoke clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Re-install only when the dependency list changed.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

var:
	mkdir -p var

run: export BRYGGA_DEBUG ?= 1

# Serve the Swedish web UI with demo data; the background worker runs beside it and stops with it.
run: install var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_reference_data
	$(PY) manage.py load_demo_data
	@echo "brygga: http://127.0.0.1:$(PORT)/  (demo accounts: see README)"
	@set -e; $(PY) manage.py worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(PY) manage.py runserver 127.0.0.1:$(PORT)

worker: install
	$(PY) manage.py worker

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy brygga tests

check: lint typecheck test

messages: install
	cd brygga && ../$(PY) ../manage.py makemessages -l en --no-obsolete && ../$(PY) ../manage.py compilemessages

# docs/rules.md: rule id → code → tests, generated (tests/test_rule_table.py checks it is current).
rules-table: install
	$(PY) tools/rule_table.py

bench-smoke: install
	$(PY) bench/load.py --smoke
	$(PY) bench/process_bench.py --smoke
	$(PY) bench/invoice_basis_bench.py --smoke
	$(PY) bench/users_bench.py --smoke
	$(PY) bench/reload_bench.py --smoke
	@case "$$DATABASE_URL" in postgres*) $(PY) bench/payment_bench.py --smoke --repeat 1;; \
	  *) echo "bench/payment_bench.py --smoke skipped: DATABASE_URL is not PostgreSQL";; esac

clean:
	rm -rf $(VENV) var/*.sqlite3
