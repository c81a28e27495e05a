"""Pixel-feature internals shared by :mod:`.features` and :mod:`.segmenter`.

Public functions validate their arguments with :func:`check_config` and
:func:`unit_channels` once, then call :func:`compute` (which trusts its input)
as often as they need, e.g. once per strip of a large image.
"""
from __future__ import annotations

import math

import numpy as np

from .. import _validate, filters
from .._filtering import threads_for
from .._ext import _segfeatures
from . import _blocks

DEFAULT_SIGMAS = (0.7, 1.0, 1.6, 3.5, 5.0, 10.0)
#: feature kinds and how many columns each gives per channel
FEATURES = {"intensity": 1, "gradient": 1, "log": 1, "dog": 1, "hessian": 2, "structure": 2}
SUBNAMES = {"intensity": ("intensity",), "gradient": ("gradient",), "log": ("log",), "dog": ("dog",),
            "hessian": ("hessian_max", "hessian_min"), "structure": ("structure_max", "structure_min")}
#: ratio of the two scales in the difference of Gaussians
DOG_RATIO = 1.6
#: most scales and channels a feature configuration may have
MAX_SCALES = 32
MAX_CHANNELS = 64
#: largest feature array pixel_features will allocate (bytes)
MAX_FEATURE_BYTES = 2 << 30


def _items(value, name, what, one, single, refuse, max_len):
    """``value`` as a tuple of 1 to ``max_len`` items (a lone ``single`` becomes a 1-tuple)."""
    if isinstance(value, single):
        value = (value,)
    if isinstance(value, refuse):
        raise TypeError(f"{name} must be a sequence of {what}, got {type(value).__name__}")
    try:
        items = tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of {what}, got {type(value).__name__}") from None
    if not items:
        raise ValueError(f"{name} must contain at least one {one}")
    if len(items) > max_len:
        raise ValueError(f"{name} may hold at most {max_len} {one}s, got {len(items)}")
    return items


def check_config(sigmas, features):
    """Validated ``(sigmas, features)`` tuples (user arguments and model files alike)."""
    sig = _items(sigmas, "sigmas", "positive numbers", "scale", (int, float, np.integer, np.floating),
                 (str, bytes, dict), MAX_SCALES)
    sig = tuple(_validate.real(s, "sigmas", low=0.3, high=64.0) for s in sig)
    if len(set(sig)) != len(sig):
        raise ValueError(f"sigmas must not repeat a scale, got {sig}")
    feats = _items(features, "features", "names", "feature kind", str, (bytes, dict), len(FEATURES))
    for f in feats:
        if not isinstance(f, str):
            raise TypeError(f"features must be names (str), got {type(f).__name__}")
    feats = tuple(_validate.choice(f, "features", tuple(FEATURES)) for f in feats)
    if len(set(feats)) != len(feats):
        raise ValueError(f"features must not repeat a kind, got {feats}")
    return sig, feats


def check_channel_axis(channel_axis):
    """None or an axis of a 3-D image (-3 to 2)."""
    return None if channel_axis is None else _validate.integer(channel_axis, "channel_axis", low=-3, high=2)


def n_features(n_channels, sigmas, features):
    """Columns of the feature array for a validated configuration."""
    return len(sigmas) * n_channels * sum(FEATURES[f] for f in features)


def margin(sigmas, features):
    """Rows of context a validated configuration needs on each side of a strip."""
    s = max(sigmas)
    reach = 4.0 * s + 1  # Gaussian radius (truncate=4) + finite differences
    if "dog" in features:
        reach = 4.0 * DOG_RATIO * s + 1
    if "structure" in features:
        reach = max(reach, 8.0 * s + 2)
    return int(math.ceil(reach)) + 1


def _channels(shape, axis):
    """Channels the policy keeps of an image of ``shape`` (see :func:`unit_channels`)."""
    if len(shape) == 2:
        return 1
    c = shape[axis]
    return 3 if axis in (-1, 2) and c == 4 else c


def unit_channels(image, channel_axis, name="image", *, per_channel=None):
    """``image`` as C-contiguous float32 ``(H, W, C)`` on the unit scale of the input policy.

    ``channel_axis`` must be validated. ``(H, W)`` is grey. With the channels
    last (``channel_axis`` -1 or 2) the policy's image layout applies:
    ``(H, W, 1)`` is grey, ``(H, W, 3)`` RGB, and ``(H, W, 4)`` RGBA whose alpha
    is dropped; other counts are generic bands. Any other ``channel_axis``
    declares a stack of bands (e.g. ``(C, H, W)``): every channel is kept.
    With ``per_channel`` (feature columns per channel), an image whose feature
    array would exceed :data:`MAX_FEATURE_BYTES` is refused before any copy.
    """
    shape = getattr(image, "shape", None)
    if isinstance(image, np.ndarray) and image.ndim in (2, 3):
        _check_shape(shape, channel_axis, name, per_channel)
    # the one conversion of the input policy: ints / dtype max, floats as they are (finite)
    with np.errstate(over="ignore", invalid="ignore"):  # float64 beyond float32: refused below
        arr = _validate.unit_image(image, name, dtype=np.float32, colour=False)
    if shape is None:
        _check_shape(arr.shape, channel_axis, name, per_channel)
    if arr.ndim == 3:
        arr = np.moveaxis(arr, channel_axis, -1)
        if channel_axis in (-1, 2) and arr.shape[2] == 4:
            arr = arr[:, :, :3]
    else:
        arr = arr[:, :, None]
    src = getattr(image, "dtype", None)
    if (src is None or (src.kind == "f" and src.itemsize > 4)) and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values representable in float32")
    return np.ascontiguousarray(arr)


def _check_shape(shape, channel_axis, name, per_channel):
    if len(shape) == 3:
        if channel_axis is None:
            raise ValueError(f"{name} is 3-D: give channel_axis (e.g. -1 for H x W x C) or pass a 2-D grey image")
        if shape[channel_axis] > MAX_CHANNELS:
            raise ValueError(f"{name} has {shape[channel_axis]} channels along channel_axis={channel_axis}; "
                             f"at most {MAX_CHANNELS} are supported (is channel_axis right?)")
    if per_channel is not None:
        hw = [n for i, n in enumerate(shape) if len(shape) == 2 or i != channel_axis % 3]
        cols = _channels(shape, channel_axis) * per_channel
        nbytes = hw[0] * hw[1] * cols * 4
        if nbytes > MAX_FEATURE_BYTES:
            raise ValueError(f"the feature array would need {nbytes / 2**30:.1f} GiB ({hw[0]}x{hw[1]} pixels x "
                             f"{cols} features); use fewer sigmas/features, a smaller image, or "
                             "PixelSegmenter, which computes features in strips")


def plane_bytes(width, n_channels, sigmas, features):
    """Bytes per image row of the :class:`Planes` of a validated configuration, with the
    structure tensor's transient buffers (products and their smoothing)."""
    per_scale = 1 + ("dog" in features) + 2 * ("structure" in features)
    transient = 6 if "structure" in features else 0
    return width * n_channels * (len(sigmas) * per_scale + transient) * 4


class Planes:
    """The smoothed planes of one float32 ``(H, W, C)`` image (all validated), from
    which :meth:`fill` writes the features of any rows.

    Per scale: the Gaussian ``G``, for ``dog`` the wider one (a Gaussian whose
    sigma was already computed, e.g. ``1.6 * 1.0`` among the default scales, is
    reused), and for ``structure`` the eigenvalues of the smoothed tensor. They
    take ``C * (1 + dog + 2 * structure)`` floats per pixel and scale (12 for
    RGB and every kind, against 24 feature columns): a caller can then fill the
    feature rows in small blocks that stay in cache, or all at once.
    """

    def __init__(self, img, sigmas, features):
        H, W, C = img.shape
        self.shape, self.n_features = (H, W, C), n_features(C, sigmas, features)
        self.threads = threads = threads_for(H, H * W * C * 40)
        cols = np.full((len(sigmas), 6), -1, np.intp)
        kinds = ("intensity", "dog", "gradient", "log", "hessian", "structure")  # _segfeatures.COL_* order
        col = 0
        for i in range(len(sigmas)):
            for f in features:
                cols[i, kinds.index(f)] = col
                col += FEATURES[f] * C
        s1 = np.array(sigmas, np.float64)
        g, wider, eig = [], [], []
        smoothed = {}  # sigma -> Gaussian (H, W*C): G(1.6) among the default scales is also G(1.6 * 1.0)

        def gaussian(s):
            if s not in smoothed:
                smoothed[s] = filters.gaussian(img, s).reshape(H, W * C)
            return smoothed[s]

        for i, s in enumerate(sigmas):
            g.append(gaussian(s))
            if "dog" in features:
                wider.append(gaussian(DOG_RATIO * s))
            if "structure" in features:
                eig.append(np.empty((H, W * 2 * C), np.float32))
                e = eig[-1].reshape(H, W, 2 * C)
                prod = np.empty((H, W * 3), np.float32)
                for c in range(C):  # channel by channel: a 3-channel Gaussian is the fastest per channel
                    # row blocks from Python: Ctrl-C is served between them
                    _blocks.for_blocks(H, lambda a, b: _segfeatures.products(g[-1], C, c, s, prod, a, b, threads),
                                       first=16 * threads)
                    tensor = filters.gaussian(prod.reshape(H, W, 3), s).reshape(H, W * 3)
                    _blocks.for_blocks(H, lambda a, b: _segfeatures.tensor_eigenvalues(
                        tensor, 1, e, c, C, a, b, threads), first=16 * threads)
        self._planes = _segfeatures.Smoothed(g, wider, eig, cols, s1, s1 * s1, C)

    def fill_pixels(self, ys, xs, out):
        """Features of pixels ``(ys[k], xs[k])`` (intp, inside the planes) into ``out[k]`` (float32 ``(n, F)``)."""
        _segfeatures.fill_pixels(self._planes, ys, xs, out,
                                 threads_for(ys.shape[0], ys.shape[0] * self.n_features * 20))

    def fill(self, row_start, row_stop, out):
        """Features of rows ``row_start .. row_stop - 1`` into ``out[:row_stop - row_start]`` (float32 ``(n, W, F)``)."""
        _segfeatures.fill(self._planes, out, row_start, row_start, row_stop, self.threads)


def compute(img, sigmas, features):
    """Feature array ``(H, W, F)`` float32 of a float32 ``(H, W, C)`` image (all validated).

    The smoothed planes first (:class:`Planes`), then one threaded pass that
    writes every feature of a pixel at once (row blocks from Python: Ctrl-C is
    served between them, and first touches of the large array alone take long).
    """
    planes = Planes(img, sigmas, features)
    H, W, _ = img.shape
    out = np.empty((H, W, planes.n_features), np.float32)
    _blocks.for_blocks(H, lambda a, b: planes.fill(a, b, out[a:]), first=16 * planes.threads)
    return out
