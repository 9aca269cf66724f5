"""DST-layout extract -> the project's tables: equal to the native tables after ingest; unknown
codes reported with counts and refused / quarantined / mapped to OTHER as configured."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from data_schema.mapping import load_state_mapping
from pipelines.config import load_config
from pipelines.dst.adapt import UnknownCodesError, adapt_extract, load_extract_config
from pipelines.dst.init_extract import inspect_extract, write_config
from pipelines.dst.synth import KH_TO_KYAARX
from pipelines.ingest import ingest, validate_extract

WINDOW = (date(1991, 1, 1), date(2023, 12, 31))
EXPECTED = {
    "bef2023.xpt": "bef", "udda2023.xpt": "udda", "person_flags.csv": "person_flags",
    "ky_kontanthjaelp.csv": "ky", "star_ydelsesperioder.xpt": "ydelsesperioder",
    "eindkomst_maaned.parquet": "eindkomst", "jc_samtaler.csv": "samtaler", "jc_tilbud.csv": "tilbud",
    "jc_sagsbehandler.csv": "sagsbehandler", "jc_fritagelser.csv": "fritagelser", "dream.parquet": "dream",
}  # fmt: skip


@pytest.fixture(scope="module")
def configured(dst_tiny, tmp_path_factory):
    conf = tmp_path_factory.mktemp("conf")
    paths = write_config(dst_tiny, conf, inspect_extract(dst_tiny))
    return paths, load_extract_config(paths["extract"]), load_state_mapping(paths["mapping"])


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in df.columns if df[c].dtype != bool][:4]
    return df.sort_values(keys, kind="mergesort").reset_index(drop=True)


def test_init_extract_recognises_every_register(dst_tiny, configured):
    insp = inspect_extract(dst_tiny)
    assert insp.recognised == EXPECTED
    assert not insp.unrecognised


def test_unrecognised_and_auxiliary_files(tmp_path):
    (tmp_path / "notes.csv").write_text("A;B\n1;2\n", encoding="latin-1")
    (tmp_path / "akm.csv").write_text("PNR;AAR;SOCIO13\nP1;2020;330\n", encoding="latin-1")
    (tmp_path / "pti.csv").write_text("PNR;PTI_TILSTAND_KODE\nP1;7\n", encoding="latin-1")
    insp = inspect_extract(tmp_path)
    assert insp.recognised == {"akm.csv": "socio13", "pti.csv": "pti"}
    assert "no layout matches" in insp.unrecognised["notes.csv"]


def test_tables_equal_native_after_ingest(dst_tiny, configured, tmp_path):
    paths, ext, mapping = configured
    res = adapt_extract(dst_tiny, ext, tmp_path / "dst", mapping, WINDOW)
    assert res.unknown.empty
    native = ingest(dst_tiny / "native", tmp_path / "n", load_config())
    ours = ingest(tmp_path / "dst" / "tables", tmp_path / "d", load_config(paths["config"]))
    assert ours.ok and native.ok
    for name in ours.tables:
        assert ours.tables[name].n_quarantined == 0, name
        a = _sorted(pd.read_parquet(tmp_path / "n" / "validated" / f"{name}.parquet"))
        b = _sorted(pd.read_parquet(tmp_path / "d" / "validated" / f"{name}.parquet"))[a.columns]
        if name == "benefit_spells":  # KH cases come from KY with DST's account codes
            a["benefit_code"] = a["benefit_code"].replace(KH_TO_KYAARX)
        pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=name)


def test_dream_weekly_equals_native_weekly_panel(dst_tiny, configured, tmp_path):
    _, ext, mapping = configured
    ext = ext.model_copy(update={"benefits": "dream", "dream_output": "weekly"})
    res = adapt_extract(dst_tiny, ext, tmp_path, mapping, WINDOW)
    got = pd.read_parquet(tmp_path / "tables" / "weekly_benefit_codes.parquet")
    want = pd.read_parquet(dst_tiny / "native" / "weekly_benefit_codes.parquet")
    assert res.tables["weekly_benefit_codes"] == len(want)
    pd.testing.assert_frame_equal(
        _sorted(want.astype({"person_id": str, "benefit_code": str})),
        _sorted(got)[want.columns], check_dtype=False,
    )  # fmt: skip


def _with_unknown_codes(dst_tiny: Path, tmp_path: Path) -> Path:
    """A copy of the extract whose KY file has two unknown account codes."""
    import shutil

    raw = tmp_path / "raw"
    shutil.copytree(dst_tiny, raw, ignore=shutil.ignore_patterns("native", "ground_truth"))
    ky = pd.read_csv(
        raw / "ky_kontanthjaelp.csv", sep=";", dtype=str, encoding="latin-1", keep_default_na=False
    )
    ky.loc[:2, "KYAARX"] = "55555"
    ky.loc[3, "KYAARX"] = "77777"
    ky.to_csv(raw / "ky_kontanthjaelp.csv", sep=";", index=False, encoding="latin-1")
    return raw


def test_unknown_codes_stop_with_counts(dst_tiny, configured, tmp_path):
    _, ext, mapping = configured
    raw = _with_unknown_codes(dst_tiny, tmp_path)
    with pytest.raises(UnknownCodesError) as info:
        adapt_extract(raw, ext, tmp_path / "out", mapping, WINDOW)
    t = info.value.table.set_index("code")
    assert t.loc["55555", "rows"] == 3 and t.loc["77777", "rows"] == 1
    assert (t["column"] == "KYAARX").all()
    assert 0 < t.loc["55555", "share_person_weeks"] < 0.05
    assert not (tmp_path / "out" / "tables" / "persons.parquet").exists()


def test_unknown_codes_quarantine_or_other(dst_tiny, configured, tmp_path):
    paths, ext, mapping = configured
    raw = _with_unknown_codes(dst_tiny, tmp_path)
    cfg = load_config(paths["config"])
    q = adapt_extract(
        raw, ext.model_copy(update={"unknown_codes": "quarantine"}), tmp_path / "q", mapping, WINDOW
    )
    assert q.unknown["rows"].sum() == 4
    v = validate_extract(tmp_path / "q" / "tables", cfg)
    from pipelines.dst.codes_report import unknown_benefit_codes

    rep = unknown_benefit_codes(v).set_index("code")
    assert rep.loc["55555", "rows"] == 3 and rep.loc["77777", "rows"] == 1
    assert v.tables["benefit_spells"].n_quarantined == 4
    adapt_extract(
        raw, ext.model_copy(update={"unknown_codes": "other"}), tmp_path / "o", mapping, WINDOW
    )
    spells = pd.read_parquet(tmp_path / "o" / "tables" / "benefit_spells.parquet")
    assert (spells["benefit_code"] == "OTHER").sum() == 4
    assert (
        validate_extract(tmp_path / "o" / "tables", cfg).tables["benefit_spells"].n_quarantined == 0
    )


def test_codes_outside_their_validity_are_noted(dst_tiny, configured, tmp_path):
    import shutil

    _, ext, mapping = configured
    raw = tmp_path / "raw"
    shutil.copytree(dst_tiny, raw, ignore=shutil.ignore_patterns("native", "ground_truth"))
    ky = pd.read_csv(
        raw / "ky_kontanthjaelp.csv", sep=";", dtype=str, encoding="latin-1", keep_default_na=False
    )
    late = ky["PERIODE_FRA"].str[-4:].astype(int) >= 2017
    ky.loc[late[late].index[:2], "KYAARX"] = "10010"  # valid 2007-2015 only
    ky.to_csv(raw / "ky_kontanthjaelp.csv", sep=";", index=False, encoding="latin-1")
    res = adapt_extract(raw, ext, tmp_path / "out", mapping, WINDOW)
    notes = [n for n in res.notes if "KYAARX=10010" in n]
    assert len(notes) == 1 and "in 2 row(s)" in notes[0]
