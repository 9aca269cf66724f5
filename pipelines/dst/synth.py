"""The synthetic register in DST-style layouts (``star synth --layout dst``).

Built from the native synthetic tables (:func:`pipelines.calibration.expected.synthesize`, run into
``<out>/native``), so the synthetic generator stays a leaf: each native table is rewritten in the
layout of the register it comes from, with DST's variable names and codes, in the formats a
research-server extract arrives in: SAS transport (``.xpt``; pyreadstat cannot write
``.sas7bdat``), Latin-1 CSV with ``;`` and DDMONYYYY dates, and Parquet for the wide DREAM file.
Reading the extract back with the shipped layouts gives the native tables again (tested).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.dst.dream import dream_column_name
from pipelines.dst.layouts import codelist

KH_TO_KYAARX = {"130": "10050", "131": "10025", "132": "10020"}
EDUCATION_TO_HFAUDD = {
    "basic": 1009,
    "upper_secondary": 2010,
    "vocational": 3010,
    "higher": 5010,
    "unknown": 9999,
}
ORIGIN_TO_BEF = {  # (origin, menapt) -> (IE_TYPE, OPR_LAND)
    ("danish", False): (1, 5100),
    ("western", False): (2, 5120),
    ("non_western", True): (2, 5752),
    ("non_western", False): (2, 5484),
}
VISITATION = {"job_ready": 1, "activity_ready": 2}


def _reverse(group: str) -> dict[str, str]:
    return {a["value"]: code for code, a in codelist(f"jobcenter.{group}").codes.items()}


def _xpt(df: pd.DataFrame, path: Path) -> Path:
    import pyreadstat

    pyreadstat.write_xport(df, str(path), file_format_version=8, table_name=path.stem[:8].upper())
    return path


def _csv(
    df: pd.DataFrame, path: Path, date_cols: tuple[str, ...] = (), date9: bool = False
) -> Path:
    out = df.copy()
    for c in date_cols:
        d = pd.to_datetime(out[c])
        txt = d.dt.strftime("%d%b%Y").str.upper() if date9 else d.dt.strftime("%Y-%m-%d")
        out[c] = txt.where(d.notna(), "")
    out.to_csv(path, sep=";", index=False, encoding="latin-1")
    return path


def _dates(s: pd.Series) -> pd.Series:
    """Timestamps as ``datetime.date`` objects (pyreadstat writes them with a SAS DATE format)."""
    return pd.to_datetime(s).dt.date.where(s.notna(), None)


def write_dst_layout(native: Path, out: Path) -> dict[str, Path]:
    """Rewrite the native register in ``native`` as a DST-style extract in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    read = lambda name: pd.read_parquet(native / f"{name}.parquet")  # noqa: E731
    files: dict[str, Path] = {}
    p = read("persons")
    bef = [ORIGIN_TO_BEF[(o, bool(m))] for o, m in zip(p["origin"], p["menapt"], strict=True)]
    files["bef"] = _xpt(
        pd.DataFrame(
            {
                "PNR": p["person_id"],
                "KOEN": np.where(p["sex"] == "M", 1, 2),
                "FOED_DAG": [pd.Timestamp(y, 7, 1).date() for y in p["birth_year"]],
                "IE_TYPE": [b[0] for b in bef],
                "OPR_LAND": [b[1] for b in bef],
                "KOM": p["municipality_id"].astype("float"),
            }
        ),
        out / "bef2023.xpt",
    )
    files["udda"] = _xpt(
        pd.DataFrame({"PNR": p["person_id"], "HFAUDD": p["education"].map(EDUCATION_TO_HFAUDD)}),
        out / "udda2023.xpt",
    )
    flags = pd.DataFrame(
        {
            "PNR": p["person_id"],
            "PSYK_DIAG": p["psychiatric_diagnosis"].astype(int),
            "MISBRUG_BEH": p["substance_abuse_treatment"].astype(int),
            "HAR_BOERN": p["has_children"].astype(int),
            "BOERN_ANBRAGT": p["children_placed"].map({True: "1", False: "0"}).fillna(""),
        }
    )
    files["person_flags"] = _csv(flags, out / "person_flags.csv")
    b = read("benefit_spells")
    kh = b["benefit_code"].isin(list(KH_TO_KYAARX))
    k = b[kh]
    files["ky"] = _csv(
        pd.DataFrame(
            {
                "PNR": k["person_id"],
                "SAG_ID": k["case_id"],
                "KYAARX": k["benefit_code"].map(KH_TO_KYAARX),
                "PERIODE_FRA": k["start_date"],
                "PERIODE_TIL": k["end_date"],
                "KOMMUNE": k["municipality_id"],
                "VISITATION": k["match_group"].map(VISITATION).astype("Int64"),
            }
        ),
        out / "ky_kontanthjaelp.csv",
        ("PERIODE_FRA", "PERIODE_TIL"),
        date9=True,
    )
    o = b[~kh]
    files["ydelsesperioder"] = _xpt(
        pd.DataFrame(
            {
                "PNR": o["person_id"],
                "SAG_ID": o["case_id"],
                "YDELSESKODE": o["benefit_code"],
                "YDELSE_START": _dates(o["start_date"]),
                "YDELSE_SLUT": _dates(o["end_date"]),
                "MYNDIGHED_KOMMUNE": o["municipality_id"],
                "MATCHGRUPPE": o["match_group"].map(VISITATION).astype("float"),
            }
        ),
        out / "star_ydelsesperioder.xpt",
    )
    h = read("monthly_paid_hours")
    pd.DataFrame(
        {
            "PNR": h["person_id"],
            "MAANED": pd.to_datetime(h["month"]).dt.strftime("%Y%m").astype(int),
            "BETALTE_TIMER": h["paid_hours"],
            "LOENBELOEB": h["earnings_dkk"],
        }
    ).to_parquet(out / "eindkomst_maaned.parquet", index=False)
    files["eindkomst"] = out / "eindkomst_maaned.parquet"
    files.update(_jobcentre(read, out))
    weekly = native / "weekly_benefit_codes.parquet"
    if weekly.exists():
        files["dream"] = write_dream_wide(
            pd.read_parquet(weekly), p["person_id"], out / "dream.parquet"
        )
    return files


def _jobcentre(read, out: Path) -> dict[str, Path]:
    c = read("conversations")
    conv = pd.DataFrame(
        {
            "PNR": c["person_id"],
            "SAMTALE_DATO": c["conversation_date"],
            "SAMTALETYPE": c["conversation_type"].map(_reverse("samtaletype")),
            "KOMMUNE": c["municipality_id"],
            "SAGSBEHANDLER_ID": c["caseworker_id"].fillna(""),
        }
    )
    a = read("activation_offers")
    offers = pd.DataFrame(
        {
            "PNR": a["person_id"],
            "TILBUD_ID": a["offer_id"],
            "TILBUDSTYPE": a["offer_type"].map(_reverse("tilbudstype")),
            "START_DATO": a["start_date"],
            "SLUT_DATO": a["end_date"],
            "AFSLUTNING": a["outcome"].map(_reverse("afslutning")),
        }
    )
    w = read("caseworker_assignments")
    cw = pd.DataFrame(
        {
            "PNR": w["person_id"],
            "SAGSBEHANDLER_ID": w["caseworker_id"],
            "KOMMUNE": w["municipality_id"],
            "FRA_DATO": w["start_date"],
            "TIL_DATO": w["end_date"],
        }
    )
    e = read("exemptions")
    ex = pd.DataFrame(
        {
            "PNR": e["person_id"],
            "FRA_DATO": e["start_date"],
            "TIL_DATO": e["end_date"],
            "FRITAGELSE_AARSAG": e["reason"].map(_reverse("fritagelse_aarsag")),
        }
    )
    return {
        "samtaler": _csv(conv, out / "jc_samtaler.csv", ("SAMTALE_DATO",)),
        "tilbud": _csv(offers, out / "jc_tilbud.csv", ("START_DATO", "SLUT_DATO")),
        "sagsbehandler": _csv(cw, out / "jc_sagsbehandler.csv", ("FRA_DATO", "TIL_DATO")),
        "fritagelser": _csv(ex, out / "jc_fritagelser.csv", ("FRA_DATO", "TIL_DATO")),
    }


def write_dream_wide(weekly: pd.DataFrame, persons: pd.Series, path: Path) -> Path:
    """The long weekly panel as DREAM's wide layout: one row per person, ``y_YYWW`` columns."""
    weeks = pd.to_datetime(weekly["week_start"])
    first, last = weeks.min(), weeks.max()
    mondays = pd.date_range(first, last, freq="7D")
    names = [dream_column_name(d.date()) for d in mondays]
    pid = pd.Index(persons.astype(str))
    row = pid.get_indexer(weekly["person_id"].astype(str))
    col = ((weeks - first).dt.days // 7).to_numpy()
    mat = np.full((len(pid), len(names)), None, dtype=object)
    mat[row, col] = weekly["benefit_code"].astype(str).to_numpy()
    wide = pd.DataFrame(mat, columns=names)
    wide.insert(0, "PNR", pid)
    wide.to_parquet(path, index=False)
    return path


def synth_dst(size: str, seed: int, out: Path, progress=None) -> dict[str, Path]:
    """Generate the native register (with the weekly panel) into ``out/native`` and write the
    DST-style extract into ``out``; the ground truth is copied to ``out/ground_truth``."""
    from pipelines.calibration.expected import synthesize

    native = Path(out) / "native"
    synthesize(size, seed, native, weekly=True, progress=progress)
    files = write_dst_layout(native, Path(out))
    truth = Path(out) / "ground_truth"
    shutil.rmtree(truth, ignore_errors=True)
    shutil.copytree(native / "ground_truth", truth)
    return files
