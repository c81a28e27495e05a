"""Lazy, chunked versions of cvcore's array functions for Dask arrays.

Each function here has the name, arguments and result of its in-memory
counterpart (:mod:`cvcore.filters`, :func:`cvcore.edges.gradient`,
:func:`~cvcore.edges.harris`, :func:`~cvcore.edges.shi_tomasi`,
:func:`cvcore.integral.integral_image`,
:func:`cvcore.segmentation.pixel_features`) but takes a ``dask.array`` and
returns one, computed chunk by chunk, so an image larger than memory can be
filtered into a chunked store (``result.to_zarr(...)``). Needs the optional
extra ``pip install "cvcore[dask]"``; ``import cvcore`` never imports Dask.

Exactness
---------
Results are bit-identical to the NumPy call on the whole array, for every
border mode and any chunking (even chunks smaller than the filter radius):

* each chunk is extended by the kernel's radius from its neighbours
  (``dask.array.overlap`` with ``boundary='none'``, so nothing is invented at
  the image edges) and the in-memory function runs on the extended chunk;
  output pixels whose window reaches the extension's own edge are trimmed;
* at the true image edges the function applies its own ``mode`` and ``cval``,
  exactly as on the whole image; only ``mode='wrap'``, which reads the
  opposite edge, first gets the wrapped rows and columns attached;
* :func:`integral_image` carries each row's running sum and each column's
  table value from one chunk into the next, adding in the kernel's order.

Arguments are checked when the lazy result is built (a small probe call of
the in-memory function), so a bad ``sigma`` fails at once, not at compute.

Not chunk-local, hence refused: :func:`canny` (hysteresis follows edges
across the whole image) and :func:`corner_peaks` (thresholds relative to the
global maximum, a global ``num_peaks``). Compute their chunk-local part here
(:func:`gradient`, :func:`harris`) and finish them in memory.

Threads: a Dask task calls the kernels, which use
:func:`cvcore.get_num_threads` threads each; with Dask's threaded scheduler
set ``cvcore.set_num_threads(1)`` (or ``CVCORE_NUM_THREADS=1``) to avoid
oversubscription. :mod:`cvcore.batch` workers do this themselves.

Examples
--------
>>> import numpy as np, dask.array as da
>>> from cvcore import dask as cd, filters
>>> img = np.random.default_rng(0).integers(0, 256, (50, 70), dtype=np.uint8)
>>> lazy = cd.gaussian(da.from_array(img, chunks=(16, 20)), 2.0, mode="nearest")
>>> bool((lazy.compute() == filters.gaussian(img, 2.0, mode="nearest")).all())
True
"""
from __future__ import annotations

import functools

import dask
import dask.array as da
import numpy as np

from . import _filtering as _f
from . import _validate
from . import edges as _edges
from . import filters as _filters
from . import integral as _integral
from .segmentation import features as _features

__all__ = [
    "correlate", "convolve", "sepfilter", "gaussian", "gaussian_kernel", "box", "median", "sobel", "scharr",
    "prewitt", "laplacian", "laplacian_of_gaussian", "difference_of_gaussians", "gradient", "harris",
    "shi_tomasi", "integral_image", "pixel_features", "segment", "canny", "corner_peaks",
]

#: Not an image operation: the kernel itself, shared with :mod:`cvcore.filters`.
gaussian_kernel = _filters.gaussian_kernel


# --------------------------------------------------------------------------
# the chunked runner
# --------------------------------------------------------------------------


def _as_dask(image, name="image"):
    """A 2-D or 3-D dask array with the channel axis (if any) in one chunk."""
    if not isinstance(image, da.Array):
        raise TypeError(f"{name} must be a dask array (dask.array.from_array(...)), got {type(image).__name__}; "
                        "for in-memory arrays call the cvcore function directly")
    if image.ndim not in (2, 3):
        raise ValueError(f"{name} must be 2-D (H, W) or 3-D (H, W, C), got shape {image.shape}")
    if any(s == 0 or s != s for s in image.shape):  # NaN: unknown chunk sizes
        raise ValueError(f"{name} must have known, non-zero sizes, got shape {image.shape}")
    if image.ndim == 3 and image.numblocks[2] > 1:
        image = image.rechunk({2: -1})
    return image


def _probe(x, fn):
    """Run ``fn`` on a small zero image like ``x``: checks the arguments now and gives the outputs' layout."""
    sample = np.zeros(tuple(min(s, 4) for s in x.shape[:2]) + x.shape[2:], x.dtype)
    out = fn(sample)
    return out if isinstance(out, tuple) else (out,)


def _wrap_pad(x, dy, dx):
    """``x`` with ``dy`` rows and ``dx`` columns of wrapped data attached on each side."""
    for axis, d in ((0, dy), (1, dx)):
        if d:
            n = x.shape[axis]
            idx = _f.index_map(n, 2 * d + 1, d, "wrap")
            x = da.concatenate([da.take(x, idx[:d], axis), x, da.take(x, idx[n + d:], axis)], axis=axis)
    return x


def _stack_outputs(fn, n_out, block):
    out = fn(block)
    return out if n_out == 1 else np.stack(out, axis=-1)


def _chunked(image, fn, depth, mode="reflect"):
    """Apply ``fn`` (NumPy image -> array or tuple of arrays, same H x W) chunk by chunk, exactly.

    ``depth`` is ``(dy, dx)``: how far an output pixel's value reaches into the
    input along each axis (``fn``'s kernel radius, for a composition the sum).
    """
    x = _as_dask(image)
    probe = _probe(x, fn)
    n_out = len(probe)
    h, w = x.shape[:2]
    wrap = mode == "wrap"
    # beyond the image size more context changes nothing (except for wrap, padded below)
    dy, dx = (int(d) if wrap else min(int(d), n) for d, n in zip(depth, (h, w)))
    src = _wrap_pad(x, dy, dx) if wrap else x
    axes = {0: dy, 1: dx, **({2: 0} if src.ndim == 3 else {})}
    ext = da.overlap.overlap(src, axes, boundary="none")
    tail = probe[0].shape[2:] + ((n_out,) if n_out > 1 else ())
    out_nd = 2 + len(tail)
    kwargs = {}
    if out_nd > src.ndim:
        kwargs["new_axis"] = list(range(src.ndim, out_nd))
    elif out_nd < src.ndim:
        kwargs["drop_axis"] = list(range(out_nd, src.ndim))
    y = da.map_blocks(functools.partial(_stack_outputs, fn, n_out), ext,
                      chunks=ext.chunks[:2] + tuple((t,) for t in tail),
                      meta=np.empty((0,) * out_nd, probe[0].dtype), **kwargs)
    y = da.overlap.trim_internal(y, {0: dy, 1: dx}, boundary="none")
    if wrap:
        y = y[dy:dy + h, dx:dx + w]
    y = y.rechunk({0: x.chunks[0], 1: x.chunks[1]})
    return y if n_out == 1 else tuple(y[..., k] for k in range(n_out))


def _mode(mode):
    return _validate.border_mode(mode)


# --------------------------------------------------------------------------
# cvcore.filters
# --------------------------------------------------------------------------


def _kernel_depth(kernel):
    k = np.atleast_2d(np.asarray(kernel))
    return k.shape[0] // 2, k.shape[1] // 2


def correlate(image, kernel, mode="reflect", cval=0.0):
    """Lazy :func:`cvcore.filters.correlate` of a dask array (same arguments and result)."""
    fn = functools.partial(_filters.correlate, kernel=kernel, mode=mode, cval=cval)
    _probe(_as_dask(image), fn)  # the kernel is valid before its shape sets the depth
    return _chunked(image, fn, _kernel_depth(kernel), _mode(mode))


def convolve(image, kernel, mode="reflect", cval=0.0):
    """Lazy :func:`cvcore.filters.convolve` of a dask array (same arguments and result)."""
    fn = functools.partial(_filters.convolve, kernel=kernel, mode=mode, cval=cval)
    _probe(_as_dask(image), fn)
    return _chunked(image, fn, _kernel_depth(kernel), _mode(mode))


def sepfilter(image, kernel_x, kernel_y, mode="reflect", cval=0.0):
    """Lazy :func:`cvcore.filters.sepfilter` of a dask array (same arguments and result)."""
    fn = functools.partial(_filters.sepfilter, kernel_x=kernel_x, kernel_y=kernel_y, mode=mode, cval=cval)
    _probe(_as_dask(image), fn)
    return _chunked(image, fn, (np.size(kernel_y) // 2, np.size(kernel_x) // 2), _mode(mode))


def _gaussian_radii(sigma, truncate, name="sigma"):
    sy, sx = _validate.sigma_pair(sigma, name)
    t = _validate.positive(truncate, "truncate")
    return _f.checked_radius(sy, t, name), _f.checked_radius(sx, t, name)


def gaussian(image, sigma, truncate=4.0, mode="reflect", cval=0.0):
    """Lazy :func:`cvcore.filters.gaussian` of a dask array (same arguments and result).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> img = np.zeros((30, 30), np.float32); img[15, 15] = 1
    >>> out = gaussian(da.from_array(img, chunks=7), 1.5)
    >>> out.chunks[0], round(float(out.sum().compute()), 5)
    ((7, 7, 7, 7, 2), 1.0)
    """
    fn = functools.partial(_filters.gaussian, sigma=sigma, truncate=truncate, mode=mode, cval=cval)
    _probe(_as_dask(image), fn)
    return _chunked(image, fn, _gaussian_radii(sigma, truncate), _mode(mode))


def laplacian_of_gaussian(image, sigma, truncate=4.0, mode="reflect", cval=0.0):
    """Lazy :func:`cvcore.filters.laplacian_of_gaussian` of a dask array (same arguments and result)."""
    fn = functools.partial(_filters.laplacian_of_gaussian, sigma=sigma, truncate=truncate, mode=mode, cval=cval)
    _probe(_as_dask(image), fn)
    return _chunked(image, fn, _gaussian_radii(sigma, truncate), _mode(mode))


def difference_of_gaussians(image, low_sigma=None, high_sigma=None, truncate=4.0, mode="reflect", cval=0.0,
                            **deprecated):
    """Lazy :func:`cvcore.filters.difference_of_gaussians` of a dask array (same arguments and result)."""
    fn = functools.partial(_filters.difference_of_gaussians, low_sigma=low_sigma, high_sigma=high_sigma,
                           truncate=truncate, mode=mode, cval=cval, **deprecated)
    _probe(_as_dask(image), fn)
    low = deprecated.get("sigma_low") if low_sigma is None else low_sigma
    high = deprecated.get("sigma_high") if high_sigma is None else high_sigma
    if high is None:
        high = tuple(1.6 * s for s in _validate.sigma_pair(low, "low_sigma"))
    return _chunked(image, fn, _gaussian_radii(high, truncate, "high_sigma"), _mode(mode))


def box(image, size, normalize=True, mode="reflect", cval=0.0):
    """Lazy :func:`cvcore.filters.box` of a dask array (same arguments and result)."""
    fn = functools.partial(_filters.box, size=size, normalize=normalize, mode=mode, cval=cval)
    _probe(_as_dask(image), fn)
    sy, sx = _validate.size_pair(size, "size")
    return _chunked(image, fn, (sy // 2, sx // 2), _mode(mode))


def median(image, size, mode="reflect", cval=0.0):
    """Lazy :func:`cvcore.filters.median` of a dask array (same arguments and result)."""
    fn = functools.partial(_filters.median, size=size, mode=mode, cval=cval)
    _probe(_as_dask(image), fn)
    sy, sx = _validate.size_pair(size, "size")
    return _chunked(image, fn, (sy // 2, sx // 2), _mode(mode))


def sobel(image, axis=None, mode="reflect", cval=0.0):
    """Lazy :func:`cvcore.filters.sobel` of a dask array (same arguments and result)."""
    fn = functools.partial(_filters.sobel, axis=axis, mode=mode, cval=cval)
    return _chunked(image, fn, (1, 1), _mode(mode))


def scharr(image, axis=None, mode="reflect", cval=0.0):
    """Lazy :func:`cvcore.filters.scharr` of a dask array (same arguments and result)."""
    fn = functools.partial(_filters.scharr, axis=axis, mode=mode, cval=cval)
    return _chunked(image, fn, (1, 1), _mode(mode))


def prewitt(image, axis=None, mode="reflect", cval=0.0):
    """Lazy :func:`cvcore.filters.prewitt` of a dask array (same arguments and result)."""
    fn = functools.partial(_filters.prewitt, axis=axis, mode=mode, cval=cval)
    return _chunked(image, fn, (1, 1), _mode(mode))


def laplacian(image, mode="reflect", cval=0.0):
    """Lazy :func:`cvcore.filters.laplacian` of a dask array (same arguments and result)."""
    fn = functools.partial(_filters.laplacian, mode=mode, cval=cval)
    return _chunked(image, fn, (1, 1), _mode(mode))


# --------------------------------------------------------------------------
# cvcore.edges
# --------------------------------------------------------------------------


def gradient(image, sigma=None, mode="reflect", cval=0.0):
    """Lazy :func:`cvcore.edges.gradient`: a pair ``(gx, gy)`` of dask arrays computed together."""
    fn = functools.partial(_edges.gradient, sigma=sigma, mode=mode, cval=cval)
    _probe(_as_dask(image), fn)
    ry, rx = (0, 0) if sigma is None else _gaussian_radii(sigma, 4.0)
    return _chunked(image, fn, (ry + 1, rx + 1), _mode(mode))


def _window_depth(sigma, block_size):
    if block_size is None:
        ry, rx = _gaussian_radii(sigma, 4.0)
        return ry + 1, rx + 1  # the window over 3x3 Sobel derivatives
    b = _validate.integer(block_size, "block_size", low=1, high=_validate.MAX_KERNEL_TAPS)
    return b // 2 + 1, b // 2 + 1


def harris(image, sigma=1.0, k=0.04, *, block_size=None, mode="reflect"):
    """Lazy :func:`cvcore.edges.harris` of a dask array (same arguments and result)."""
    fn = functools.partial(_edges.harris, sigma=sigma, k=k, block_size=block_size, mode=mode)
    _probe(_as_dask(image), fn)
    return _chunked(image, fn, _window_depth(sigma, block_size), _mode(mode))


def shi_tomasi(image, sigma=1.0, *, block_size=None, mode="reflect"):
    """Lazy :func:`cvcore.edges.shi_tomasi` of a dask array (same arguments and result)."""
    fn = functools.partial(_edges.shi_tomasi, sigma=sigma, block_size=block_size, mode=mode)
    _probe(_as_dask(image), fn)
    return _chunked(image, fn, _window_depth(sigma, block_size), _mode(mode))


def canny(*args, **kwargs):
    """Refused: Canny's hysteresis is not chunk-local.

    An edge pixel above the low threshold is kept when it connects, through any
    number of chunks, to one above the high threshold, so no fixed overlap makes
    a chunk's result exact. Compute :func:`gradient` lazily and run
    :func:`cvcore.edges.canny` in memory (per tile you can afford).
    """
    raise NotImplementedError("cvcore.dask.canny is not offered: hysteresis links edges across the whole image, "
                              "so no chunk can be finished with a bounded overlap; use cvcore.dask.gradient, or "
                              "cvcore.edges.canny on an in-memory array")


def corner_peaks(*args, **kwargs):
    """Refused: peaks are thresholded against the global maximum and capped by a global count.

    Compute :func:`harris` or :func:`shi_tomasi` lazily, then run
    :func:`cvcore.edges.corner_peaks` on the computed response.
    """
    raise NotImplementedError("cvcore.dask.corner_peaks is not offered: threshold_rel is relative to the maximum "
                              "of the whole response and num_peaks counts over the whole image; compute the "
                              "response with cvcore.dask.harris/shi_tomasi, then call cvcore.edges.corner_peaks")


# --------------------------------------------------------------------------
# cvcore.integral
# --------------------------------------------------------------------------


class _Extent:
    """What ``_validate.integral_int_guard`` reads of an image: its dtype, size and value range."""

    def __init__(self, dtype, size, low, high):
        self.dtype, self.size, self._low, self._high = dtype, size, low, high

    def max(self):
        return self._high

    def min(self):
        return self._low


def _row_scan(block, acc, carry, total_size):
    """Running row sums of ``block`` in ``acc``, starting from the left neighbour's ``carry`` (H[, C])."""
    b = np.asarray(block)
    if acc == np.int64 and b.size:
        _validate.integral_int_guard(_Extent(b.dtype, total_size, int(b.min()), int(b.max())), "image")
    b = b.astype(acc)
    # the kernel adds pixel by pixel from the left: (carry + a0) + a1 ..., as cumsum does
    return np.cumsum(np.concatenate([carry[:, None], b], axis=1), axis=1)[:, 1:]


def _col_scan(rows, carry):
    """Table rows below the upper neighbour's last table row ``carry`` (W[, C])."""
    return np.cumsum(np.concatenate([carry[None], rows], axis=0), axis=0)[1:]


def integral_image(image):
    """Lazy :func:`cvcore.integral.integral_image`: exact, with carries across chunks.

    Chunk ``(i, j)`` starts its running row sums from chunk ``(i, j - 1)`` and
    its column sums from chunk ``(i - 1, j)``, adding in the kernel's order, so
    float tables are bit-identical too. The chunks form a wavefront: chunks on
    one anti-diagonal run in parallel.

    Returns
    -------
    (H + 1, W + 1) or (H + 1, W + 1, C) dask array
        As the in-memory function: int64 for integer and bool input, float64
        for floating-point input, zero first row and column.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> ii = integral_image(da.ones((5, 6), np.uint8, chunks=2))
    >>> int(ii[-1, -1].compute()), ii.shape
    (30, (6, 7))
    """
    x = _as_dask(image)
    (probe,) = _probe(x, _integral.integral_image)
    acc = probe.dtype
    total = int(np.prod(x.shape))
    if acc == np.int64:  # small integer types: refused now; wider ones when a chunk shows its values
        _validate.integral_int_guard(_Extent(x.dtype, total, 0, 0), "image")
    blocks = x.to_delayed()
    tail = x.shape[2:]
    rows_out = []
    top = [np.zeros((c,) + tail, acc) for c in x.chunks[1]]
    for i, bh in enumerate(x.chunks[0]):
        left = np.zeros((bh,) + tail, acc)
        row_blocks = []
        for j, bw in enumerate(x.chunks[1]):
            block = blocks[(i, j) + (0,) * len(tail)]
            scanned = dask.delayed(_row_scan, pure=True)(block, acc, left, total)
            left = scanned[:, -1]
            table = dask.delayed(_col_scan, pure=True)(scanned, top[j])
            top[j] = table[-1]
            row_blocks.append(da.from_delayed(table, (bh, bw) + tail, dtype=acc))
        rows_out.append(row_blocks)
    body = da.block(rows_out if tail == () else [[[b] for b in r] for r in rows_out])
    pad = ((1, 0), (1, 0)) + ((0, 0),) * len(tail)
    return da.pad(body, pad, mode="constant", constant_values=0)


# --------------------------------------------------------------------------
# cvcore.segmentation
# --------------------------------------------------------------------------


def _channels_last(x, channel_axis):
    if x.ndim == 3 and channel_axis is not None:
        axis = _validate.integer(channel_axis, "channel_axis", low=-3, high=2)
        return da.moveaxis(x, axis, -1)
    return x


def pixel_features(image, sigmas=_features.DEFAULT_SIGMAS, features=tuple(_features.FEATURES), channel_axis=-1):
    """Lazy :func:`cvcore.segmentation.pixel_features`: ``(H, W, F)`` float32 dask array.

    The overlap is :func:`cvcore.segmentation.features.feature_margin`, the
    context the features need for exact tiles.
    """
    x = _channels_last(_as_dask(image), channel_axis)
    fn = functools.partial(_features.pixel_features, sigmas=sigmas, features=features, channel_axis=-1)
    margin = _features.feature_margin(sigmas, features)
    return _chunked(x, fn, (margin, margin))


def segment(segmenter, image, probabilities=False):
    """Run a fitted :class:`~cvcore.segmentation.PixelSegmenter` chunk by chunk.

    Parameters
    ----------
    segmenter : PixelSegmenter
        Fitted segmenter.
    image : (H, W) or (H, W, C) dask array
        Image laid out as the segmenter expects (channels last).
    probabilities : bool, optional
        False (default): the label map, as ``segmenter.predict``. True: the
        ``(H, W, K)`` float32 class probabilities, as ``segmenter.predict_proba``.

    Returns
    -------
    dask array
        Identical to the in-memory prediction of the whole image.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from cvcore.segmentation import PixelSegmenter
    >>> img = np.zeros((20, 20), np.uint8); img[:, 10:] = 255
    >>> lab = np.zeros((20, 20), np.uint8); lab[:, 2] = 1; lab[:, 17] = 2
    >>> seg = PixelSegmenter("knn", sigmas=(1.0,)).fit(img, lab)
    >>> segment(seg, da.from_array(img, chunks=8))[0, [0, 19]].compute().tolist()
    [1, 2]
    """
    from .segmentation import PixelSegmenter

    if not isinstance(segmenter, PixelSegmenter):
        raise TypeError(f"segmenter must be a PixelSegmenter, got {type(segmenter).__name__}")
    probabilities = _validate.boolean(probabilities, "probabilities")
    x = _as_dask(image)
    if x.ndim == 3 and segmenter.channel_axis not in (-1, 2):
        raise ValueError(f"segment needs channels last; this segmenter has channel_axis={segmenter.channel_axis} "
                         "(move the axis with dask.array.moveaxis and use a channels-last segmenter)")
    margin = _features.feature_margin(segmenter.sigmas, segmenter.features)
    fn = segmenter.predict_proba if probabilities else segmenter.predict
    return _chunked(x, fn, (margin, margin))
