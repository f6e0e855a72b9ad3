"""Average the weights of several checkpoints of one network (a "model soup").

    python scripts/average_checkpoints.py --model weights/trico_light_x4.pth \
        --model weights/trico_light_night_x4.pth --out soup.pth [--weights 0.7 0.3]

Fine-tunes of one pretrained network usually stay in one basin of the loss, so the mean of their
weights is a network of its own, often better on data none of them was tuned for than each of them
(Wortsman et al., "Model soups", ICML 2022). Runs trained from different starts are not expected to
average well: score every soup before using it (``benchmarks/generalisation.py``).

Each input is a BasicSR checkpoint holding ``params_ema`` and/or ``params`` (TriLevelModel's, or
``scripts/export_checkpoints.py``'s). The output holds ``params_ema`` (inference reads it first) and
the first input's ``network_g`` and ``scale``: every input must have the same network options, the same
state-dict keys and the same shapes, or it stops naming the file (``--allow-different-options``
relaxes the first: e.g. a learned and a fixed prior exponent). Floating-point tensors are averaged
with the given weights (normalised to sum to 1); integer buffers (batch-norm counters) come from the
first input. The write is atomic, and ``--out`` may not be one of the inputs.
"""
import argparse
from os import path as osp


def average_state_dicts(states, weights=None, names=None):
    """Weighted mean of state dicts with identical keys and shapes.

    Args:
        states (list[dict[str, Tensor]]): at least one state dict.
        weights (list[float] | None): one non-negative weight per state dict, not all zero; None gives
            equal weights. They are normalised to sum to 1.
        names (list[str] | None): names for error messages (file paths); defaults to the indices.

    Returns:
        dict[str, Tensor]: float tensors averaged (in float64, cast back to their dtype); other tensors
        copied from the first state dict.
    """
    if not states:
        raise ValueError('no state dicts to average')
    names = names or [f'state dict {i}' for i in range(len(states))]
    weights = [1.0] * len(states) if weights is None else [float(w) for w in weights]
    if len(weights) != len(states):
        raise ValueError(f'{len(weights)} weights for {len(states)} checkpoints')
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f'weights must be non-negative and not all zero, got {weights}')
    total = sum(weights)
    first = states[0]
    for state, name in zip(states[1:], names[1:]):
        if set(state) != set(first):
            diff = sorted(set(state) ^ set(first))
            raise KeyError(f'{name}: keys differ from {names[0]}: {diff[:5]}')
        for key, tensor in state.items():
            if tensor.shape != first[key].shape:
                raise ValueError(f'{name}: {key} has shape {tuple(tensor.shape)}, '
                                 f'{names[0]} has {tuple(first[key].shape)}')
    out = {}
    for key, tensor in first.items():
        if not tensor.is_floating_point():
            out[key] = tensor.clone()
            continue
        mean = sum(state[key].double() * (w / total) for state, w in zip(states, weights))
        out[key] = mean.to(tensor.dtype)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--model', action='append', required=True,
                        help='a checkpoint to average (give it once per checkpoint)')
    parser.add_argument('--weights', type=float, nargs='+', help='one weight per --model (default: equal)')
    parser.add_argument('--out', required=True, help='the averaged checkpoint to write')
    parser.add_argument('--allow-different-options', action='store_true',
                        help="average checkpoints whose network options differ (keys and shapes must still "
                             "match); the output takes the first input's options")
    args = parser.parse_args(argv)

    from trico_basicsr.utils.atomic import atomic_torch_save
    from trico_basicsr.utils.inference import checkpoint_state_dict, load_weights_only
    if any(osp.abspath(args.out) == osp.abspath(m) for m in args.model):
        parser.error('--out must differ from every --model (an input is never overwritten)')
    checkpoints = []
    for path in args.model:
        if not osp.isfile(path):
            parser.error(f'--model {path}: no such file')
        try:
            checkpoints.append(load_weights_only(path))
        except ValueError as err:
            raise SystemExit(f'error: {err}')
    network_g = checkpoints[0].get('network_g')
    for path, checkpoint in zip(args.model[1:], checkpoints[1:]):
        if checkpoint.get('network_g') != network_g and not args.allow_different_options:
            raise SystemExit(f'error: {path}: network options differ from {args.model[0]}\'s')
    try:
        states = [checkpoint_state_dict(c, p) for c, p in zip(checkpoints, args.model)]
        averaged = average_state_dicts(states, args.weights, args.model)
    except (KeyError, ValueError) as err:
        raise SystemExit(f'error: {err}')
    out = {'params_ema': averaged, 'network_g': network_g}
    if 'scale' in checkpoints[0]:
        out['scale'] = checkpoints[0]['scale']
    atomic_torch_save(out, args.out)
    print(f'{args.out}: mean of {len(states)} checkpoints, weights {args.weights or "equal"}')


if __name__ == '__main__':
    main()
