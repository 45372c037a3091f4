"""column_rules, the one-pass test that replaced 443 per-column dbt tests (not_null, between,
accepted_values): rendered as dbt renders a generic test and run in DuckDB, it counts the
rows breaking each rule exactly as the single-rule tests it replaced (the `between` macro,
and dbt's not_null / accepted_values meaning: NULL passes accepted_values) and is silent when
nothing breaks."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import jinja2
import pytest
import yaml

DBT = Path(__file__).resolve().parent.parent / "dbt_project"
TESTS = (DBT / "macros" / "generic_tests.sql").read_text()


def _macros() -> str:
    """dbt compiles `{% test name(...) %}` into a macro `test_name`: do the same."""
    text = re.sub(r"{%\s*test\s+(\w+)\(", r"{% macro test_\1(", TESTS)
    return re.sub(r"{%\s*endtest\s*%}", "{% endmacro %}", text)


def render(call: str) -> str:
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    return env.from_string(_macros() + call).render().strip()


ROWS = [  # a, b, c
    (1, "L", 5.0),
    (None, "P", 150.0),
    (3, "X", None),
    (4, None, -1.0),
    (7, "P", 120.0),
]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create table t (a integer, b varchar, c double)")
    con.executemany("insert into t values (?, ?, ?)", ROWS)
    return con


def failing(con: duckdb.DuckDBPyConnection, call: str) -> dict[str, int]:
    return dict(con.execute(render(call)).fetchall())


def test_each_rule_counts_what_breaks_it(con: duckdb.DuckDBPyConnection) -> None:
    call = """{{ test_column_rules('t',
        not_null=['a', 'b', 'c'],
        between={'c': {'min_value': 0, 'max_value': 120},
                 'a': {'min_value': 2, 'allow_null': false}},
        accepted_values={'b': ['L', 'P']}) }}"""
    # by hand from ROWS: a NULL once, b NULL once, c NULL once; c outside [0, 120]: 150 and
    # -1 (NULL passes); a below 2 or NULL: 1 and NULL; b not L/P: 'X' (NULL passes)
    assert failing(con, call) == {
        "not_null(a)": 1,
        "not_null(b)": 1,
        "not_null(c)": 1,
        "between(c, 0, 120)": 2,
        "between(a, 2, None, not null)": 2,
        "accepted_values(b)": 1,
    }


def test_silent_when_every_rule_holds(con: duckdb.DuckDBPyConnection) -> None:
    call = """{{ test_column_rules('t', not_null=['b'],
        between={'c': {'min_value': -5}}, accepted_values={'b': ['L', 'P', 'X']}) }}"""
    con.execute("delete from t where b is null")
    assert failing(con, call) == {}


@pytest.mark.parametrize(
    "bounds",
    [
        {"min_value": 0, "max_value": 120},
        {"min_value": 0, "max_value": 120, "allow_null": False},
        {"max_value": 6},
        {"min_value": 2, "allow_null": False},
    ],
)
def test_between_agrees_with_the_single_rule_test(
    con: duckdb.DuckDBPyConnection, bounds: dict
) -> None:
    for column in ("a", "c"):
        args = ", ".join(f"{k}={v!r}".replace("False", "false") for k, v in bounds.items())
        single = con.execute(render(f"{{{{ test_between('t', '{column}', {args}) }}}}")).fetchall()
        merged = failing(
            con,
            f"{{{{ test_column_rules('t', between={{'{column}': {bounds!r}}}) }}}}".replace(
                "False", "false"
            ),
        )
        assert sum(merged.values()) == len(single)


def test_every_moved_rule_is_declared() -> None:
    """The YAML declares the rules the 443 single tests did: each not_null, between and
    accepted_values now sits in its model's (or seed's) column_rules, naming real columns."""
    counts = {"not_null": 0, "between": 0, "accepted_values": 0}
    for path in [*DBT.glob("models/*/_models.yml"), DBT / "seeds" / "_seeds.yml"]:
        doc = yaml.safe_load(path.read_text())
        for node in [*(doc.get("models") or []), *(doc.get("seeds") or [])]:
            columns = {c["name"] for c in node.get("columns", [])}
            for test in node.get("data_tests", []):
                if not (isinstance(test, dict) and "column_rules" in test):
                    continue
                args = test["column_rules"]["arguments"]
                for kind in counts:
                    named = args.get(kind, [])
                    assert set(named) <= columns, (node["name"], set(named) - columns)
                    counts[kind] += len(named)
    assert counts == {"not_null": 228, "between": 154, "accepted_values": 61}
