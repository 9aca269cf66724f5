"""Fuzzing ingest: whatever bytes arrive, validation never raises and counts always reconcile."""

from __future__ import annotations

import string

import hypothesis.strategies as st
from conftest import VALID, write_extract
from hypothesis import HealthCheck, given, settings

from data_schema.mapping import load_state_mapping
from pipelines.config import load_config
from pipelines.ingest import validate_table

CFG = load_config()
MAPPING = load_state_mapping()
SETTINGS = settings(
    max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", 60)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

cell = st.one_of(
    st.text(alphabet=string.printable + "æøåÆØÅé\u00a0", max_size=12),
    st.sampled_from(
        [
            "",
            "NA",
            "NaN",
            "-1",
            "1e309",
            "2019-02-29",
            "2020-02-29",
            "0101801234",
            "130",
            "true",
            " 101 ",
            "1.5",
        ]
    ),
)


def _check(result):
    assert result.n_read == result.n_accepted + result.n_quarantined
    if result.fatal is None:
        assert result.accepted is not None and len(result.accepted) == result.n_accepted
        assert result.violations["row"].between(1, result.n_read).all()
        # every quarantined row has at least one reason
        assert set(result.violations["row"]) == set(result.quarantined["quarantine_row"])


@SETTINGS
@given(table=st.sampled_from(list(VALID)), data=st.data())
def test_random_cells_never_crash(tmp_path_factory, table, data):
    header, *rows = VALID[table]
    ncol = len(header.split(","))
    new_rows = data.draw(
        st.lists(st.lists(cell, min_size=ncol, max_size=ncol), min_size=1, max_size=6)
    )
    lines = rows + [",".join('"' + c.replace('"', '""') + '"' for c in r) for r in new_rows]
    raw = write_extract(tmp_path_factory.mktemp("fz"), {table: [header, *lines]})
    _check(validate_table(table, raw / f"{table}.csv", CFG, MAPPING))


@SETTINGS
@given(
    table=st.sampled_from(list(VALID)),
    cut=st.floats(0, 1),
    encoding=st.sampled_from(["utf-8", "latin-1", "utf-16"]),
)
def test_truncated_and_reencoded_files_never_crash(tmp_path_factory, table, cut, encoding):
    text = "\n".join(VALID[table]) + "\n"
    data = text.encode(encoding, errors="replace")
    data = data[: int(len(data) * cut)]
    raw = write_extract(tmp_path_factory.mktemp("fz"), {table: data})
    _check(validate_table(table, raw / f"{table}.csv", CFG, MAPPING))


@SETTINGS
@given(blob=st.binary(max_size=300))
def test_random_bytes_never_crash(tmp_path_factory, blob):
    raw = write_extract(tmp_path_factory.mktemp("fz"), {"exemptions": blob})
    _check(validate_table("exemptions", raw / "exemptions.csv", CFG, MAPPING))
