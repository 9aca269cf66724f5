import pytest

from data_schema.mapping import MappingError, load_state_mapping
from pipelines.config import ConfigError, config_hash, load_config


def test_default_config_loads_and_hash_is_stable():
    a, b = load_config(), load_config()
    assert config_hash(a) == config_hash(b)
    assert a.spells.gap_rule == "calendar_month"
    assert a.disclosure.threshold == 5


def test_invalid_config_names_every_bad_key(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("spells:\n  gap_rule: monthly\ndisclosure:\n  threshold: 0\nbogus: 1\n")
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    msg = str(exc.value)
    assert str(p) in msg
    assert "spells.gap_rule" in msg and "disclosure.threshold" in msg and "bogus" in msg


def test_shipped_state_mapping_is_valid():
    m = load_state_mapping()
    assert m.state_codes[0] == "dead_or_emigrated"
    assert m.priority("fp") < m.priority("job") < m.priority("kh") < m.priority("self_support")
    assert m.code_to_state()["130"] == "kh"
    assert m.kh_codes() == {"130", "131", "132", "133"}


def test_state_mapping_errors_name_the_key(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text(
        "version: 1\nstates:\n  - {code: kh, label_da: a, label_en: a}\n  - {code: job, label_da: b, label_en: b, derived: true}\n"
        "  - {code: self_support, label_da: c, label_en: c, derived: true}\n"
        "kh_groups: [{code: kontanthjaelp, label_da: k, label_en: k}]\n"
        "codes:\n  130: {state: kh, kh_group: kontanthjaelp, label: KH}\n  200: {state: jobb, label: x}\n"
    )
    with pytest.raises(MappingError, match=r"codes\.200\.state: 'jobb' is not one of the states"):
        load_state_mapping(p)
