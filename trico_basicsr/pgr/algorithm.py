"""PGR -- Phased Gradient-Response: one training iteration of the three levels.

Levels (variable groups): lower ``'sr'`` (theta_S), middle ``'illum'`` (theta_I, optional), upper
``'hyper'`` (lambda). Objectives, each a function of all groups (see :mod:`.response`):

    g  -- ``lower``:  the SR task's weighted loss on the training batch;
    f  -- ``middle``: the illumination task's weighted loss on the training batch (it contains g as
          its coupling term, so it depends on theta_S);
    F  -- ``upper``:  a fixed fidelity loss on a held-out (upper-level) batch.

One iteration, all gradients taken at the current point (theta_S, theta_I, lambda):

1. first-order gradients ``grad_S g`` and ``grad_I f`` (one fused pass when the model provides it);
2. middle response (phase >= cooperative, every ``middle_interval`` iterations): theta_I's gradient
   becomes ``d/dtheta_I f(theta_I, theta_S^K(theta_I))`` through K unrolled lower steps;
3. hypergradient (phase trilevel, ``hyper_accumulate`` times per ``upper_interval`` iterations, averaged
   into one update of lambda per window): ``dF/dlambda`` of
   ``F(theta_S^K, theta_I^K)``, where ``theta_I^K`` unrolls K middle steps on ``f~`` -- the middle
   objective seen through the lower level's K-step response (:class:`LowerResponse`) -- and
   ``theta_S^K`` unrolls K lower steps *from* ``theta_I^K``. So lambda sees both levels' responses,
   the lower level's reaction to the middle level's move, and the middle level's own anticipation
   of the lower level (which is how the coupling weight gets its gradient);
4. updates, lower to upper: ``lower_steps`` lower steps (the first with the gradient of step 1),
   then the middle level, then lambda.

With ``hypergradient: gauss_newton`` step 3 is instead the one-backward estimate of CollaBA (the
authors' sibling BasicSR plugin): per network level, ``-(grad F . grad h) / ||grad h||^2 * d h/d lambda``
with ``h`` that level's objective, all at the current point (:meth:`PhasedGradientResponse.gauss_newton_hypergradient`).
"""
from dataclasses import dataclass
from typing import Callable, NamedTuple, Optional

from .distributed import average_across_ranks
from .levels import LOWER, MIDDLE, UPPER
from .response import flat_dot, gradients, replace, unroll, unroll_backward, value_and_gradients

PHASES = ('warmup', 'cooperative', 'trilevel')


class FirstOrder(NamedTuple):
    """What a fused first-order pass returns: unreduced ``{'sr': grad_S g, 'illum': grad_I f}`` and the
    level values it computed on the way (for logging; any dict, passed through untouched)."""
    grads: dict
    values: Optional[dict] = None


@dataclass
class Objectives:
    """The level objectives of one iteration, each ``fn(variables) -> scalar`` on this rank's data."""
    lower: Callable
    middle: Optional[Callable] = None
    upper: Optional[Callable] = None
    first_order: Optional[Callable] = None  # variables -> FirstOrder (or a plain grads dict)


class LowerResponse:
    """``f~(v) = f(v with theta_S := theta_S^K(v))``: an objective seen through K unrolled lower steps.

    Calling it evaluates ``f~``; :meth:`gradients` returns its *total* derivatives (direct partials
    at the response plus the response part from :func:`unroll_backward`), already rank-averaged.

    Args:
        outer (callable): The objective ``f``.
        lower (callable): The lower objective ``g`` whose steps are unrolled.
        step (float): Unrolled step size (alpha).
        num_steps (int): K.
        mode (str), fd_epsilon (float): Second-derivative settings (see :mod:`.response`).
        reduce (callable): Rank average.
        first_grad (list[Tensor] | None): ``grad_S g`` at the first point it is asked for, if known.
    """

    def __init__(self, outer, lower, step, num_steps, mode, fd_epsilon, reduce, first_grad=None):
        self.outer, self.lower, self.step, self.num_steps = outer, lower, step, num_steps
        self.mode, self.fd_epsilon, self.reduce, self._first_grad = mode, fd_epsilon, reduce, first_grad

    def _unroll(self, variables):
        first, self._first_grad = self._first_grad, None  # valid for the first call's point only
        return unroll(self.lower, variables, LOWER, self.step, self.num_steps, first, self.reduce)

    def __call__(self, variables):
        return self.outer(replace(variables, LOWER, self._unroll(variables)[-1]))

    def gradients(self, variables, wrt):
        iterates = self._unroll(variables)
        partial = gradients(self.outer, replace(variables, LOWER, iterates[-1]), list(wrt) + [LOWER])
        partial = {name: self.reduce(grads) for name, grads in partial.items()}
        others = [w for w in wrt if w != LOWER]
        response = unroll_backward(self.lower, variables, LOWER, iterates, partial[LOWER], others, self.step, self.mode,
                                   self.fd_epsilon, self.reduce)
        return {name: partial[name] if name == LOWER else [a + b for a, b in zip(partial[name], response[name])]
                for name in wrt}


class PhasedGradientResponse:
    """The PGR algorithm over variable groups, independent of networks and images.

    Args:
        cfg (CfgNode): Validated ``train.pgr`` options (:func:`load_pgr_config`).
        reduce (callable): Averages a list of gradients over ranks. Default: all-reduce average.
    """

    def __init__(self, cfg, reduce=average_across_ranks):
        self.cfg, self.reduce = cfg, reduce
        self._hyper_sum, self._hyper_count = None, 0  # hypergradients of the current T_U window

    def state_dict(self):
        """The hypergradients accumulated in the current window (``hyper_accumulate`` > 1), for exact resume."""
        return {'hyper_sum': None if self._hyper_sum is None else [t.detach().cpu() for t in self._hyper_sum],
                'hyper_count': self._hyper_count}

    def load_state_dict(self, state, device=None):
        total = state.get('hyper_sum')
        self._hyper_sum = None if total is None else [t.to(device) for t in total]
        self._hyper_count = int(state.get('hyper_count', 0))

    def _accumulate(self, grads):
        self._hyper_sum = [g.detach().clone() for g in grads] if self._hyper_sum is None else \
            [a + g.detach() for a, g in zip(self._hyper_sum, grads)]
        self._hyper_count += 1

    def _take_accumulated(self):
        mean = [t / self._hyper_count for t in self._hyper_sum]
        self._hyper_sum, self._hyper_count = None, 0
        return mean

    def phase(self, current_iter):
        """``'warmup'``, ``'cooperative'`` or ``'trilevel'`` at iteration ``current_iter`` (1-based)."""
        starts = self.cfg.phases
        if starts.trilevel_start is not None and current_iter >= starts.trilevel_start:
            return 'trilevel'
        if starts.cooperative_start is not None and current_iter >= starts.cooperative_start:
            return 'cooperative'
        return 'warmup'

    def _trains(self, level, variables):
        return level in self.cfg.train_levels and level in variables

    def first_order(self, variables, objectives):
        """``FirstOrder``: reduced ``{'sr': grad_S g, 'illum': grad_I f}`` at ``variables``, and the
        values the fused pass reported (None without a fused pass)."""
        values = None
        if objectives.first_order is not None:
            local = objectives.first_order(variables)
            if isinstance(local, FirstOrder):
                local, values = local
        else:
            local = {LOWER: gradients(objectives.lower, variables, [LOWER])[LOWER]}
            if objectives.middle is not None and MIDDLE in variables:
                local[MIDDLE] = gradients(objectives.middle, variables, [MIDDLE])[MIDDLE]
        return FirstOrder({name: self.reduce(grads) for name, grads in local.items()}, values)

    def step_rule(self, level, steps=None):
        """The unrolled step of ``level``: ``steps[level]`` (the optimiser's, :mod:`.optimizer_steps`) when
        given, else gradient descent at ``response_lr``."""
        if steps is not None and steps.get(level) is not None:
            return steps[level]
        return self.cfg.response_lr[level]

    def seen_through_lower(self, objectives, variables, first_grad=None, steps=None):
        """The middle objective as the middle level sees it: through the lower response when L trains."""
        if not self._trains(LOWER, variables):
            return objectives.middle
        cfg = self.cfg
        return LowerResponse(objectives.middle, objectives.lower, self.step_rule(LOWER, steps), cfg.unroll_steps,
                             cfg.hvp, cfg.fd_epsilon, self.reduce, first_grad)

    def middle_response(self, variables, objectives, lower_grad, steps=None):
        """``d/dtheta_I f(theta_I, theta_S^K(theta_I))``: direct part at the lower response + response part."""
        return self.seen_through_lower(objectives, variables, lower_grad, steps).gradients(variables,
                                                                                           [MIDDLE])[MIDDLE]

    def hypergradient(self, variables, objectives, first, middle_grad=None, steps=None):
        """``(dF/dlambda, F)`` through the unrolled middle response and the lower response that follows it.

        ``F`` is this rank's upper objective at the end of the responses (detached, for logging).
        ``middle_grad`` is the response-aware middle gradient at the current point, if already computed.
        ``steps`` (``{level: StepRule}``) are the levels' unrolled steps (see :meth:`step_rule`).
        """
        cfg = self.cfg
        alpha, beta = self.step_rule(LOWER, steps), self.step_rule(MIDDLE, steps)
        mode, eps = cfg.hvp, cfg.fd_epsilon
        middle_moves = self._trains(MIDDLE, variables) and objectives.middle is not None
        lower_steps = cfg.unroll_steps if self._trains(LOWER, variables) else 0
        middle_steps = cfg.unroll_steps if middle_moves else 0
        middle = self.seen_through_lower(objectives, variables, steps=steps) if middle_moves else None

        at_illum, it_illum = variables, None
        if middle_moves:
            it_illum = unroll(middle, variables, MIDDLE, beta, middle_steps, middle_grad, self.reduce)
            at_illum = replace(variables, MIDDLE, it_illum[-1])
        it_sr = unroll(objectives.lower, at_illum, LOWER, alpha, lower_steps, None if middle_moves else first[LOWER],
                       self.reduce)
        end = replace(at_illum, LOWER, it_sr[-1])
        outer_groups = [LOWER] + ([MIDDLE] if MIDDLE in variables else [])
        upper_value, adjoint = value_and_gradients(objectives.upper, end, outer_groups)
        adjoint = {name: self.reduce(grads) for name, grads in adjoint.items()}

        wrt = [UPPER] + ([MIDDLE] if middle_moves else [])
        back_sr = unroll_backward(objectives.lower, at_illum, LOWER, it_sr, adjoint[LOWER], wrt, alpha, mode, eps,
                                  self.reduce)
        hyper = back_sr[UPPER]
        if middle_moves:
            adjoint_illum = [a + b for a, b in zip(adjoint[MIDDLE], back_sr[MIDDLE])]
            back_illum = unroll_backward(middle, variables, MIDDLE, it_illum, adjoint_illum, [UPPER], beta, mode,
                                         eps, self.reduce)
            hyper = [a + b for a, b in zip(hyper, back_illum[UPPER])]
        return hyper, upper_value

    def gauss_newton_hypergradient(self, variables, objectives, first):
        """``(dF/dlambda, F)`` by CollaBA's one-backward Gauss-Newton estimate, at the current point.

        For a level ``h`` (g for the SR net, f for the illumination net) with parameters theta, the
        implicit hypergradient ``-d2h/dlambda dtheta . Hess_theta(h)^-1 . grad_theta F`` with the rank-one
        Gauss-Newton model of both second derivatives (``h = r^2 / 2``: ``Hess ~ grad h grad h^T / 2h``,
        ``d2h/dlambda dtheta ~ dh/dlambda grad h^T / 2h``) collapses to

            -(grad_theta F . grad_theta h) / ||grad_theta h||^2 * dh/dlambda,

        summed over the trained network levels. Cost: one forward and backward of F on the upper batch
        and one forward of each level's objective (differentiated to lambda only); ``grad_theta h`` is
        this iteration's first-order gradient. No unroll, no second derivatives, no response: it sees
        only whether the level's descent direction currently helps F, which is why it is cheap.
        """
        levels = [(LOWER, objectives.lower), (MIDDLE, objectives.middle)]
        levels = [(level, fn) for level, fn in levels
                  if fn is not None and self._trains(level, variables) and level in first]
        upper_value, adjoint = value_and_gradients(objectives.upper, variables, [level for level, _ in levels])
        coefficients = {}
        for level, _ in levels:
            upper_grad = self.reduce(adjoint[level])
            norm_sq = float(flat_dot(first[level], first[level]))
            # A level at a stationary point has no descent direction to judge: it contributes nothing.
            coefficients[level] = -float(flat_dot(upper_grad, first[level])) / norm_sq if norm_sq > 0 else 0.0

        def weighted(v):
            return sum(coefficients[level] * fn(v) for level, fn in levels)

        hyper = self.reduce(gradients(weighted, variables, [UPPER])[UPPER])
        return hyper, upper_value

    def upper_step_due(self, current_iter, variables):
        """Whether iteration ``current_iter`` updates lambda (every ``upper_interval`` in the tri-level phase)."""
        return (self._trains(UPPER, variables) and self.phase(current_iter) == 'trilevel'
                and current_iter % self.cfg.upper_interval == 0)

    def hypergradient_due(self, current_iter, variables):
        """Whether iteration ``current_iter`` computes a hypergradient (so its objectives need an upper batch):
        ``hyper_accumulate`` times per ``upper_interval`` window, the last one at the update."""
        spacing = self.cfg.upper_interval // self.cfg.hyper_accumulate
        return (self._trains(UPPER, variables) and self.phase(current_iter) == 'trilevel'
                and current_iter % spacing == 0)

    def iteration(self, current_iter, variables, objectives, apply, steps=None):
        """Run one PGR iteration.

        Args:
            current_iter (int): 1-based iteration.
            variables (dict[str, list[Tensor]]): The *live* parameters of each group (updated in place by ``apply``).
            objectives (Objectives): This iteration's objectives.
            apply (callable): ``apply(group, grads)`` takes one optimizer step of ``group`` with ``grads``.
            steps (dict | callable | None): ``{level: StepRule}``, the unrolled steps (default: SGD at
                ``response_lr``), or ``steps(first_order_grads)`` returning it, called only when a
                response is computed.

        Returns:
            dict: ``phase`` (index in PHASES), ``middle_response`` and ``hypergradient`` (1.0 if computed;
            lambda moves at the ``upper_interval`` iterations, by the mean of the window's hypergradients),
            ``values`` (what the fused first-order pass reported, or None) and ``upper_value`` (F when
            the hypergradient was computed, else None).
        """
        cfg = self.cfg
        phase = self.phase(current_iter)
        first, values = self.first_order(variables, objectives)
        updates, upper_value = {}, None
        if self._trains(LOWER, variables):
            updates[LOWER] = first[LOWER]
        responded = False
        if self._trains(MIDDLE, variables):
            responded = (phase != 'warmup' and self._trains(LOWER, variables)
                         and current_iter % cfg.middle_interval == 0)
        hyper_step = self.hypergradient_due(current_iter, variables) and objectives.upper is not None
        unrolls = responded or (hyper_step and cfg.hypergradient == 'response')
        if callable(steps) and unrolls:
            steps = steps(first)
        if self._trains(MIDDLE, variables):
            updates[MIDDLE] = self.middle_response(variables, objectives, first[LOWER], steps) if responded \
                else first[MIDDLE]
        if hyper_step:
            if cfg.hypergradient == 'gauss_newton':
                hyper, upper_value = self.gauss_newton_hypergradient(variables, objectives, first)
            else:
                hyper, upper_value = self.hypergradient(variables, objectives, first,
                                                        updates[MIDDLE] if responded else None, steps)
            self._accumulate(hyper)
        if self._hyper_count and self.upper_step_due(current_iter, variables):
            updates[UPPER] = self._take_accumulated()  # the mean over the window

        if LOWER in updates:
            apply(LOWER, updates[LOWER])
            for _ in range(cfg.lower_steps - 1):
                apply(LOWER, self.reduce(gradients(objectives.lower, variables, [LOWER])[LOWER]))
        for group in (MIDDLE, UPPER):
            if group in updates:
                apply(group, updates[group])
        return {'phase': float(PHASES.index(phase)), 'middle_response': float(responded),
                'hypergradient': float(hyper_step), 'values': values, 'upper_value': upper_value}
