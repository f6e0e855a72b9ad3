"""Non-learned baselines for the equal-budget benchmark (the learned ones are TriLevelModel configurations),
and the smallest learned one: bicubic + a regressed global exposure."""
from .classical import bicubic_auto_exposure, lime_bicubic
from .exposure_regression import ExposureRegression, fit_exposure_regression, regressed_exposure_bicubic

__all__ = ['bicubic_auto_exposure', 'lime_bicubic', 'ExposureRegression', 'fit_exposure_regression',
           'regressed_exposure_bicubic']
