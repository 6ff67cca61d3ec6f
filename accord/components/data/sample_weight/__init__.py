"""SampleWeight: per-row weights from class weights or a feature column (FATE 1.11's SampleWeight)."""

from accord.components.data.sample_weight.component import SampleWeight

__all__ = ["SampleWeight"]
