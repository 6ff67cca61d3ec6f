"""Data modules that reshape a party's rows before a model: union, splitting, weights, labels, columns."""
