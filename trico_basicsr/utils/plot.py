"""Plots of training state."""
import os
from os import path as osp


def plot_hyper_trajectories(history, out_path, title='loss-term weights', current_iter=None):
    """Plot each hyper-variable (loss-term weight, darkening parameter) against the iteration and save a PNG.

    Weights only change at upper-level updates, so each curve is a step function, held until
    ``current_iter``.

    Args:
        history (list[tuple[int, dict[str, float]]]): ``(iteration, {'<level>_<term>': weight})`` records.
        out_path (str): PNG file to write (folders are created).
        title (str): Figure title.
        current_iter (int | None): Iteration the last value is held until. Default: the last record's.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    if current_iter is not None and history and current_iter > history[-1][0]:
        history = list(history) + [(current_iter, history[-1][1])]
    iters = [it for it, _ in history]
    names = list(history[0][1]) if history else []
    levels = sorted({name.split('_', 1)[0] for name in names})
    fig, axes = plt.subplots(1, max(len(levels), 1), figsize=(5.5 * max(len(levels), 1), 3.6), squeeze=False)
    for ax, level in zip(axes[0], levels):
        for name in (n for n in names if n.startswith(level + '_')):
            ax.plot(iters, [w[name] for _, w in history], drawstyle='steps-post', label=name.split('_', 1)[1])
        ax.set_title('darkening parameters' if level == 'darkening' else f'{level} level')
        ax.set_xlabel('iteration')
        # the darkening parameters are log or logit values, not weights (data/differentiable_darkening.py)
        ax.set_ylabel('value (log or logit units)' if level == 'darkening' else 'weight (mean 1)')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out_path)), exist_ok=True)
    fig.savefig(out_path, dpi=100)
    plt.close(fig)
