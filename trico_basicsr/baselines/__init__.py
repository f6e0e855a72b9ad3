"""Non-learned baselines for the equal-budget benchmark (the learned ones are TriLevelModel configurations)."""
from .classical import bicubic_auto_exposure, lime_bicubic

__all__ = ['bicubic_auto_exposure', 'lime_bicubic']
