"""cvcore: classical computer vision with compiled Cython kernels.

Submodules are imported lazily (``cvcore.filters``, ``cvcore.edges``,
``cvcore.integral``, ``cvcore.haar``, ``cvcore.boxes``, ``cvcore.boosting``,
``cvcore.cascade``, ``cvcore.calibration``, ``cvcore.proposals``,
``cvcore.segmentation``, ``cvcore.datasets``, ``cvcore.io``, ``cvcore.draw``, and with
the ``dask`` extra ``cvcore.dask`` and ``cvcore.batch``),
so ``import cvcore`` stays cheap: it imports neither NumPy nor OpenCV until a
submodule is used.

Threads: :func:`set_num_threads`, :func:`get_num_threads`, the context manager
:func:`num_threads` and the environment variable ``CVCORE_NUM_THREADS`` form
the one control of the kernels' threads (default: every available core).

Examples
--------
>>> import cvcore
>>> cvcore.filters.sobel(np.eye(4), axis=1).shape    # loaded on first use
(4, 4)
"""
import importlib

from ._threads import get_num_threads, num_threads, set_num_threads
from ._version import __version__

# the thread controls live in a private module; their examples belong to the package
__test__ = {"get_num_threads": get_num_threads, "set_num_threads": set_num_threads, "num_threads": num_threads}

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
    "dask",
    "batch",
)

__all__ = ["__version__", "get_num_threads", "set_num_threads", "num_threads", *_SUBMODULES]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'cvcore' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
