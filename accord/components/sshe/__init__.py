"""FATE's SSHE linear models: secret-shared weights, Paillier share products, guest and one host."""

from accord.components.sshe.component import HeteroSSHELinR, HeteroSSHELR

__all__ = ["HeteroSSHELR", "HeteroSSHELinR"]
