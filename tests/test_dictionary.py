from data_schema.dictionary import DICTIONARY_PATH, render


def test_committed_data_dictionary_matches_the_models():
    assert DICTIONARY_PATH.read_text(encoding="utf-8") == render(), (
        "data_schema/DATA_DICTIONARY.md is out of date: run python -m data_schema.dictionary"
    )


def test_dictionary_lists_every_table_and_rule():
    text = render()
    for name in (
        "persons",
        "benefit_spells",
        "weekly_benefit_codes",
        "exemptions",
        "municipalities",
    ):
        assert f"### `{name}`" in text
    assert "overlaps an earlier case with the same benefit_code for this person" in text
    assert "| `130` | `kh` | kontanthjaelp | Kontanthjælp |" in text
