"""The shared binning core: split points (:mod:`splits`), WOE / IV (:mod:`woe`), block-table passes
(:mod:`blocks`) and optimal merging (:mod:`optimal`), reused by every binning module."""
