"""The raw benefit code -> state mapping: loading and validation.

The mapping lives in an editable YAML file (``state_mapping.yaml`` beside this module is the
default). :func:`load_state_mapping` validates it with pydantic and returns an immutable
:class:`StateMapping`; any error names the key that is wrong.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

DEFAULT_MAPPING_PATH = Path(__file__).with_name("state_mapping.yaml")

StateCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
BenefitCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,8}$")]


class MappingError(ValueError):
    """The state mapping file is invalid; the message names the file and the offending key."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StateDef(_Frozen):
    code: StateCode
    label_da: str
    label_en: str
    absorbing: bool = False
    derived: bool = False


class KhGroupDef(_Frozen):
    code: StateCode
    label_da: str
    label_en: str


class CodeDef(_Frozen):
    state: StateCode
    label: str
    kh_group: StateCode | None = None


class StateMapping(_Frozen):
    """Validated mapping. ``states`` is in priority order (highest first)."""

    model_config = ConfigDict(frozen=True, extra="forbid", ignored_types=(cached_property,))

    version: int = Field(ge=1)
    states: tuple[StateDef, ...]
    kh_groups: tuple[KhGroupDef, ...]
    codes: dict[BenefitCode, CodeDef]

    @model_validator(mode="after")
    def _consistent(self) -> StateMapping:
        state_codes = [s.code for s in self.states]
        dupes = {c for c in state_codes if state_codes.count(c) > 1}
        if dupes:
            raise ValueError(f"states: listed more than once: {sorted(dupes)}")
        for required in ("kh", "job", "self_support"):
            if required not in state_codes:
                raise ValueError(f"states: the state '{required}' is required")
        derived = {s.code for s in self.states if s.derived}
        groups = {g.code for g in self.kh_groups}
        for code, d in self.codes.items():
            if d.state not in state_codes:
                raise ValueError(
                    f"codes.{code}.state: '{d.state}' is not one of the states {state_codes}"
                )
            if d.state in derived:
                raise ValueError(
                    f"codes.{code}.state: '{d.state}' is derived from other data and cannot have benefit codes"
                )
            if d.state == "kh" and d.kh_group not in groups:
                raise ValueError(
                    f"codes.{code}.kh_group: a kh code needs a kh_group from {sorted(groups)}, got {d.kh_group!r}"
                )
            if d.state != "kh" and d.kh_group is not None:
                raise ValueError(f"codes.{code}.kh_group: only kh codes have a kh_group")
        if not any(d.state == "kh" for d in self.codes.values()):
            raise ValueError("codes: no code maps to the kh state")
        return self

    # -- convenience views -------------------------------------------------------------------
    @property
    def state_codes(self) -> tuple[str, ...]:
        """State codes in priority order (highest first)."""
        return tuple(s.code for s in self.states)

    def priority(self, state: str) -> int:
        """Rank of ``state``: 0 is the highest priority."""
        return self.state_codes.index(state)

    def code_to_state(self) -> dict[str, str]:
        return {code: d.state for code, d in self.codes.items()}

    def kh_codes(self) -> frozenset[str]:
        return frozenset(code for code, d in self.codes.items() if d.state == "kh")

    def label(self, state: str, lang: str = "da") -> str:
        s = next(s for s in self.states if s.code == state)
        return s.label_da if lang == "da" else s.label_en


def load_state_mapping(path: str | Path | None = None) -> StateMapping:
    """Load and validate a state mapping YAML file (default: the shipped one).

    Raises
    ------
    MappingError
        With the file name and every offending key, when the file is missing, not YAML, or invalid.
    """
    path = Path(path) if path is not None else DEFAULT_MAPPING_PATH
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MappingError(f"{path}: state mapping file not found") from exc
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise MappingError(
            f"{path}: expected a mapping with keys version, states, kh_groups, codes"
        )
    # YAML turns unquoted codes like 130 into ints; codes are strings.
    if isinstance(raw.get("codes"), dict):
        raw["codes"] = {str(k): v for k, v in raw["codes"].items()}
    try:
        return StateMapping.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"  {loc}: {err['msg']}")
        raise MappingError(f"{path}: invalid state mapping:\n" + "\n".join(lines)) from exc
