"""The one place that turns user input into kernel input, organised by concept.

Every public function passes its arguments through these helpers before any
kernel sees them; each helper either returns exactly what the kernel needs
(dtype, dimensionality, C-contiguity, value ranges) or raises ``TypeError`` /
``ValueError`` whose message names the argument and what was expected.
Kernels in :mod:`cvcore._ext` never check anything themselves.

* :mod:`.numbers`   scalars, integers, choices, pairs, flags, ``random_state``
* :mod:`.arrays`    numeric arrays, vectors, feature matrices, class targets
* :mod:`.images`    images and the one input policy (dtype scaling, grey, channels)
* :mod:`.kernels`   filter parameters: border modes, kernels, sigmas, work limits
* :mod:`.boxes`     ``(x, y, w, h)`` boxes and scores
* :mod:`.geometry`  points, chessboard patterns, camera parameters
* :mod:`.modelfile` model files: format and version, strict types, size caps

Each call path validates an argument once: public functions validate, private
helpers they call trust their input.
"""
from .arrays import *  # noqa: F401,F403
from .arrays import _REAL_KINDS  # noqa: F401
from .boxes import *  # noqa: F401,F403
from .geometry import *  # noqa: F401,F403
from .images import *  # noqa: F401,F403
from .kernels import *  # noqa: F401,F403
from .numbers import *  # noqa: F401,F403
from .numbers import _describe  # noqa: F401
from . import modelfile  # noqa: F401,E402
