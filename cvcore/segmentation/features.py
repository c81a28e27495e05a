"""Multi-scale per-pixel features for trainable segmentation.

Images become numbers by cvcore's one input policy (:mod:`cvcore._validate.images`):
integers are divided by their dtype's maximum, floats are used as they are
(finite). Channels: ``(H, W)`` is grey; with the channels last
(``channel_axis=-1``, the default) ``(H, W, 1)`` is grey, ``(H, W, 3)`` RGB and
``(H, W, 4)`` RGBA whose alpha channel is ignored (it says where the image is,
not what it shows); other channel counts (2, 5 ... 64) are generic bands. Any
other ``channel_axis`` (e.g. 0 for a ``(C, H, W)`` stack) declares a stack of
bands, and every channel is used, a fourth one included: pass a 4-band image
that is not RGBA that way.
"""
from __future__ import annotations

from ._pixels import DEFAULT_SIGMAS, FEATURES, MAX_FEATURE_BYTES, SUBNAMES, check_channel_axis, check_config, \
    compute, margin, n_features, unit_channels
from .. import _validate

__all__ = ["pixel_features", "feature_names", "feature_margin", "DEFAULT_SIGMAS", "FEATURES",
           "MAX_FEATURE_BYTES"]


def feature_margin(sigmas=DEFAULT_SIGMAS, features=tuple(FEATURES)):
    """Rows (or columns) of context a feature needs on each side, for exact tiling.

    Features of a tile computed with this margin of extra image on each side
    equal, inside the tile, the features of the whole image.

    Examples
    --------
    >>> feature_margin(sigmas=(1.0, 2.0), features=("intensity",))
    10
    """
    return margin(*check_config(sigmas, features))


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
    channels = _validate.integer(channels, "channels", low=1, high=64)
    sigmas, features = check_config(sigmas, features)
    names = []
    for s in sigmas:
        for f in features:
            for sub in SUBNAMES[f]:
                names.extend(f"{sub}[s={s:g},c={c}]" for c in range(channels))
    return names


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
        Grey, RGB, RGBA or multi-band image, read by the input policy (see the
        module docstring): integers divided by their dtype's maximum, floats as
        they are (finite); the alpha of an RGBA image is ignored.
    sigmas : sequence of float
        Scales (each in [0.3, 64], no repeats).
    features : sequence of str
        Feature kinds, any of ``"intensity", "gradient", "log", "dog", "hessian",
        "structure"``; columns follow this order within each scale.
    channel_axis : int or None
        Axis of a 3-D ``image`` holding the channels (-1: channels last, the
        image layout, where a fourth channel is alpha; another axis: a stack of
        bands, all used). Unused for 2-D images, but checked.

    Returns
    -------
    (H, W, F) float32 ndarray
        Columns ordered scale by scale, then by feature kind (and eigenvalue), then
        by channel; :func:`feature_names` names them.

    Examples
    --------
    >>> img = np.zeros((32, 32), np.uint8); img[8:24, 8:24] = 255
    >>> f = pixel_features(img, sigmas=(1.0, 2.0))
    >>> f.shape, f.dtype
    ((32, 32, 16), dtype('float32'))
    >>> feature_names(1, (1.0, 2.0))[:3]
    ['intensity[s=1,c=0]', 'gradient[s=1,c=0]', 'log[s=1,c=0]']
    """
    sigmas, features = check_config(sigmas, features)
    axis = check_channel_axis(channel_axis)
    img = unit_channels(image, axis, per_channel=n_features(1, sigmas, features))
    return compute(img, sigmas, features)
