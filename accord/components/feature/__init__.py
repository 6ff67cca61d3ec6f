"""Feature engineering modules (binning, selection, statistics, imputation, encoding, PSI).

Shared protocol pieces live once here: :mod:`accord.components.feature.binning` holds the split
points, WOE/IV and optimal merging every binning module (and SecureBoost) reuses.
"""
