"""Union: several tables of a party combined into one (FATE 1.11's Union)."""

from accord.components.data.union.component import Union

__all__ = ["Union"]
