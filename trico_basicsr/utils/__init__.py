"""Utilities. Kept import-free: ``compat`` must run before anything imports ``basicsr``."""
