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
#
# Shared blocks: a kernel whose threads may run at uneven speed (another
# process on a core, a thread woken late) can instead cut its rows into
# ``blocks(rows, nc, min_rows)`` smaller blocks that its ``nc`` threads take
# in turn from a shared counter (``next_block``, then ``finish_block`` after
# each), each thread keeping its scratch buffers from block to block: a
# thread that starts late or runs slowly simply takes fewer blocks, instead
# of the whole team waiting for its fixed share; each thread then calls
# ``leave_blocks``. Rows are still computed exactly as in one serial pass.

cdef extern from *:
    """
    #if defined(_MSC_VER)
    #include <intrin.h>
    #endif
    /* Returns *counter, then adds one: atomically when threads are in use. */
    static CYTHON_INLINE Py_ssize_t cvc_next_block(Py_ssize_t *counter)
    {
    #if defined(__GNUC__) || defined(__clang__)
        return __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
    #elif defined(_MSC_VER) && defined(_WIN64)
        return (Py_ssize_t)_InterlockedExchangeAdd64((volatile __int64 *)counter, 1);
    #else
        Py_ssize_t v;
        #if defined(_OPENMP)
        #pragma omp critical(cvc_next_block)
        #endif
        v = (*counter)++;
        return v;
    #endif
    }
    static CYTHON_INLINE Py_ssize_t cvc_load(Py_ssize_t *p)
    {
    #if defined(__GNUC__) || defined(__clang__)
        return __atomic_load_n(p, __ATOMIC_ACQUIRE);
    #else
        return *(volatile Py_ssize_t *)p;
    #endif
    }
    static CYTHON_INLINE void cvc_pause(void)
    {
    #if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
        __builtin_ia32_pause();
    #endif
    }
    """
    Py_ssize_t cvc_next_block(Py_ssize_t* counter) noexcept nogil
    Py_ssize_t cvc_load(Py_ssize_t* p) noexcept nogil
    void cvc_pause() noexcept nogil


cdef enum:
    # shared blocks per thread: enough for a late thread's share to be taken over
    BLOCKS_PER_THREAD = 8
    # pause instructions the first thread spins at most in leave_blocks (~50-150 us)
    LEAVE_SPINS = 4000


cdef inline Py_ssize_t chunks(Py_ssize_t rows, int n_threads) noexcept nogil:
    if rows < 1:
        return 0
    if n_threads < 1:
        return 1
    return rows if rows < n_threads else n_threads


cdef inline Py_ssize_t chunk_start(Py_ssize_t rows, Py_ssize_t nc, Py_ssize_t t) noexcept nogil:
    return rows * t // nc


cdef inline Py_ssize_t blocks(Py_ssize_t rows, Py_ssize_t nc, Py_ssize_t min_rows) noexcept nogil:
    """Shared blocks for ``nc`` threads over ``rows`` rows: one for a single
    thread, else about BLOCKS_PER_THREAD per thread, ``min_rows`` rows each on
    average (block ``b`` is rows ``block_start(rows, nb, b) .. block_start(rows, nb, b + 1)``)."""
    cdef Py_ssize_t nb
    if rows < 1:
        return 0
    if nc <= 1:
        return 1
    nb = rows // (min_rows if min_rows > 1 else 1)
    if nb > nc * BLOCKS_PER_THREAD:
        nb = nc * BLOCKS_PER_THREAD
    return nb if nb > 1 else 1


cdef inline Py_ssize_t block_start(Py_ssize_t rows, Py_ssize_t nb, Py_ssize_t b) noexcept nogil:
    """First row of shared block ``b`` of ``nb`` (``b == nb``: ``rows``). Blocks
    shrink from about twice the mean size to a small fraction of it (weights
    nb, nb - 1, ..., 1), like OpenMP's guided schedule: the threads take the
    large ones first and finish within a small block of each other."""
    return rows * (b * nb - b * (b - 1) // 2) // (nb * (nb + 1) // 2)


cdef inline Py_ssize_t next_block(Py_ssize_t* sync) noexcept nogil:
    """A thread's first block to compute (>= the number of blocks: none left).
    ``sync`` points to two counters shared by the team, zero at the start:
    the next block and the blocks done."""
    return cvc_next_block(sync)


cdef inline Py_ssize_t finish_block(Py_ssize_t* sync) noexcept nogil:
    """Counts the thread's block done and returns its next one."""
    cvc_next_block(sync + 1)
    return cvc_next_block(sync)


cdef inline void leave_blocks(Py_ssize_t* sync, Py_ssize_t nb, Py_ssize_t t) noexcept nogil:
    """Called by thread ``t`` when it has no more block. The first thread (the
    one that continues after the parallel region) waits a little for the
    blocks still being computed by others, so that it reaches the region's end
    barrier as they do instead of sleeping there until they wake it (tens of
    microseconds on a virtual machine: the whole gain of a second thread on a
    filter of 0.1 ms). It waits at most LEAVE_SPINS pauses, then sleeps at
    the barrier as before; it does not wait when every block is done (one
    thread, or a build without OpenMP)."""
    cdef int i
    if t != 0:
        return
    for i in range(LEAVE_SPINS):
        if cvc_load(sync + 1) >= nb:
            return
        cvc_pause()
