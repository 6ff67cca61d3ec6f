"""Scorecard: credit scores from a model's predicted probabilities (FATE 1.11's Scorecard)."""

from accord.components.data.scorecard.component import Scorecard

__all__ = ["Scorecard"]
