"""HeteroPearson's parameters: the names, defaults and checks of FATE 1.11's PearsonParam.

``fixpoint_bit_length`` is not a PearsonParam field, but FATE's own pearson and selection examples pass
it (FATE's SPDZ fixed-point field). Accord computes the cross-party block under Paillier instead of
SPDZ, so the value is run as the bit length of the Paillier modulus the guest generates (default
1024): it bounds the fixed-point products the same way the SPDZ field did.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt, StrictStr, model_validator

from accord.crypto.keys import DEFAULT_KEY_LENGTH, MIN_KEY_LENGTH


class PearsonParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    column_names: list[StrictStr] | None = None
    column_indexes: StrictInt | list[StrictInt] | None = None
    cross_parties: StrictBool = True
    need_run: StrictBool = True
    use_mix_rand: StrictBool = False
    calc_local_vif: StrictBool = True
    fixpoint_bit_length: StrictInt = DEFAULT_KEY_LENGTH

    @model_validator(mode="after")
    def _check(self) -> PearsonParam:
        # FATE turns a missing list into an empty one.
        if self.column_names is None:
            self.column_names = []
        if self.column_indexes is None:
            self.column_indexes = []
        if self.cross_parties and not self.need_run:
            raise ValueError("need_run should be True (the default) when cross_parties is True")
        if isinstance(self.column_indexes, int) and self.column_indexes != -1:
            raise ValueError(
                f"column_indexes is an int {self.column_indexes}: only -1 (every column) is allowed, "
                "else give a list of indexes"
            )
        if self.column_indexes == -1 and self.column_names:
            raise ValueError("give column_names or column_indexes -1, not both: the choice is ambiguous")
        if self.need_run and self.column_indexes == [] and not self.column_names:
            raise ValueError("provide at least one column: column_indexes (-1 for all) or column_names")
        bits = self.fixpoint_bit_length
        if bits < MIN_KEY_LENGTH or bits % 2:
            raise ValueError(
                f"fixpoint_bit_length {bits}: Accord runs it as the Paillier key length, an even number "
                f"of bits of at least {MIN_KEY_LENGTH} (1024 is the default)"
            )
        return self

    def chosen(self, header: tuple[str, ...] | list[str]) -> list[int]:
        """The columns to correlate, in header order (FATE sorts the union of indexes and names)."""
        if self.column_indexes == -1:
            return list(range(len(header)))
        position = {name: index for index, name in enumerate(header)}
        missing = [name for name in self.column_names or [] if name not in position]
        if missing:
            raise ValueError(f"column_names {missing[:10]} are not in this party's header")
        indexes = self.column_indexes if isinstance(self.column_indexes, list) else []
        beyond = [index for index in indexes if not 0 <= index < len(header)]
        if beyond:
            raise ValueError(f"column_indexes {beyond[:10]} are beyond this party's {len(header)} columns")
        return sorted({*indexes, *(position[name] for name in self.column_names or [])})
