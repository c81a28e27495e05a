"""cvcore: classical computer vision with compiled Cython kernels.

Submodules are imported lazily (``cvcore.filters``, ``cvcore.edges``,
``cvcore.integral``, ``cvcore.haar``, ``cvcore.boxes``, ``cvcore.boosting``,
``cvcore.cascade``, ``cvcore.calibration``, ``cvcore.proposals``,
``cvcore.segmentation``, ``cvcore.datasets``, ``cvcore.io``, ``cvcore.draw``),
so ``import cvcore`` stays cheap: it imports neither NumPy nor OpenCV until a
submodule is used.

Examples
--------
>>> import cvcore
>>> cvcore.filters.sobel(np.eye(4), axis=1).shape    # loaded on first use
(4, 4)
"""
import importlib

from ._version import __version__

_SUBMODULES = (
    "filters",
    "edges",
    "integral",
    "haar",
    "boxes",
    "boosting",
    "cascade",
    "calibration",
    "proposals",
    "segmentation",
    "datasets",
    "io",
    "draw",
)

__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'cvcore' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
