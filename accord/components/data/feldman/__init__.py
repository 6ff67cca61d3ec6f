"""FeldmanVerifiableSum: per-row sums of the parties' columns by verifiable secret sharing (FATE 1.11)."""

from accord.components.data.feldman.component import FeldmanVerifiableSum

__all__ = ["FeldmanVerifiableSum"]
