# A minimal kernel used by the build self-test (`cvcore --version` reports the
# compiled extension is importable). Real kernels live in their own files.
from cvcore._ext._types cimport real_t


def total(const real_t[::1] values):
    """Sum of a contiguous float array (test of the build only)."""
    cdef double acc = 0
    cdef Py_ssize_t i
    with nogil:
        for i in range(values.shape[0]):
            acc += values[i]
    return acc
