# How a row kernel splits its rows among OpenMP threads.
#
# A kernel gets ``n_threads`` from its Python wrapper (which reads
# cvcore.get_num_threads() and lowers it for small work: see
# cvcore._filtering.threads_for) and cuts its ``rows`` output rows into
# ``chunks(rows, n_threads)`` contiguous blocks, one per thread
# (``prange(nc, num_threads=nc, schedule='static')``). Block ``t`` is rows
# ``chunk_start(rows, nc, t) .. chunk_start(rows, nc, t + 1)``. Each block
# has its own scratch buffers and computes every row exactly as a serial run
# would, so results never depend on the thread count. Built without OpenMP,
# prange is a plain loop over the blocks.

cdef inline Py_ssize_t chunks(Py_ssize_t rows, int n_threads) noexcept nogil:
    if rows < 1:
        return 0
    if n_threads < 1:
        return 1
    return rows if rows < n_threads else n_threads


cdef inline Py_ssize_t chunk_start(Py_ssize_t rows, Py_ssize_t nc, Py_ssize_t t) noexcept nogil:
    return rows * t // nc
