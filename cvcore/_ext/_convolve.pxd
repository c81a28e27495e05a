# Kernels other _ext modules may call directly (cimport), without Python overhead.
# wsum: out[i] = sum_t k[t] * (A[t][i] + sign * B[t][i]) (B may be NULL); out must not
# overlap any A[t] or B[t] (a few outputs are written twice).

cdef void wsum_f(float* out, Py_ssize_t n, Py_ssize_t nt, const float* k,
                 const float** A, const float** B, int sign) noexcept nogil
cdef void wsum_d(double* out, Py_ssize_t n, Py_ssize_t nt, const double* k,
                 const double** A, const double** B, int sign) noexcept nogil
