"""FATE's linear models beyond logistic regression: HeteroLinR, HeteroPoisson (and their neighbours).

HeteroLinR and HeteroPoisson run HeteroLR's guest/host/arbiter Paillier protocol (batches, optimizers,
penalties, early stopping, validation) with their own link: what the fore-gradient, the loss and the
prediction are (see :mod:`accord.components.linear.links`).
"""
