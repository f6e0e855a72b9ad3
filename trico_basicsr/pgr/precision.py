"""Mixed precision for the first-order pass: autocast settings and a dynamic loss scale.

Only the fused first-order pass (the plain training step) runs in reduced precision. Responses and
hypergradients stay in float32: they are differences of gradients at points ``h = fd_epsilon / ||u||``
apart, and a bfloat16 gradient (8 significant bits) would turn them into rounding noise.

Options (``train.amp``)::

    amp: {dtype: bfloat16}                    # or float16 (with a dynamic loss scale), or ~ (off)
    amp: {dtype: float16, init_scale: 4096, growth_interval: 1000}
"""
from contextlib import nullcontext
from dataclasses import dataclass, field

import torch

DTYPES = {'bfloat16': torch.bfloat16, 'float16': torch.float16}


@dataclass
class LossScale:
    """Dynamic loss scale for float16: halve on a non-finite gradient, double after ``growth_interval``
    finite iterations in a row (the policy of ``torch.amp.GradScaler``; the non-finite update itself
    is skipped by TriLevelModel's guard)."""
    value: float = 4096.0
    growth_interval: int = 1000
    finite_streak: int = 0

    def update(self, finite):
        if not finite:
            self.value, self.finite_streak = max(self.value / 2, 1.0), 0
            return
        self.finite_streak += 1
        if self.finite_streak >= self.growth_interval:
            self.value, self.finite_streak = self.value * 2, 0

    def state_dict(self):
        return {'value': self.value, 'finite_streak': self.finite_streak}

    def load_state_dict(self, state):
        self.value, self.finite_streak = float(state['value']), int(state['finite_streak'])


@dataclass
class Precision:
    """How the first-order pass runs: ``dtype`` None (float32), bfloat16 or float16 (with ``scale``)."""
    dtype: object = None
    scale: LossScale = field(default_factory=LossScale)

    @classmethod
    def from_options(cls, options, where='train.amp'):
        """From the ``train.amp`` block (None or ``{dtype, init_scale, growth_interval}``)."""
        options = dict(options or {})
        unknown = sorted(set(options) - {'dtype', 'init_scale', 'growth_interval'})
        if unknown:
            raise KeyError(f"{where}: unknown option(s) {', '.join(unknown)}; valid: dtype, init_scale, "
                           'growth_interval')
        name = options.get('dtype')
        if name in (None, 'none', 'float32'):
            return cls()
        if name not in DTYPES:
            raise ValueError(f"{where}.dtype: '{name}' is not one of {', '.join(DTYPES)} (or ~ for float32)")
        scale = LossScale(float(options.get('init_scale', 4096.0)), int(options.get('growth_interval', 1000)))
        if scale.value <= 0 or scale.growth_interval < 1:
            raise ValueError(f'{where}: init_scale must be > 0 and growth_interval >= 1')
        return cls(DTYPES[name], scale)

    @property
    def enabled(self):
        return self.dtype is not None

    @property
    def scaled(self):
        """Whether the loss is scaled (float16): the scale then adapts and is logged."""
        return self.dtype is torch.float16

    @property
    def loss_scale(self):
        """The factor the first-order loss is multiplied by before backward (1 unless float16)."""
        return self.scale.value if self.scaled else 1.0

    def autocast(self, device):
        """The autocast context for a forward pass on ``device`` (a no-op for float32)."""
        if not self.enabled:
            return nullcontext()
        return torch.autocast(device_type=torch.device(device).type, dtype=self.dtype)
