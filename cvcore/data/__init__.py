"""Data shipped with the package (trained models, small samples)."""
