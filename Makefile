# Two commands do everything on a fresh machine: `make run` and `make test`.
# The newest supported Python found (3.13, then 3.12, then 3.11), on PATH or under pyenv;
# `make run PYTHON=python3.11 VENV=.venv-3.11` builds another environment beside the default.
SUPPORTED := import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))
PYENV_VERSIONS := $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions
# Looked up only when a recipe uses it (creating an environment), not at every `make`.
PYTHON ?= $(shell for v in 13 12 11; do \
  for p in python3.$$v $$(ls -d $(PYENV_VERSIONS)/3.$$v.*/bin/python3.$$v 2>/dev/null | sort -V -r); \
  do $$p -c '$(SUPPORTED)' 2>/dev/null && command -v $$p && exit; done; done; \
  python3 -c '$(SUPPORTED)' 2>/dev/null && command -v python3)
VENV ?= .venv
BIN := $(abspath $(VENV)/bin)
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project/models dbt_project/seeds dbt_project/macros -type f 2>/dev/null) dbt_project/dbt_project.yml

export PATH := $(BIN):$(PATH)
export DAGSTER_HOME ?= $(abspath .dagster_home)
export UV_COMPILE_BYTECODE := 1

.PHONY: env browser postgres run lake test ui bench lint format lock generate clean calibrate \
	export status

env: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || { [ -n "$(PYTHON)" ] || { echo "no Python 3.11-3.13 found \
	  (looked for python3.13, python3.12, python3.11, python3); set PYTHON=/path/to/python"; \
	  exit 1; }; echo "creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version))"; \
	  $(PYTHON) -m venv $(VENV); }
	@echo "$(VENV): $$($(BIN)/python --version)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock -e .
	rm -f $(VENV)/.installed-*
	touch $@

# The dbt manifest is parsed once here, not at every code load.
$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	$(BIN)/python -c "from pipelines.transform.assets import dbt_project as p; p.preparer.prepare(p)"
	touch $@

# Debian's chromium renders report screenshots and PNG charts; installed when missing and root.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	       --no-install-recommends chromium >/dev/null; } \
	  || echo "chromium is not installed: PNG export and browser tests will be skipped"

# Debian's PostgreSQL holds the lake's catalog (`make lake`, tests/test_lake.py): installed
# when missing and root. Its initdb is off PATH on Debian (pipelines/lake/catalog.py finds it).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 \
	  || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	       apt-get install -y -qq --no-install-recommends postgresql >/dev/null; } \
	  || echo "PostgreSQL is not installed: make lake and the lake tests need it"

# Dagster's instance: dagster.yaml (a run queue that starts one run at a time, since DuckDB
# allows one writer) is copied into DAGSTER_HOME when missing there or changed here.
$(DAGSTER_HOME): $(DAGSTER_HOME)/dagster.yaml

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(@D)
	cp dagster.yaml $@

# kinerja run exits 3 when it published but held something back (a blocked quarter, an
# unreadable file, a failed check; listed one line each): `make run` still succeeds then.
run: $(STAMP) $(MANIFEST) browser | $(DAGSTER_HOME)
	@$(BIN)/kinerja run; status=$$?; [ $$status = 0 ] || [ $$status = 3 ] || exit $$status

# The planners' extract as an Excel workbook: reports/kinerja_<date>.xlsx.
export: $(STAMP) $(MANIFEST)
	$(BIN)/kinerja export

status: $(STAMP)
	@$(BIN)/kinerja status

# The warehouse as a DuckLake (catalog in a PostgreSQL of its own, started and stopped here),
# written by LAKE_WORKERS parallel partition runs, then compared table by table with the
# single-file warehouse `make run` built from the same exports. Last line: "N tables
# compared: identical" or the first difference.
LAKE_WORKERS ?= 4
lake: run postgres
	$(BIN)/kinerja lake --workers $(LAKE_WORKERS)

test: $(STAMP) $(MANIFEST) browser postgres
	$(BIN)/pytest -n 2 --dist loadgroup -q

ui: $(STAMP) $(MANIFEST) | $(DAGSTER_HOME)
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000 -w workspace.yaml

# Seconds from `dagster dev` to HTTP 200 and to the code location loaded -> bench/ui_start.json.
bench-ui: $(STAMP) $(MANIFEST)
	$(BIN)/python bench/ui_start.py

# dbt docs as one offline page. The catalog (column types, row counts) comes from the build
# warehouse when a run has made one, else it is left empty; the manifest Dagster loads from
# dbt_project/target/ is not touched.
DOCS_DIR ?= dbt_project/target/docs
docs: $(STAMP) $(MANIFEST)
	@docs="$(abspath $(DOCS_DIR))"; mkdir -p "$$docs"; \
	db=$$($(BIN)/python -c "from pipelines.settings import Settings; print(Settings.from_env().build_warehouse)"); \
	catalog=; if [ ! -f "$$db" ]; then \
	  echo "no build warehouse at $$db (make run makes one): docs without a catalog"; \
	  db="$$docs/empty.duckdb"; catalog=--empty-catalog; fi; \
	status=0; (cd dbt_project && KINERJA_DBT_DATABASE="$$db" $(BIN)/dbt -q docs generate \
	  --static $$catalog --target-path "$$docs" --profiles-dir .) || status=$$?; \
	rm -f "$$docs"/empty.duckdb*; [ $$status = 0 ] || exit $$status; \
	echo "dbt docs: open file://$$docs/static_index.html (one self-contained page, works offline)"

.PHONY: bench-ui docs

# Scale benchmark: 10k and 100k employees; BENCH_FULL=1 adds 1M (~25M indicator rows, long).
bench: $(STAMP) $(MANIFEST) browser | $(DAGSTER_HOME)
	$(BIN)/python bench/run.py

# False-finding rate of every findings family on the built warehouse (after `make run`):
# CALIBRATION_RUNS permutations -> reports/kalibrasi.{json,md} and the report's Kalibrasi part.
CALIBRATION_RUNS ?= 200
calibrate: $(STAMP)
	$(BIN)/kinerja calibrate --runs $(CALIBRATION_RUNS)

generate: $(STAMP)
	$(BIN)/kinerja generate --force

lint: $(STAMP)
	$(BIN)/ruff check pipelines tests bench
	$(BIN)/ruff format --check pipelines tests bench

format: $(STAMP)
	$(BIN)/ruff format pipelines tests bench
	$(BIN)/ruff check --fix pipelines tests bench

# Re-resolve the pinned versions after editing pyproject.toml's ranges.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 -q \
	  --no-header -o requirements.lock

clean:
	rm -rf dbt_project/target dbt_project/logs .dagster_home
