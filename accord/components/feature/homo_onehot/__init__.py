"""HomoOneHotEncoder: OneHotEncoder over clients that share a header, aligned through the arbiter."""

from accord.components.feature.homo_onehot.component import HomoOneHotEncoder

__all__ = ["HomoOneHotEncoder"]
