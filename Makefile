# Sanfang — two commands on a fresh machine: `make run` and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test test-pg install translations chromium js wrk bench soak lint demo clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	$(VENV)/bin/pybabel compile -f -d pages/translations >/dev/null

# Creates the SQLite database, loads the seed pack and demo data, prints the demo
# accounts, serves on $(HOST):$(PORT) and sweeps deadlines in the background every
# $(SWEEP_INTERVAL) seconds. Safe to run again: nothing is duplicated.
SWEEP_INTERVAL ?= 60
run: install
	$(VENV)/bin/sanfang init
	$(VENV)/bin/sanfang demo --compounds 40 --items 400 --seed 1
	$(VENV)/bin/sanfang facts refresh
	$(VENV)/bin/sanfang accounts
	SANFANG_BACKGROUND_SWEEP=1 SANFANG_SWEEP_INTERVAL=$(SWEEP_INTERVAL) \
	  $(VENV)/bin/sanfang run --host $(HOST) --port $(PORT)

# Browser tests use Debian's Chromium, and screenshots a Chinese font (Noto CJK);
# install them when missing (needs root or sudo).
chromium:
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "noto.*cjk"; } || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

# json-logic-js (pinned in tests/rules/js/package-lock.json) for the differential test
# tests/rules/test_rules_js.py; installed once from the npm registry, again only when
# the lock file changes. Without node that test is skipped.
JS_DIR   := tests/rules/js
JS_STAMP := $(JS_DIR)/node_modules/.installed-stamp
js:
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "npm not found: tests/rules/test_rules_js.py will be skipped"; \
	elif [ ! -f $(JS_STAMP) ] || [ $(JS_DIR)/package-lock.json -nt $(JS_STAMP) ]; then \
	  cd $(JS_DIR) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed-stamp; \
	fi

# One worker per CPU (pytest-xdist; tests taken as workers free up). One test, in one
# process: .venv/bin/pytest tests/web/test_web_auth.py -k login
PYTEST := $(VENV)/bin/pytest -q -n auto --dist worksteal
test: install chromium js lint
	$(PYTEST)

# The same suite on PostgreSQL (each test gets a database made from a seeded template).
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
test-pg: install chromium js
	DATABASE_URL=$(PG_URL) $(PYTEST)

lint: install
	$(VENV)/bin/ruff format --check engine forms rules pages tests bench
	$(VENV)/bin/ruff check engine forms rules pages tests bench
	$(VENV)/bin/mypy --strict rules forms

# HTTP benchmarks drive loopback servers with wrk (Debian's package; installed when missing).
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk >/dev/null; }

# bench_pages.py times every main page per demo role against a bare route (in one
# process; it builds the demo database /tmp/sanfang_bench_pages.db once).
# bench_scale.py needs PostgreSQL on 127.0.0.1:5432 (trust); it makes bench_sf and
# /tmp/sanfang_bench_scale.db, bench_facts.py measures facts, index and the district
# dashboard on them, then both are dropped. The default scale keeps `make bench` within
# ~20 minutes on 2 cores; the issues' full size (about an hour or more):
#   make bench SCALE_ARGS="--items 1000000 --overdue 10000"
SCALE_ARGS ?= --items 100000 --overdue 2000
SCALE_DBS := --url sqlite:////tmp/sanfang_bench_scale.db --url postgresql://postgres@127.0.0.1:5432/bench_sf
bench: install wrk
	mkdir -p bench/results
	$(PY) bench/bench_routing.py
	$(PY) bench/bench_forms.py
	$(PY) bench/bench_pages.py --markdown bench/results/pages.md
	$(PY) bench/bench_scale.py $(SCALE_ARGS) --keep --markdown bench/results/scale.md
	$(PY) bench/bench_facts.py $(SCALE_DBS) | tee bench/results/facts.md
	$(PY) bench/bench_scale.py --drop
	$(PY) bench/bench_import.py | tee bench/results/import.md

# A soak on PostgreSQL (127.0.0.1:5432, trust): gunicorn -w 3 and six clients raising,
# moving and reading items while the sweep runs, for SOAK_SECONDS (default ten minutes);
# makes and drops the database bench_soak; exits 1 on any error or lost write.
SOAK_SECONDS ?= 600
soak: install
	mkdir -p bench/results
	$(PY) bench/soak.py --duration $(SOAK_SECONDS) --markdown bench/results/soak.md

clean:
	rm -rf instance/sanfang.db* bench/results
