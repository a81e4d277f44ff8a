# goalgraph: the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
POS_PORT ?= 8100

.PHONY: demo test lint install dev-install browser screenshots clean bench bench-ci bench-workers bench-roster scim-check reliability

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

# strict editable mode: a real link tree that mypy can follow (re-run after adding files)
dev-install: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]" --config-settings editable_mode=strict

## Install, migrate, seed the freshmart demo tenant and serve it with a ready token,
## next to the demo POS its store KPIs sync from.
demo: install
	$(BIN)/goalgraph demo --pos-host $(HOST) --pos-port $(POS_PORT)
	@echo "Admin token (paste as 'Authorization: Bearer <token>'):"
	@TOKEN=$$($(BIN)/goalgraph token --tenant freshmart --role admin --person admin@freshmart.example | tail -n 1); \
	  echo "$$TOKEN"; \
	  echo "The page, signed in:  http://$(HOST):$(PORT)/#token=$$TOKEN"; \
	  echo "GraphiQL, signed in: http://$(HOST):$(PORT)/graphql#token=$$TOKEN"
	@$(BIN)/goalgraph demo-pos --host $(HOST) --port $(POS_PORT) & \
	  trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/goalgraph serve --host $(HOST) --port $(PORT)

## Install with the dev tools and run the whole suite (SQLite, plus PostgreSQL when
## GOALGRAPH_TEST_POSTGRES_URL is set), on two worker processes.
test: dev-install browser
	$(BIN)/pytest -n 2

## The page's tests and the GraphiQL test drive a real headless Chromium (Debian's
## package, with CJK fonts so Chinese renders); browsers are never downloaded.
browser:
	@{ command -v chromium >/dev/null 2>&1 && dpkg -s fonts-noto-cjk >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium and fonts-noto-cjk for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null; \
	  else \
	    echo "the browser tests need chromium and fonts-noto-cjk: install them (apt-get install chromium fonts-noto-cjk)"; \
	    exit 1; \
	  fi; }

## The page's browser tests, keeping their screenshots in docs/screenshots/.
screenshots: dev-install browser
	GOALGRAPH_SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest -q tests/test_page.py

## scim2-tester's RFC 7643/7644 compliance checks against a live server, alone.
scim-check: dev-install
	$(BIN)/pytest -q -s tests/test_scim_compliance.py

lint: dev-install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## goalgraph against floors measured in the same run, at 1k, 10k and 100k goal nodes, on
## SQLite and PostgreSQL (GOALGRAPH_BENCH_POSTGRES_URL, default the local server); writes
## bench/results/ and the table in docs/performance.md. Re-run one piece with e.g.
## `$(BIN)/python -m bench run --workload goal_tree --size 10k --db sqlite`.
bench: dev-install
	$(BIN)/python -m bench run --docs

## The same workloads on the 1k tenant only, briefly: fails on a wrong answer, never on speed.
bench-ci: dev-install
	$(BIN)/python -m bench run --ci --no-save

## The team query against `goalgraph serve --workers 1, 2, 4` on PostgreSQL (10k tenant).
bench-workers: dev-install
	$(BIN)/python -m bench workers --counts 1,2,4 --docs

## The roster import benchmark: 5,000 people over ~300 units, from a GBK CSV, on SQLite.
bench-roster: dev-install
	$(BIN)/python bench/roster_import.py

## The figures of docs/reliability.md: tests/reliability/ at full size on SQLite and
## PostgreSQL (GOALGRAPH_TEST_POSTGRES_URL, default the local server), then the table.
RELIABILITY_PG ?= postgres://postgres@127.0.0.1:5432/test
reliability: dev-install browser
	GOALGRAPH_RELIABILITY_SIZE=full GOALGRAPH_RELIABILITY_OUT=build/reliability.json \
	  GOALGRAPH_TEST_POSTGRES_URL=$${GOALGRAPH_TEST_POSTGRES_URL:-$(RELIABILITY_PG)} \
	  $(BIN)/pytest -q tests/reliability; \
	  status=$$?; $(BIN)/python -m tests.reliability.report build/reliability.json; exit $$status

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache goalgraph.sqlite3*
