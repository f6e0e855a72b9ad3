"""The upper level's variables: learned, positive, normalised weights of each level's loss terms, and
optionally continuous parameters of the training data (e.g. the darkening's, used as they are)."""
import math

import torch
from torch import nn

PARAMETRIZATIONS = ('softmax', 'softplus')
DARKENING = 'darkening'  # the group of continuous data parameters (trico_basicsr/data/differentiable_darkening.py)


class HyperVariables(nn.Module):
    """One logit vector ``lambda_level`` per level; weights ``w = n * normalise(map(lambda))``.

    ``softmax``:  ``w = n * softmax(lambda)``.
    ``softplus``: ``w = n * softplus(lambda) / sum(softplus(lambda))``.
    Either way every weight is positive and a level's weights average to 1, so the upper level only
    redistributes the options' hand-set ``loss_weight`` budget across terms. Logits start so that all
    weights are 1 (the hand-set weights).

    ``continuous`` adds one more group, ``'darkening'``: named real numbers used as they are (no
    normalisation), starting at the given values -- parameters of the lower levels' synthetic data.

    Args:
        terms (dict[str, list[str]]): Level name -> its term names, in order.
        parametrization (str): ``'softmax'`` or ``'softplus'``. Default: ``'softmax'``.
        continuous (dict[str, float] | None): Parameter name -> initial value. Default: None.
    """

    def __init__(self, terms, parametrization='softmax', continuous=None):
        super().__init__()
        if parametrization not in PARAMETRIZATIONS:
            raise ValueError(f"parametrization '{parametrization}' is unknown; choose one of {PARAMETRIZATIONS}")
        self.terms = {level: list(names) for level, names in terms.items()}
        self.parametrization = parametrization
        start = 0.0 if parametrization == 'softmax' else math.log(math.e - 1.0)  # softplus(start) = 1
        self.logits = nn.ParameterDict(
            {level: nn.Parameter(torch.full((len(names),), start)) for level, names in self.terms.items()})
        if continuous:
            if DARKENING in self.terms:
                raise ValueError(f"'{DARKENING}' is the continuous group's name; no loss level may use it")
            self.terms[DARKENING] = list(continuous)
            self.logits[DARKENING] = nn.Parameter(torch.tensor([float(v) for v in continuous.values()]))

    @property
    def levels(self):
        return list(self.terms)

    def logit_list(self):
        """The logit tensors in level order (the ``'hyper'`` variable group of PGR)."""
        return [self.logits[level] for level in self.terms]

    def weights(self, level, logits):
        """Positive weights (n,) with mean 1 from a level's logits ``logits`` (n,); the continuous group's
        values as they are."""
        if level == DARKENING:
            return logits
        n = logits.numel()
        if self.parametrization == 'softmax':
            return n * torch.softmax(logits, dim=0)
        positive = nn.functional.softplus(logits)
        return n * positive / positive.sum()

    def weights_from(self, logit_list):
        """``{level: weights}`` from a list of logit tensors in level order."""
        return {level: self.weights(level, logits) for level, logits in zip(self.terms, logit_list)}

    def named_weights(self):
        """``{'<level>_<term>': weight}`` as Python floats, for logs and plots."""
        with torch.no_grad():
            weights = self.weights_from(self.logit_list())
        return {f'{level}_{name}': float(w)
                for level in self.terms for name, w in zip(self.terms[level], weights[level])}
