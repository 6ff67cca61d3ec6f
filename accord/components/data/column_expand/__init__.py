"""ColumnExpand: new columns with fixed values appended to each party's raw rows, before DataTransform."""

from accord.components.data.column_expand.component import ColumnExpand

__all__ = ["ColumnExpand"]
