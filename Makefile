# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(abspath $(VENV)/bin)
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project/models dbt_project/seeds dbt_project/macros -type f 2>/dev/null) dbt_project/dbt_project.yml

export PATH := $(BIN):$(PATH)
export DAGSTER_HOME ?= $(abspath .dagster_home)
export UV_COMPILE_BYTECODE := 1

.PHONY: env browser run test ui bench lint format lock generate clean

env: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock -e .
	rm -f $(VENV)/.installed-*
	touch $@

# The dbt manifest is parsed once here, not at every code load.
$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	$(BIN)/python -c "from pipelines.dbt import dbt_project as p; p.preparer.prepare(p)"
	touch $@

# Debian's chromium renders report screenshots and PNG charts; installed when missing and root.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	       --no-install-recommends chromium >/dev/null; } \
	  || echo "chromium is not installed: PNG export and browser tests will be skipped"

$(DAGSTER_HOME):
	mkdir -p $@

run: $(STAMP) $(MANIFEST) browser | $(DAGSTER_HOME)
	$(BIN)/kinerja run

test: $(STAMP) $(MANIFEST) browser
	$(BIN)/pytest -n 2 --dist loadgroup -q

ui: $(STAMP) $(MANIFEST) | $(DAGSTER_HOME)
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000 -w workspace.yaml

# Scale benchmark: 10k and 100k employees; BENCH_FULL=1 adds 1M (~25M indicator rows, long).
bench: $(STAMP) $(MANIFEST) browser | $(DAGSTER_HOME)
	$(BIN)/python bench/run.py

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
	$(BIN)/uv pip compile pyproject.toml --extra dev --python $(BIN)/python -q --no-header -o requirements.lock

clean:
	rm -rf dbt_project/target dbt_project/logs .dagster_home
