"""OneHotEncoder: each party's integer-valued or text columns as one 0/1 column per value seen in training."""

from accord.components.feature.onehot.component import OneHotEncoder

__all__ = ["OneHotEncoder"]
