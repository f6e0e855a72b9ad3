"""Set the illumination prior's exponent of a TriCoNet checkpoint, keeping its gain at a reference level.

    python scripts/set_prior_exponent.py --model weights/trico_light_x4.pth --exponent 0.35 --out start.pth

IllumNet's illumination is ``exp(a * log(prior) + r(x) + g)`` (``trico_basicsr/archs/illum_arch.py``),
with ``prior`` the box-averaged channel maximum of the input, in [0, 1]. The output is then about
``x * prior**(-a)``: the larger ``a``, the more every region is lit to the same level, shadows and
night skies included. This writes a copy with exponent ``a_new`` and the global gain ``g``'s bias
shifted by ``(a_old - a_new) * log(reference)``, so a region whose prior equals ``--reference`` gets
the same gain as before, brighter regions more and darker ones less. The result is a starting point
for a fine-tune (the rest of the net was trained for ``a_old``), not a model to ship as it is.
Needs a checkpoint of a net built with ``global_exposure: true``.
"""
import argparse
import math
from os import path as osp

EXPONENT = 'illum.prior_exponent'
GAIN_BIAS = 'illum.global_exposure.log_gain.bias'


def set_prior_exponent(params, exponent, reference):
    """Return a copy of a TriCoNet state dict with the prior exponent set to ``exponent``.

    ``params``: the state dict (``illum.prior_exponent`` of shape (1,), the global gain's bias of shape
    (illum_channels,)); ``reference`` in (0, 1]: the prior level whose gain is kept.
    """
    missing = [k for k in (EXPONENT, GAIN_BIAS) if k not in params]
    if missing:
        raise KeyError(f'not a TriCoNet state dict with global_exposure: missing {missing}')
    if not 0 < reference <= 1:
        raise ValueError(f'reference must be in (0, 1], got {reference}')
    out = dict(params)
    old = params[EXPONENT]
    out[EXPONENT] = old.new_full(old.shape, exponent)
    out[GAIN_BIAS] = params[GAIN_BIAS] + (old.mean().item() - exponent) * math.log(reference)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--model', required=True, help='a TriCoNet checkpoint (params and/or params_ema)')
    parser.add_argument('--exponent', type=float, required=True, help='the new exponent a (0 = no local prior)')
    parser.add_argument('--reference', type=float, default=0.1,
                        help='prior level, in [0, 1], whose gain is kept (default 0.1)')
    parser.add_argument('--out', required=True)
    args = parser.parse_args(argv)

    from trico_basicsr.utils.atomic import atomic_torch_save
    from trico_basicsr.utils.inference import load_weights_only
    if osp.abspath(args.out) == osp.abspath(args.model):
        parser.error('--out must differ from --model (the input is never overwritten)')
    try:
        state = load_weights_only(args.model)
    except ValueError as err:
        raise SystemExit(f'error: {err}')
    keys = [k for k in ('params', 'params_ema') if k in state]
    if not keys:
        raise SystemExit(f'error: {args.model}: no params or params_ema')
    try:
        for key in keys:
            state[key] = set_prior_exponent(state[key], args.exponent, args.reference)
    except (KeyError, ValueError) as err:
        raise SystemExit(f'error: {args.model}: {err}')
    atomic_torch_save(state, args.out)
    print(f'{args.out}: prior exponent {args.exponent} (reference {args.reference}) in {keys}')


if __name__ == '__main__':
    main()
