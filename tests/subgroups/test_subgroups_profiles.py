"""Profiles, disclosure control of profiles, labels, case-review matching."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.disclosure import assert_publishable
from analysis.subgroups import (
    find_case_review_groups,
    label_groups,
    profile_table,
    publish_profiles,
)


def _people() -> tuple[pd.DataFrame, np.ndarray]:
    """Group 1: 40 non-western women with basic schooling; group 2: 30 Danish men in substance-abuse
    treatment, 60 % aged 50+; group 3: 30 mixed persons."""
    rows = []
    for i in range(40):
        rows.append(
            ("F", "non_western_menapt" if i % 2 else "non_western_other", "basic", "no", "30-39")
        )
    for i in range(30):
        rows.append(("M", "danish", "vocational", "yes", "50+" if i < 18 else "40-49"))
    for i in range(30):
        rows.append(
            (
                "F" if i % 2 else "M",
                "danish" if i % 3 else "western",
                ["upper_secondary", "higher", "unknown"][i % 3],
                "yes" if i % 5 == 0 else "no",
                ["18-29", "30-39", "40-49"][i % 3],
            )
        )
    df = pd.DataFrame(
        rows, columns=["sex", "origin", "education", "substance_abuse_treatment", "age_band"]
    )
    df["origin"] = pd.Categorical(
        df["origin"], ["danish", "western", "non_western_menapt", "non_western_other"]
    )
    groups = np.repeat([1, 2, 3], [40, 30, 30])
    return df, groups


def test_profile_shares_by_hand():
    df, g = _people()
    t = profile_table(df, g, ["sex", "origin"]).set_index(["group", "indicator", "level"])
    assert t.loc[("1", "sex", "F"), "n"] == 40
    assert t.loc[("1", "sex", "F"), "share"] == pytest.approx(1.0)
    # women overall: 40 + 15 = 55 of 100
    assert t.loc[("all", "sex", "F"), "n_level"] == 55
    assert t.loc[("1", "sex", "F"), "lift"] == pytest.approx(1 / 0.55)
    # every level of a categorical is listed, also when empty
    assert t.loc[("2", "origin", "western"), "n_level"] == 0
    assert t.loc[("2", "origin", "danish"), "share"] == pytest.approx(1.0)


def test_published_profile_suppresses_small_cells_and_their_complements():
    df, g = _people()
    t = publish_profiles(profile_table(df, g, ["sex", "origin", "substance_abuse_treatment"]), 5)
    assert_publishable(t, 5)
    s = t.set_index(["group", "indicator", "level"])
    # group 3 has 30 // 5 = 6 in substance-abuse treatment (published) ...
    assert s.loc[("3", "substance_abuse_treatment", "yes"), "n_level"] == 6
    # ... and 10 of Western origin, 20 Danish (published); no one group-3 cell is 1..4
    small = t["n_level"].notna() & (t["n_level"] > 0) & (t["n_level"] < 5)
    assert not small.any()
    # a share whose count was suppressed is missing too
    assert t.loc[t["n_level"].isna(), "share"].isna().all()


def test_primary_suppression_then_secondary_within_the_line():
    df = pd.DataFrame({"x": ["a"] * 3 + ["b"] * 20 + ["c"] * 27})
    t = publish_profiles(profile_table(df, np.ones(50, dtype=int), ["x"]), 5)
    s = t.set_index(["group", "level"])["n_level"]
    assert pd.isna(s[("1", "a")]) and pd.isna(s[("all", "a")])  # 3 < 5
    # the levels of x partition n: one suppressed level would be recoverable -> a second one goes
    assert pd.isna(s[("1", "b")]) and pd.isna(s[("all", "b")])
    assert s[("1", "c")] == 27


def test_labels_name_the_distinctive_characteristics():
    df, g = _people()
    prof = profile_table(
        df, g, ["sex", "age_band", "origin", "education", "substance_abuse_treatment"]
    )
    lab = label_groups(prof).set_index("group")
    assert lab.loc["1", "label_da"] == "Kvinder, ikke-vestlig oprindelse, grundskole"
    assert lab.loc["1", "label_en"] == "Women, non-Western origin, basic schooling only"
    # group 2, score = share * log(lift): vocational 1 * log(1/0.30) = 1.20, substance abuse
    # 1 * log(1/0.36) = 1.02, aged 40+ 1 * log(1/0.40) = 0.92 (50+: 0.6 * log(0.6/0.18) = 0.72),
    # men 1 * log(1/0.45) = 0.80, Danish 1 * log(1/0.5) = 0.69 -> the first three, in label order
    assert lab.loc["2", "label_da"] == "40 år og derover, erhvervsuddannelse, misbrugsbehandling"
    assert lab.loc["2", "terms"].split(";")[0] == "education=vocational"
    # labels exist for every group and are unique
    assert len(lab) == 3 and lab["label_da"].is_unique and lab["label"].eq(lab["label_da"]).all()
    en = label_groups(prof, language="en").set_index("group")
    assert en.loc["1", "label"] == en.loc["1", "label_en"]


def test_label_fallback_and_uniqueness():
    df = pd.DataFrame({"sex": ["F", "M"] * 50})
    prof = profile_table(df, np.repeat([1, 2], 50), ["sex"])
    lab = label_groups(prof).set_index("group")
    # both groups look like the population: no term qualifies -> mixed profile, made unique
    assert lab.loc["1", "label_da"] == "Blandet profil (gruppe 1)"
    assert lab.loc["2", "label_en"] == "Mixed profile (group 2)"


def test_find_case_review_groups():
    df, g = _people()
    df["substance_abuse_treatment"] = df["substance_abuse_treatment"].astype(str)
    cr = find_case_review_groups(df, g).set_index("definition")
    assert cr.loc["non_western_women", "group"] == "1"
    assert cr.loc["non_western_women", "share_meeting"] == pytest.approx(1.0)
    assert cr.loc["danish_men_substance", "group"] == "2"
    # everyone meeting the definition: 30 in group 2, plus group-3 Danish men in treatment
    in_g3 = sum(1 for i in range(30) if i % 2 == 0 and i % 3 and i % 5 == 0)
    assert cr.loc["danish_men_substance", "share_of_definition"] == pytest.approx(30 / (30 + in_g3))
