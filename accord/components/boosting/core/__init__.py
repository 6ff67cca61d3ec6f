"""Pure-numpy pieces shared by the SecureBoost variants: objectives, split finding and trees."""
