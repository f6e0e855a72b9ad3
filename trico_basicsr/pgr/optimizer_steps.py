"""The optimiser's own next step as the unrolled step of a response (``train.pgr.response_step``).

A response asks how a level would move. Unrolling plain SGD at a fixed ``response_lr`` answers for an
optimiser the level does not use: training runs Adam, whose step is ``lr * m_hat / (sqrt(v_hat) + eps)``,
per-entry rescaled. Here the next step of the level's real optimiser, at its current learning rate, is
written as a :class:`~.response.StepRule` linear in the new gradient ``g``:

    Adam / AdamW:  theta' = theta - c - a * g,
                   a = lr (1 - beta1) / (1 - beta1^t) / (sqrt(v_hat) + eps)     (per entry)
                   c = lr beta1 m / (1 - beta1^t) / (sqrt(v_hat) + eps)          (earlier momentum)
    SGD:           a = lr,  c = lr * momentum * buffer

with ``t`` the step about to be taken and ``m`` the optimiser's first moment. ``v_hat`` is the
bias-corrected second moment *after* the update with this iteration's first-order gradient ``g0``
(``beta2 v + (1 - beta2) g0^2``), then held fixed: at ``g = g0`` the rule is exactly the step Adam
takes, and holding ``v`` keeps the derivative bounded where ``v`` was still near zero (there a held
old ``v`` would turn rounding noise into huge moves). Weight decay is left
out. Before the optimiser's first step there is no state to model, and AMSGrad, Nesterov and
``maximize`` take other steps: the rule is then None and the response falls back to SGD at
``response_lr``.
"""
import torch

from .response import StepRule


def _adam_rule(optimizer, params, grads):
    group = optimizer.param_groups[0]
    if group.get('amsgrad') or group.get('maximize'):
        return None  # another step than the one modelled here: fall back to SGD at response_lr
    lr, (beta1, beta2), eps = group['lr'], group['betas'], group['eps']
    gains, offsets = [], []
    for index, param in enumerate(params):
        state = optimizer.state.get(param)
        if not state or float(state['step']) < 1:
            return None
        taken = float(state['step'])
        bias1 = 1 - beta1**(taken + 1)
        second = state['exp_avg_sq']
        if grads is not None:
            second = beta2 * second + (1 - beta2) * grads[index].reshape(second.shape)**2
            denominator = (second / (1 - beta2**(taken + 1))).sqrt() + eps
        else:
            denominator = (second / (1 - beta2**taken)).sqrt() + eps
        gains.append(lr * (1 - beta1) / bias1 / denominator)
        offsets.append(lr * beta1 / bias1 * state['exp_avg'] / denominator)
    return StepRule(gains, offsets)


def _sgd_rule(optimizer, params, grads):
    group = optimizer.param_groups[0]
    if group.get('nesterov') or group.get('maximize'):
        return None
    lr, momentum = group['lr'], group.get('momentum', 0)
    if not momentum:
        return StepRule(float(lr))
    buffers = [optimizer.state.get(p, {}).get('momentum_buffer') for p in params]
    if any(b is None for b in buffers):
        return StepRule(float(lr))
    return StepRule(float(lr), [lr * momentum * b for b in buffers])


RULES = {torch.optim.Adam: _adam_rule, torch.optim.AdamW: _adam_rule, torch.optim.SGD: _sgd_rule}


def optimizer_step_rule(optimizer, params, grads=None):
    """The :class:`StepRule` of ``optimizer``'s next step for ``params`` (one parameter group), or None
    when it cannot be modelled yet (no state) or the optimiser is not Adam, AdamW or SGD.

    ``grads`` (list[Tensor] | None): this iteration's first-order gradient of ``params``; Adam's second
    moment is updated with it before it is held (see the module docstring).
    """
    if len(optimizer.param_groups) != 1:
        return None
    rule = RULES.get(type(optimizer))
    with torch.no_grad():
        return rule(optimizer, params, grads) if rule is not None else None
