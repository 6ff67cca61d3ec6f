"""FATE's stepwise feature selection for the hetero linear models (HeteroLR, HeteroLinR, HeteroPoisson)."""
