import trico_basicsr  # noqa: F401  (apply the compat fixes before any basicsr import)
