# Ctrl-C inside long kernels: a kernel that cannot be cut into chunks from
# Python (union-find, greedy grouping, radix sort) calls ``interrupted()``
# every so often; it briefly takes the GIL and runs the signal handlers. When
# a handler raised (KeyboardInterrupt), the exception stays set: the kernel
# frees its memory, leaves its nogil block and calls ``raise_pending()``.

cdef extern from "Python.h":
    # declared without an exception value: the caller decides when to propagate
    int _check_signals "PyErr_CheckSignals" ()


cdef inline bint interrupted() noexcept nogil:
    cdef int status
    with gil:
        status = _check_signals()
    return status != 0


cdef inline int raise_pending() except -1:
    # the exception set by the signal handler propagates from here
    return -1
