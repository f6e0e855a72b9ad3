"""Whole-image and tiled inference with a trained TriCo (or any BasicSR) checkpoint."""
import math
import warnings
from copy import deepcopy

import numpy as np
import torch
from basicsr.archs import build_network

from trico_basicsr.archs.arch_util import arch_arguments


class NonFiniteOutput(ValueError):
    """The net produced NaN or Inf (a diverged or damaged checkpoint); nothing is written."""


def load_weights_only(path):
    """``torch.load`` of a checkpoint that may come from a stranger: tensors and plain containers only.

    A pickle that would build other objects (and could run code while doing so) is refused with a
    ``ValueError`` naming the file; nothing of it runs.
    """
    import pickle
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as error:
        first = (str(error).splitlines() or [''])[0][:200]
        raise ValueError(f'{path} is refused: it holds objects other than tensors and plain containers, which '
                         f'could run code when loaded ({first})') from error


def checkpoint_state_dict(checkpoint, path):
    """The weights inference uses from a loaded BasicSR checkpoint: ``params_ema`` if it has one, else ``params``.

    ``path`` only names the file in the error when it holds neither.
    """
    for key in ('params_ema', 'params'):
        if key in checkpoint:
            return checkpoint[key]
    raise KeyError(f"{path} holds no 'params' or 'params_ema' state dict")


def load_checkpoint_network(path, network_opt=None, device='cpu'):
    """Build the net a checkpoint was trained with and load its weights.

    TriLevelModel checkpoints carry their ``network_g`` options and scale; for other BasicSR
    checkpoints pass ``network_opt``. Weights of a frozen semantic backbone come from the checkpoint,
    so no backbone file is needed at inference.

    Returns:
        tuple[nn.Module, int]: The net in eval mode on ``device`` and its scale.
    """
    checkpoint = load_weights_only(path)
    network_opt = deepcopy(network_opt or checkpoint.get('network_g'))
    if network_opt is None:
        raise KeyError(f'{path} has no network options (not written by TriLevelModel): pass them explicitly')
    state = checkpoint_state_dict(checkpoint, path)
    broken = [name for name, value in state.items() if torch.is_tensor(value) and value.is_floating_point()
              and not torch.isfinite(value).all()]
    if broken:
        raise ValueError(f'{path}: {len(broken)} weight tensors hold NaN or Inf (e.g. {broken[0]}); the run that '
                         'saved it diverged: use an earlier checkpoint')
    if any('semantic.' in name for name in state) and 'semantic_weights' in arch_arguments(network_opt['type']):
        network_opt['semantic_weights'] = None  # the checkpoint has them
    net = build_network(network_opt)
    net.load_state_dict(state, strict=True)
    scale = int(checkpoint.get('scale') or network_opt.get('upscale') or network_opt.get('scale'))
    return net.eval().to(device), scale


#: The 8 symmetries of the square as ``(flip_dims, transpose)``: identity, flips, rotations, transposes.
DIHEDRAL = tuple((flips, transpose) for transpose in (False, True) for flips in ((), (2,), (3,), (2, 3)))


def dihedral(x, flips, transpose):
    """Flip NCHW ``x`` along ``flips`` (2: vertical, 3: horizontal), then swap H and W if ``transpose``."""
    x = x.flip(flips) if flips else x
    return x.transpose(2, 3) if transpose else x


def dihedral_inverse(x, flips, transpose):
    """Undo :func:`dihedral`: swap back, then flip again (a flip is its own inverse)."""
    x = x.transpose(2, 3) if transpose else x
    return x.flip(flips) if flips else x


class TriCoEnhancer:
    """Brighten and super-resolve images with a trained net, whole or in overlapping tiles.

    Args:
        model_path (str): Checkpoint (``weights/trico_light_x4.pth`` or ``experiments/.../net_g_*.pth``).
        tile (int): Tile size in input pixels; 0 processes the whole image at once. Default: 0.
        tile_pad (int): Context added around each tile, in input pixels; the padded border is
            discarded after inference, so seams vanish once it exceeds the net's receptive field. Padded
            tiles start at multiples of the net's ``tile_alignment`` (its coarsest stride), so strided
            layers see the grid the whole image gives them. Default: 48 (the shipped weights then agree
            with whole-image inference to within 0.02 grey levels; see docs/benchmarks/inference.md).
        half (bool): fp16 on CUDA (ignored, with a warning, on CPU). Default: False.
        device (str | None): 'cuda', 'cpu' or None (CUDA when available). Default: None.
        network_opt (dict | None): Network options for checkpoints that do not carry them.
        channels_last (bool): Run the net in NHWC memory layout, which oneDNN's CPU convolutions (and
            cuDNN's tensor-core ones) are fastest in: 1.6x faster on the shipped x4 weights on 2 CPU
            cores (docs/benchmarks/inference.md). The results match NCHW to float rounding. Default: True.
        self_ensemble (bool): Average the outputs for the 8 flips and transposes of the input (EDSR's
            geometric self-ensemble, "x8"), each mapped back: 8 times the compute, and the result no
            longer depends on the image's orientation. Default: False.
        exposure (str | float | None): How bright a TriCo net lights the image (its middle level):
            'auto' (anchored: a dark photo lit to the net's own level shrunk toward a standard exposure, a
            well-exposed photo left as bright as it is; :mod:`trico_basicsr.archs.exposure_anchor`),
            'model' (the net's own estimate, as trained), a mean grey level in (0, 1) for dark inputs, or
            None (what the checkpoint's options say). Nets without a TriCo middle level ignore it.
            Default: 'auto'.
        keep_black_level (bool): Put the shadows the SR level lifted back at the black level the middle
            level gave them (:mod:`trico_basicsr.utils.black_level`: one global luminance map, mean and
            chromaticity kept): for night scenes with unlit skies. Off by default because on daytime
            scenes the lift is mostly right (real test pairs: -0.9 dB with it). Nets without a TriCo
            middle level ignore it. Default: False.
    """

    def __init__(self, model_path, tile=0, tile_pad=48, half=False, device=None, network_opt=None,
                 channels_last=True, self_ensemble=False, exposure='auto', keep_black_level=False):
        self.device = torch.device(device or ('cuda' if torch.cuda.is_available() else 'cpu'))
        self.model_path = model_path
        self.net, self.scale = load_checkpoint_network(model_path, network_opt, self.device)
        middle = getattr(self.net, 'illum', None)
        if exposure is not None and hasattr(middle, 'set_exposure'):
            middle.set_exposure(exposure)
        self.keep_black_level = bool(keep_black_level) and hasattr(middle, 'set_exposure')
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.net = self.net.to(memory_format=self.memory_format)
        self.tile, self.tile_pad = int(tile), int(tile_pad)
        self.alignment = getattr(self.net, 'tile_alignment', 1)
        self.self_ensemble = bool(self_ensemble)
        self.half = bool(half) and self.device.type == 'cuda'
        if half and not self.half:
            warnings.warn('--fp16 needs CUDA; running in fp32 on the CPU.')
        if self.half:
            self.net = self.net.half()

    @torch.no_grad()
    def _run(self, x, **extra):
        x = x.to(self.device, memory_format=self.memory_format)
        out = self.net(x.half() if self.half else x, **extra).float()
        if not torch.isfinite(out).all():  # clamp would turn NaN into a plausible-looking black image
            raise NonFiniteOutput(f'the net gave NaN or Inf for this image (checkpoint {self.model_path}); '
                                  'its weights or this input make it diverge')
        return out.clamp(0, 1)

    @torch.no_grad()
    def _whole_image_inputs(self, x):
        """Extra inputs every tile needs from the whole image (a net's exposure statistics and anchor)."""
        if not getattr(self.net, 'uses_global_statistics', False):
            return {}
        x = x.to(self.device, memory_format=self.memory_format)
        if hasattr(self.net, 'whole_image_inputs'):
            return self.net.whole_image_inputs(x.half() if self.half else x)
        return {'exposure_stats': self.net.exposure_stats(x.half() if self.half else x)}

    @torch.no_grad()
    def _black_level_map(self, x):
        """A :class:`BlackLevelMap` for ``x``'s output (its reference from the middle level on the whole
        image, or a downsampled view of a large one), or None when the black level is left as it is."""
        if not self.keep_black_level:
            return None
        from trico_basicsr.archs.exposure_anchor import anchor_view
        from trico_basicsr.utils.black_level import BlackLevelMap, BlackLevelReference
        view = anchor_view(x).to(self.device)
        transforms = DIHEDRAL if self.self_ensemble else DIHEDRAL[:1]  # the same orientations as the output
        lit = 0
        for transform in transforms:
            turned_view = dihedral(view, *transform)
            lit_turned, _ = self.net.illum(turned_view.half() if self.half else turned_view,
                                           **self._whole_image_inputs(dihedral(x, *transform)))
            lit = lit + dihedral_inverse(lit_turned.float(), *transform)
        return BlackLevelMap(BlackLevelReference.measure(view.float(), lit / len(transforms)), self.scale)

    def enhance_tensor(self, x):
        """(1, 3, H, W) in [0, 1] -> (1, 3, sH, sW) in [0, 1]."""
        if not self.self_ensemble:
            out = self._enhance_once(x)
        else:
            out = 0
            for transform in DIHEDRAL:
                out = out + dihedral_inverse(self._enhance_once(dihedral(x, *transform)), *transform)
            out = out / len(DIHEDRAL)
        black_level = self._black_level_map(x)
        if black_level is None:
            return out
        black_level.add(x, out)
        return black_level.apply(out)

    def _enhance_once(self, x):
        if self.tile <= 0 or (x.shape[2] <= self.tile and x.shape[3] <= self.tile):
            return self._run(x).cpu().contiguous()
        return self._tiled(x, torch.zeros(1, 3, x.shape[2] * self.scale, x.shape[3] * self.scale), lambda t: t)

    def _tiles(self, x):
        """Yield ``(rows, columns, result)`` for each tile: the output slices and the tile's output there."""
        _, _, h, w = x.shape
        s, tile, pad = self.scale, self.tile, self.tile_pad
        extra = self._whole_image_inputs(x)
        for ty in range(math.ceil(h / tile)):
            for tx in range(math.ceil(w / tile)):
                y0, x0 = ty * tile, tx * tile
                y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
                py0, px0 = self._aligned(max(y0 - pad, 0)), self._aligned(max(x0 - pad, 0))
                py1, px1 = min(y1 + pad, h), min(x1 + pad, w)
                result = self._run(x[:, :, py0:py1, px0:px1], **extra).cpu()
                yield (slice(y0 * s, y1 * s), slice(x0 * s, x1 * s),
                       result[:, :, (y0 - py0) * s:(y1 - py0) * s, (x0 - px0) * s:(x1 - px0) * s])

    def _tiled(self, x, out, convert, black_level=None):
        """Fill ``out`` (NCHW tensor, or HWC array when ``convert`` maps a tile's NCHW result to HWC) tile by tile.

        ``black_level`` (a :class:`BlackLevelMap`, or None) is given each tile's result on the way.
        """
        s = self.scale
        for rows, columns, result in self._tiles(x):
            if black_level is not None:
                black_level.add(x[:, :, rows.start // s:rows.stop // s, columns.start // s:columns.stop // s], result)
            if out.ndim == 4:
                out[:, :, rows, columns] = result
            else:
                out[rows, columns] = convert(result)
        return out

    def _aligned(self, start):
        return start - start % self.alignment

    def enhance(self, img, bit_depth=None):
        """float32 RGB HWC in [0, 1] -> RGB HWC, ``scale`` times larger.

        Args:
            img (ndarray): float32 RGB HWC in [0, 1].
            bit_depth (int | None): None returns float32 in [0, 1]; 8 or 16 returns uint8 / uint16. With
                tiles (and no self-ensemble) the quantised output is filled tile by tile, so the peak
                memory is the output image plus one tile's float result, not a float copy of the output.
        """
        x = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32))[None]
        if bit_depth is None:
            return self.enhance_tensor(x)[0].permute(1, 2, 0).numpy()
        from trico_basicsr.data.image_io import quantise

        def to_hwc(result):
            return quantise(result[0].permute(1, 2, 0).numpy(), bit_depth)

        tiled = self.tile > 0 and (x.shape[2] > self.tile or x.shape[3] > self.tile) and not self.self_ensemble
        if not tiled:
            return to_hwc(self.enhance_tensor(x))
        dtype = np.uint16 if bit_depth == 16 else np.uint8
        black_level = self._black_level_map(x)
        out = self._tiled(x, np.zeros((x.shape[2] * self.scale, x.shape[3] * self.scale, 3), dtype), to_hwc,
                          black_level)
        # bands of a tenth of a tile: the mapping's float copies stay well below one tile's float result
        return out if black_level is None else black_level.apply(out, band_pixels=(self.tile * self.scale)**2 // 10)
