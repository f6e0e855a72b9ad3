"""Gradient responses through unrolled lower-level steps -- the "gradient-response" part of PGR.

Variables come in named groups: ``Variables = dict[str, list[Tensor]]`` (e.g. ``'sr'`` -> theta_S,
``'illum'`` -> theta_I, ``'hyper'`` -> lambda). An objective is a function ``fn(variables) -> scalar``.

Unrolling ``inner`` for ``K`` steps on ``fn``, each linear in the gradient (a :class:`StepRule`:
plain gradient descent with step ``a``, or a model of the optimiser's next step with a per-entry gain
``a`` and a constant offset ``c``, e.g. Adam's preconditioned step, :mod:`.optimizer_steps`):

    theta^0 = theta,    theta^{k+1} = theta^k - c - a * grad_inner fn(theta^k, others),    k = 0 .. K-1.

For an outer objective ``F(theta^K, ...)`` the derivative w.r.t. other groups ``o`` through this
response is computed exactly by reverse accumulation (:func:`unroll_backward`):

    u_{K-1} = dF/dtheta^K
    dF/do  += -d/do ( grad_inner fn(theta^k) . (a * u_k) )          for k = K-1 .. 0
    u_{k-1} = u_k - Hess_inner fn(theta^k) (a * u_k)                 (only needed for k > 0)

The mixed second derivatives ``d/do (grad_inner fn . u)`` -- Hessian-vector products -- come from
double backward (exact) or from central finite differences of gradients,
``[grad_o fn(theta + h u) - grad_o fn(theta - h u)] / 2h`` with ``h = fd_epsilon / ||u||``.

An objective may bring its own gradients (a ``gradients(variables, wrt)`` method, e.g. an objective
seen through another level's response, :class:`trico_basicsr.pgr.algorithm.LowerResponse`); such
objectives are differentiated twice by finite differences whatever the mode.

Every gradient that leaves this module has passed through ``reduce`` (an all-rank average under
DDP), so all ranks follow the same iterates and get the same result as one rank with the whole batch.
"""
import torch

HVP_MODES = ('double_backward', 'finite_difference')


class StepRule:
    """One unrolled step ``theta - offset - gain * grad``, linear in the gradient.

    Args:
        gain (float | list[Tensor]): The step size, one number or one tensor per variable (a diagonal
            preconditioner times the learning rate).
        offset (list[Tensor] | None): A part of the step that does not depend on this gradient (e.g.
            Adam's momentum from earlier steps). It moves the point but carries no derivative.
    """

    def __init__(self, gain, offset=None):
        self.gain, self.offset = gain, offset

    def _gains(self, tensors):
        return self.gain if isinstance(self.gain, (list, tuple)) else [self.gain] * len(tensors)

    def __call__(self, theta, grad):
        out = [t - k * g for t, k, g in zip(theta, self._gains(theta), grad)]
        if self.offset is not None:
            out = [t - c for t, c in zip(out, self.offset)]
        return out

    def scale(self, tensors):
        """``gain * tensors``: the direction the step's derivative applies to an adjoint."""
        return [k * t for k, t in zip(self._gains(tensors), tensors)]


def as_step_rule(step):
    """A :class:`StepRule` from a rule or a plain step size (gradient descent)."""
    return step if isinstance(step, StepRule) else StepRule(float(step))


def identity(tensors):
    return tensors


def replace(variables, group, tensors):
    """A shallow copy of ``variables`` with ``group`` set to ``tensors``."""
    out = dict(variables)
    out[group] = list(tensors)
    return out


def flat_dot(first, second):
    """``sum_i <first_i, second_i>`` over two lists of like-shaped tensors, in float64."""
    return sum((a.double() * b.double()).sum() for a, b in zip(first, second))


def flat_norm(tensors):
    return torch.sqrt(flat_dot(tensors, tensors))


def gradients(fn, variables, wrt):
    """``{group: d fn / d group}`` for the groups in ``wrt`` (zeros where ``fn`` does not depend on them)."""
    if hasattr(fn, 'gradients'):
        return fn.gradients(variables, wrt)
    return value_and_gradients(fn, variables, wrt)[1]


def value_and_gradients(fn, variables, wrt):
    """``(fn(variables) detached, {group: d fn / d group})`` from one forward and one backward."""
    leaves = {name: [t.detach().requires_grad_(name in wrt) for t in tensors] for name, tensors in variables.items()}
    targets = [t for name in wrt for t in leaves[name]]
    value = fn(leaves)
    grads = torch.autograd.grad(value, targets, allow_unused=True) if value.requires_grad else [None] * len(targets)
    return value.detach(), regroup(grads, targets, wrt, leaves)


def regroup(flat, targets, wrt, leaves):
    """Flat gradients of ``targets`` (the leaves of the groups in ``wrt``, in order) as ``{group: [grad, ...]}``,
    detached, with zeros where a leaf got no gradient."""
    flat = [torch.zeros_like(t) if g is None else g.detach() for g, t in zip(flat, targets)]
    out, start = {}, 0
    for name in wrt:
        out[name] = flat[start:start + len(leaves[name])]
        start += len(leaves[name])
    return out


def mixed_second_derivative(fn, variables, along, direction, wrt, mode='finite_difference', fd_epsilon=1e-2):
    """``{o: d/do (grad_along fn . direction)}`` for each group ``o`` in ``wrt``.

    ``wrt`` may contain ``along`` itself, which gives the Hessian-vector product ``Hess_along fn . direction``.

    Args:
        fn (callable): Objective, ``fn(variables) -> scalar tensor``.
        variables (dict[str, list[Tensor]]): Point of evaluation.
        along (str): Group whose gradient is projected on ``direction``.
        direction (list[Tensor]): Same shapes as ``variables[along]``.
        wrt (list[str]): Groups to differentiate the projection by.
        mode (str): ``'double_backward'`` or ``'finite_difference'``.
        fd_epsilon (float): Norm of the finite-difference perturbation ``h * direction``.
    """
    if mode == 'double_backward' and not hasattr(fn, 'gradients'):
        leaves = {name: [t.detach().requires_grad_(name in wrt or name == along) for t in tensors]
                  for name, tensors in variables.items()}
        grads = torch.autograd.grad(fn(leaves), leaves[along], create_graph=True, allow_unused=True)
        dot = sum((g * d).sum() for g, d in zip(grads, direction) if g is not None)
        targets = [t for name in wrt for t in leaves[name]]
        flat = torch.autograd.grad(dot, targets, allow_unused=True) if torch.is_tensor(dot) and dot.requires_grad \
            else [None] * len(targets)
        return regroup(flat, targets, wrt, leaves)
    if mode not in HVP_MODES:
        raise ValueError(f"hvp mode '{mode}' is unknown; choose one of {HVP_MODES}")
    norm = float(flat_norm(direction))
    if norm == 0.0:
        return {name: [torch.zeros_like(t) for t in variables[name]] for name in wrt}
    h = fd_epsilon / norm
    base = variables[along]
    probe = [t + h * d for t, d in zip(base, direction)]
    check_probe_resolution(base, probe, direction, fd_epsilon, h, along)
    plus = gradients(fn, replace(variables, along, probe), wrt)
    minus = gradients(fn, replace(variables, along, [t - h * d for t, d in zip(base, direction)]), wrt)
    return {name: [(p - m) / (2 * h) for p, m in zip(plus[name], minus[name])] for name in wrt}


PROBE_ERROR_LIMIT = 0.01  # largest relative error of the realised perturbation theta + h*u - theta


def check_probe_resolution(base, probe, direction, fd_epsilon, h, group):
    """Raise ``ValueError`` when the finite-difference probe ``theta + h u`` is not the step it should be.

    A float32 weight of size 0.1 cannot move by less than about 4e-9: with a tiny ``fd_epsilon`` (or a
    huge ``||u||``) the perturbation actually applied, ``probe - theta``, differs from ``h u``, and the
    difference quotient -- which divides by ``h`` -- is rounding noise: a wrong hypergradient that looks
    like a number. Refused when ``||(probe - theta) - h u|| > 1% of ||h u||``.
    """
    error = torch.sqrt(sum((((p - t) - h * d).double()**2).sum() for t, p, d in zip(base, probe, direction)))
    relative = float(error) / (h * float(flat_norm(direction)))
    if relative > PROBE_ERROR_LIMIT:
        raise ValueError(
            f"train.pgr.fd_epsilon={fd_epsilon:g} is too small for {base[0].dtype} '{group}' variables: the "
            f'finite-difference probe theta + h*u (h = fd_epsilon/||u|| = {h:.3g}) rounds back to theta; the '
            f'perturbation it applies is {relative:.0%} off h*u, so the second derivatives would be rounding '
            'noise. Raise fd_epsilon (1e-3 to 1e-1 suit float32 weights) or use hvp: double_backward.')


def unroll(fn, variables, inner, step, num_steps, first_grad=None, reduce=identity):
    """Iterates ``[theta^0, ..., theta^K]`` of ``K`` steps of ``fn`` on group ``inner``.

    ``step`` is a step size or a :class:`StepRule`. ``first_grad`` (already reduced) may supply
    ``grad_inner fn(theta^0)`` when the caller has it.
    """
    rule = as_step_rule(step)
    iterates = [[t.detach() for t in variables[inner]]]
    for k in range(num_steps):
        if k == 0 and first_grad is not None:
            grad = first_grad
        else:
            grad = reduce(gradients(fn, replace(variables, inner, iterates[-1]), [inner])[inner])
        iterates.append(rule(iterates[-1], grad))
    return iterates


def unroll_backward(fn, variables, inner, iterates, adjoint, wrt, step, mode='finite_difference', fd_epsilon=1e-2,
                    reduce=identity):
    """Response part of ``dF/d(wrt)`` through the unrolled ``iterates`` of :func:`unroll`.

    Args:
        adjoint (list[Tensor]): ``dF/dtheta^K`` (reduced).
        wrt (list[str]): Groups (other than ``inner``) that ``fn`` depends on.
        step (float | StepRule): The step the iterates were made with.

    Returns:
        dict[str, list[Tensor]]: ``{o: sum_k -d/do(grad_inner fn(theta^k) . (gain * u_k))}`` -- add the
        direct partial ``dF/do`` to get the total derivative.
    """
    rule = as_step_rule(step)
    total = {name: [torch.zeros_like(t) for t in variables[name]] for name in wrt}
    u = list(adjoint)
    for k in reversed(range(len(iterates) - 1)):
        groups = list(wrt) + ([inner] if k > 0 else [])
        second = mixed_second_derivative(fn, replace(variables, inner, iterates[k]), inner, rule.scale(u), groups,
                                         mode, fd_epsilon)
        for name in groups:
            second[name] = reduce(second[name])
        for name in wrt:
            total[name] = [t - s for t, s in zip(total[name], second[name])]
        if k > 0:
            u = [a - s for a, s in zip(u, second[inner])]
    return total
