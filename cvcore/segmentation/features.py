"""Multi-scale per-pixel features for trainable segmentation."""
from __future__ import annotations

import math

import numpy as np

from .. import _validate, filters
from .._ext import _segfeatures

__all__ = ["pixel_features", "feature_names", "DEFAULT_SIGMAS", "FEATURES"]

DEFAULT_SIGMAS = (0.7, 1.0, 1.6, 3.5, 5.0, 10.0)
#: feature kinds and how many columns each gives per channel
FEATURES = {"intensity": 1, "gradient": 1, "log": 1, "dog": 1, "hessian": 2, "structure": 2}
_SUBNAMES = {"intensity": ("intensity",), "gradient": ("gradient",), "log": ("log",), "dog": ("dog",),
             "hessian": ("hessian_max", "hessian_min"), "structure": ("structure_max", "structure_min")}
#: ratio of the two scales in the difference of Gaussians
DOG_RATIO = 1.6
#: largest feature array pixel_features will allocate (bytes)
MAX_FEATURE_BYTES = 2 << 30


def _check_config(sigmas, features):
    if isinstance(sigmas, (int, float, np.integer, np.floating)):
        sigmas = (sigmas,)
    try:
        sig = tuple(sigmas)
    except TypeError:
        raise TypeError(f"sigmas must be a sequence of positive numbers, got {type(sigmas).__name__}") from None
    if not sig:
        raise ValueError("sigmas must contain at least one scale")
    if len(sig) > 32:
        raise ValueError(f"sigmas may hold at most 32 scales, got {len(sig)}")
    sig = tuple(_validate.real(s, "sigmas", low=0.3, high=64.0) for s in sig)
    if len(set(sig)) != len(sig):
        raise ValueError(f"sigmas must not repeat a scale, got {sig}")
    if isinstance(features, str):
        features = (features,)
    try:
        feats = tuple(features)
    except TypeError:
        raise TypeError(f"features must be a sequence of names, got {type(features).__name__}") from None
    if not feats:
        raise ValueError("features must name at least one feature kind")
    feats = tuple(_validate.choice(f, "features", tuple(FEATURES)) for f in feats)
    if len(set(feats)) != len(feats):
        raise ValueError(f"features must not repeat a kind, got {feats}")
    return sig, feats


def _n_features(n_channels, sigmas, features):
    return len(sigmas) * n_channels * sum(FEATURES[f] for f in features)


def feature_margin(sigmas=DEFAULT_SIGMAS, features=tuple(FEATURES)):
    """Pixels of context a feature needs on each side (for exact tiled computation)."""
    sigmas, features = _check_config(sigmas, features)
    s = max(sigmas)
    reach = 4.0 * s + 1  # Gaussian radius (truncate=4) + finite differences
    if "dog" in features:
        reach = 4.0 * DOG_RATIO * s + 1
    if "structure" in features:
        reach = max(reach, 8.0 * s + 2)
    return int(math.ceil(reach)) + 1


def feature_names(channels=1, sigmas=DEFAULT_SIGMAS, features=tuple(FEATURES)):
    """Names of the columns :func:`pixel_features` returns, in order.

    Parameters
    ----------
    channels : int
        Number of image channels (1 for grey, 3 for RGB).
    sigmas, features
        As for :func:`pixel_features`.

    Returns
    -------
    list of str
        ``"<kind>[s=<sigma>,c=<channel>]"``, e.g. ``"hessian_max[s=1.6,c=2]"``.

    Examples
    --------
    >>> feature_names(1, sigmas=(1.0,), features=("intensity", "hessian"))
    ['intensity[s=1,c=0]', 'hessian_max[s=1,c=0]', 'hessian_min[s=1,c=0]']
    """
    channels = _validate.integer(channels, "channels", low=1, high=1024)
    sigmas, features = _check_config(sigmas, features)
    names = []
    for s in sigmas:
        for f in features:
            for sub in _SUBNAMES[f]:
                names.extend(f"{sub}[s={s:g},c={c}]" for c in range(channels))
    return names


def _as_float_image(image, channel_axis, n_per_channel=0):
    arr = _validate.image(image, "image", ndim=(2, 3), contiguous=False)
    if arr.ndim == 3:
        if channel_axis is None:
            raise ValueError("image is 3-D: give channel_axis (e.g. -1 for H x W x C) "
                             "or pass a 2-D grey image")
        axis = _validate.integer(channel_axis, "channel_axis", low=-3, high=2)
        arr = np.moveaxis(arr, axis, -1)
        if arr.shape[2] > 64:
            raise ValueError(f"image has {arr.shape[2]} channels along channel_axis={axis}; at most 64 "
                             "are supported (is channel_axis right?)")
    n_ch = arr.shape[2] if arr.ndim == 3 else 1
    nbytes = arr.shape[0] * arr.shape[1] * n_ch * max(n_per_channel, 1) * 4
    if nbytes > MAX_FEATURE_BYTES:
        raise ValueError(f"the feature array would need {nbytes / 2**30:.1f} GiB ({arr.shape[0]}x{arr.shape[1]} "
                         f"pixels x {n_ch * max(n_per_channel, 1)} features); use fewer sigmas/features, a "
                         "smaller image, or PixelSegmenter, which computes features in tiles")
    if arr.dtype.kind in "ui":
        scale = 1.0 / np.iinfo(arr.dtype).max
        out = np.multiply(arr, np.float32(scale), dtype=np.float32)
    else:
        out = arr.astype(np.float32)
        if not np.all(np.isfinite(out)):
            raise ValueError("image must contain only finite values representable in float32")
    if out.ndim == 2:
        out = out[:, :, None]
    return np.ascontiguousarray(out)


def pixel_features(image, sigmas=DEFAULT_SIGMAS, features=tuple(FEATURES), channel_axis=-1):
    """Multi-scale per-pixel features: a column per (scale, feature, channel).

    At each scale ``s`` the image is smoothed with :func:`cvcore.filters.gaussian`
    (``G = gaussian(image, s)``); derivatives are central finite differences of
    ``G``, scale-normalised (first order times ``s``, second order times ``s**2``)
    so that values are comparable across scales. Feature kinds:

    ``intensity``
        ``G``.
    ``gradient``
        ``s * |grad G|``.
    ``log``
        Laplacian of Gaussian, ``s**2 * (Gxx + Gyy)``.
    ``dog``
        Difference of Gaussians ``G(s) - G(1.6 s)``.
    ``hessian``
        Eigenvalues of ``s**2 * [[Gxx, Gxy], [Gxy, Gyy]]``, larger then smaller.
    ``structure``
        Eigenvalues of the structure tensor ``gaussian(s**2 * grad G grad G^T, s)``
        (derivative and integration scale ``s``), larger then smaller.

    Borders are reflected (filters) and clamped (finite differences).

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        Grey or multi-channel image. Integer images are scaled to [0, 1] by their
        dtype's maximum; float images are used as they are.
    sigmas : sequence of float
        Scales (each in [0.3, 64], no repeats).
    features : sequence of str
        Feature kinds, any of ``"intensity", "gradient", "log", "dog", "hessian",
        "structure"``; columns follow this order within each scale.
    channel_axis : int or None
        Axis of a 3-D ``image`` holding the channels (ignored for 2-D images).

    Returns
    -------
    (H, W, F) float32 ndarray
        Columns ordered scale by scale, then by feature kind (and eigenvalue), then
        by channel; :func:`feature_names` names them.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((32, 32), np.uint8); img[8:24, 8:24] = 255
    >>> f = pixel_features(img, sigmas=(1.0, 2.0))
    >>> f.shape, f.dtype
    ((32, 32, 16), dtype('float32'))
    >>> feature_names(1, (1.0, 2.0))[:3]
    ['intensity[s=1,c=0]', 'gradient[s=1,c=0]', 'log[s=1,c=0]']
    """
    sigmas, features = _check_config(sigmas, features)
    img = _as_float_image(image, channel_axis, _n_features(1, sigmas, features))
    H, W, C = img.shape
    F = _n_features(C, sigmas, features)
    out = np.empty((H, W, F), np.float32)
    empty_prod = np.empty((0, 0), np.float32)
    col = 0
    for s in sigmas:
        g = filters.gaussian(img, s)
        g2d = g.reshape(H, W * C)
        cols = {}
        for f in features:
            cols[f] = col
            col += FEATURES[f] * C
        if "intensity" in cols:
            out[:, :, cols["intensity"]:cols["intensity"] + C] = g
        if "dog" in cols:
            wider = filters.gaussian(img, DOG_RATIO * s)
            np.subtract(g, wider, out=out[:, :, cols["dog"]:cols["dog"] + C])
        want_struct = "structure" in cols
        prod = np.empty((H, W * 3 * C), np.float32) if want_struct else empty_prod
        _segfeatures.derived(g2d, C, s, s * s, out, cols.get("gradient", -1), cols.get("log", -1),
                             cols.get("hessian", -1), prod)
        if want_struct:
            tensor = filters.gaussian(prod.reshape(H, W, 3 * C), s)
            _segfeatures.tensor_eigenvalues(tensor.reshape(H, W * 3 * C), C, out, cols["structure"])
    return out
