"""PGR (Phased Gradient-Response): TriCo's tri-level algorithm, free of networks.

Levels, in the paper's terms and in the code's: lower = ``sr`` (the super-resolution network, its
objective ``g``), middle = ``illum`` (the illumination network, ``f``), upper = ``hyper`` (the
hyper-variables lambda, ``F``). See docs/pgr.md for the equations.
"""
from .algorithm import PHASES, LowerResponse, Objectives, PhasedGradientResponse
from .config import load_pgr_config, to_dict
from .distributed import average_across_ranks, broadcast_from_rank0, world_size
from .hyper import PARAMETRIZATIONS, HyperVariables
from .levels import LEVELS, LOWER, MIDDLE, UPPER, VOCABULARY
from .precision import LossScale, Precision
from .response import HVP_MODES, mixed_second_derivative, unroll, unroll_backward
from .terms import LossTerms

__all__ = ['PHASES', 'LEVELS', 'LOWER', 'MIDDLE', 'UPPER', 'VOCABULARY', 'PARAMETRIZATIONS', 'HVP_MODES',
           'Objectives', 'LowerResponse', 'PhasedGradientResponse', 'HyperVariables', 'LossTerms', 'load_pgr_config',
           'to_dict', 'mixed_second_derivative', 'unroll', 'unroll_backward', 'average_across_ranks',
           'broadcast_from_rank0', 'world_size', 'Precision', 'LossScale']
