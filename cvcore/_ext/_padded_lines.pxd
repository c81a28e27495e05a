# Padded line buffers shared by the row kernels (_convolve, _rank, _edges).
#
# A padded line holds ``npad`` pixels of ``nch`` interleaved values: the image
# row at pixel ``left`` (``width`` pixels, already in place) and around it the
# border, whose pixel ``p`` copies the line's own pixel ``xmap[p]`` of the
# image (-1: ``cval``), as built by cvcore._filtering.index_map.
from libc.stdint cimport uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, uint64_t, int64_t

ctypedef fused line_t:
    uint8_t
    int8_t
    uint16_t
    int16_t
    uint32_t
    int32_t
    uint64_t
    int64_t
    float
    double


cdef inline void fill_border(line_t* line, const Py_ssize_t* xmap, Py_ssize_t left, Py_ssize_t width,
                             Py_ssize_t npad, Py_ssize_t nch, line_t cval) noexcept nogil:
    """Fill the border pixels of a padded line whose interior is in place."""
    cdef Py_ssize_t p = 0, c, s
    while p < npad:
        if p == left:   # skip the interior
            p = left + width
            continue
        s = xmap[p]
        for c in range(nch):
            line[p * nch + c] = line[(left + s) * nch + c] if s >= 0 else cval
        p += 1
