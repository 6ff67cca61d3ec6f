"""HomoOneHotEncoder's parameters: FATE 1.11's HomoOneHotParam.

OneHotEncoderParam's names, defaults and checks, plus ``need_alignment`` (default true): whether the
clients encode with the union of their values (through the arbiter) or each with its own.
"""

from __future__ import annotations

from pydantic import StrictBool

from accord.components.feature.onehot.params import OneHotEncoderParam


class HomoOneHotParam(OneHotEncoderParam):
    need_alignment: StrictBool = True
