"""The DuckDB engine leaves nothing behind: its own spill directory goes with it."""

import gc
from pathlib import Path

from pipelines.derive import Engine


def _spill_dir(eng: Engine) -> Path:
    return Path(eng.scalar("SELECT current_setting('temp_directory')"))


def test_own_spill_directory_is_removed_on_close():
    eng = Engine()
    tmp = _spill_dir(eng)
    assert tmp.is_dir()
    eng.close()
    assert not tmp.exists()


def test_own_spill_directory_is_removed_when_engine_is_dropped():
    eng = Engine()
    tmp = _spill_dir(eng)
    del eng
    gc.collect()
    assert not tmp.exists()


def test_given_spill_directory_is_kept(tmp_path):
    eng = Engine(temp_dir=tmp_path / "spill")
    assert _spill_dir(eng) == tmp_path / "spill"
    eng.close()
    assert (tmp_path / "spill").is_dir()
