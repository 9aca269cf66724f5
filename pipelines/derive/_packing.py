"""Several non-negative running counters in one 128-bit integer.

The sweep-line steps (day states, time-varying covariates) need running sums of many counters per
person. DuckDB evaluates each window expression separately (measured: eight running sums cost
6-7 times one), so the counters are packed into fixed-width bit fields of a HUGEINT: the packed
delta of counter ``i`` is ``delta * 2**(bits*i)``, one running sum carries all of them, and each
counter is read back with integer division and modulo. This is exact as long as every counter
stays within ``[0, 2**bits)``, which the callers guarantee by choosing ``bits``.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_BITS = 126  # HUGEINT is signed 128-bit; keep a margin
WORD_BITS = 62  # BIGINT is signed 64-bit; keep a margin


@dataclass(frozen=True)
class Packing:
    """Fixed-width fields for ``names`` in one HUGEINT."""

    names: tuple[str, ...]
    bits: int

    def __post_init__(self) -> None:
        if len(self.names) * self.bits > MAX_BITS:
            raise ValueError(f"{len(self.names)} fields of {self.bits} bits do not fit in 128 bits")

    def weight(self, name: str) -> str:
        """SQL HUGEINT literal of the field's unit."""
        return f"'{2 ** (self.bits * self.names.index(name))}'::HUGEINT"

    def delta(self, name_col: str, delta: str) -> str:
        """SQL: packed delta of a (name, delta) event; 0 for names outside the packing."""
        cases = " ".join(f"WHEN '{n}' THEN {self.weight(n)}" for n in self.names)
        return f"(({delta})::HUGEINT * CASE {name_col} {cases} ELSE 0::HUGEINT END)"

    def field(self, packed: str, name: str) -> str:
        """SQL: the counter ``name`` read back from the running sum ``packed`` (BIGINT)."""
        unit = 2 ** (self.bits * self.names.index(name))
        return f"((({packed}) // '{unit}'::HUGEINT) % {2**self.bits})::BIGINT"

    def words(self, packed: str, prefix: str) -> list[str]:
        """SQL select items ``<BIGINT> AS <prefix><k>``: the running sum ``packed`` cut into
        BIGINT words of whole fields, so that :meth:`word_field` reads a field with BIGINT
        arithmetic (HUGEINT division is slow when many fields are read per row)."""
        per = WORD_BITS // self.bits
        n = -(-len(self.names) // per)
        unit, size = 2 ** (self.bits * per), 2 ** (self.bits * per)
        return [
            f"((({packed}) // '{unit**k}'::HUGEINT) % '{size}'::HUGEINT)::BIGINT AS {prefix}{k}"
            for k in range(n)
        ]

    def word_field(self, prefix: str, name: str) -> str:
        """SQL: the counter ``name`` read from the words of :meth:`words` (same value as
        :meth:`field`)."""
        per = WORD_BITS // self.bits
        k, j = divmod(self.names.index(name), per)
        return f"(({prefix}{k} // {2 ** (self.bits * j)}) % {2**self.bits})"


def packings(names: list[str], bits: int) -> list[Packing]:
    """Split ``names`` into as many packings as needed."""
    per = MAX_BITS // bits
    return [Packing(tuple(names[i : i + per]), bits) for i in range(0, len(names), per)]
