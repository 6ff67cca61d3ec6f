"""SecureBoost: gradient-boosted trees over vertically (hetero) and horizontally (homo) split data."""
