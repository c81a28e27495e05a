# Rank (order-statistic) filter kernels: median over a rectangular window.
#
# Same layout and border index maps as _convolve.pyx: the image is a
# C-contiguous (H, W * C) array, ``ymap``/``xmap`` give the source row/column
# of each padded position (-1 = outside, use ``cval``). Values are selected,
# never computed, so the filter runs in the input dtype. As there, a kernel
# fills ``out.shape[0]`` rows, so Python can run a band of rows per call.
# ``n_threads`` OpenMP threads share a call's rows, one block each with its own
# ring and scratch (see _parallel.pxd): results never depend on the count.
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy, memset
from cython.parallel cimport prange
from libc.stdint cimport (uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t,
                          uint64_t, int64_t)

from cvcore._ext._parallel cimport chunks, chunk_start
# every dtype a rank filter selects in: the padded lines' own fused type
from cvcore._ext._padded_lines cimport fill_border, line_t as rank_t


# Selection-network ops in C so that gcc turns each min/max loop into SIMD
# min/max instructions (a plain ternary on one line, no branches); compiled
# for x86-64-v3 as well and picked at run time (see _convolve.pyx).
cdef extern from *:
    """
    #include <stddef.h>
    #include <stdlib.h>  /* defines __GLIBC__ on glibc systems */
    #if defined(_MSC_VER) && !defined(restrict)
    #define restrict __restrict
    #endif
    /* ifunc-based dispatch needs GCC and glibc on x86-64 */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__)
    #if __GNUC__ >= 12
    #define CVR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
    #else
    #define CVR_CLONES __attribute__((target_clones("avx2", "default")))
    #endif
    #else
    #define CVR_CLONES
    #endif
    #define CVR_OPS(T, NAME)                                                              \\
    static CVR_CLONES void NAME(T *tmp, ptrdiff_t block, ptrdiff_t m,                    \\
                                const int *ops, ptrdiff_t nops)                          \\
    {                                                                                    \\
        for (ptrdiff_t o = 0; o < nops; o++) {                                           \\
            int kind = ops[3 * o];                                                       \\
            T *restrict a = tmp + (ptrdiff_t)ops[3 * o + 1] * block;                     \\
            T *restrict b = tmp + (ptrdiff_t)ops[3 * o + 2] * block;                     \\
            if (kind == 0) {                                                             \\
                for (ptrdiff_t k = 0; k < m; k++) {                                      \\
                    T u = a[k], v = b[k];                                                \\
                    a[k] = v < u ? v : u;  /* two compares: single min/max instructions */ \\
                    b[k] = u < v ? v : u;                                                \\
                }                                                                        \\
            } else if (kind == 1) {                                                      \\
                for (ptrdiff_t k = 0; k < m; k++) { T u = a[k], v = b[k]; a[k] = v < u ? v : u; } \\
            } else {                                                                     \\
                for (ptrdiff_t k = 0; k < m; k++) { T u = a[k], v = b[k]; b[k] = u < v ? v : u; } \\
            }                                                                            \\
        }                                                                                \\
    }
    #include <stdint.h>
    CVR_OPS(uint8_t, cvr_ops_u8)
    CVR_OPS(int8_t, cvr_ops_i8)
    CVR_OPS(uint16_t, cvr_ops_u16)
    CVR_OPS(int16_t, cvr_ops_i16)
    CVR_OPS(uint32_t, cvr_ops_u32)
    CVR_OPS(int32_t, cvr_ops_i32)
    CVR_OPS(uint64_t, cvr_ops_u64)
    CVR_OPS(int64_t, cvr_ops_i64)
    CVR_OPS(float, cvr_ops_f)
    CVR_OPS(double, cvr_ops_d)
    """
    void cvr_ops_u8(uint8_t* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops, Py_ssize_t nops) noexcept nogil
    void cvr_ops_i8(int8_t* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops, Py_ssize_t nops) noexcept nogil
    void cvr_ops_u16(uint16_t* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops, Py_ssize_t nops) noexcept nogil
    void cvr_ops_i16(int16_t* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops, Py_ssize_t nops) noexcept nogil
    void cvr_ops_u32(uint32_t* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops, Py_ssize_t nops) noexcept nogil
    void cvr_ops_i32(int32_t* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops, Py_ssize_t nops) noexcept nogil
    void cvr_ops_u64(uint64_t* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops, Py_ssize_t nops) noexcept nogil
    void cvr_ops_i64(int64_t* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops, Py_ssize_t nops) noexcept nogil
    void cvr_ops_f(float* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops, Py_ssize_t nops) noexcept nogil
    void cvr_ops_d(double* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops, Py_ssize_t nops) noexcept nogil


# Median of 3x3 and 5x5 windows (see median_small): generated selection
# networks (scripts/median_networks.py) run as straight-line min/max code in a
# loop over a row, which gcc vectorises; compiled for x86-64-v4 (AVX-512),
# x86-64-v3 (AVX2) and the baseline, picked at run time.
cdef extern from *:
    """
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__) && __GNUC__ >= 12
    #define CVR_CLONES4 __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
    #else
    #define CVR_CLONES4 CVR_CLONES
    #endif
    /* Two different comparisons, so that gcc does not share one compare between a
       min and a max and blend (it emits single min/max instructions for floats too). */
    #define CVR_MN(a, b) ((b) < (a) ? (b) : (a))
    #define CVR_MX(a, b) ((a) < (b) ? (b) : (a))
    /* BEGIN GENERATED NETWORKS (scripts/median_networks.py) */
    /* CVR_MED3_RAW1: 9 inputs, 1 outputs, 30 min/max operations */
    #define CVR_MED3_RAW1_IN const CVR_T *restrict cvr_in0 = cvr_src[0]; const CVR_T *restrict cvr_in1 = cvr_src[1]; \\
        const CVR_T *restrict cvr_in2 = cvr_src[2]; const CVR_T *restrict cvr_in3 = cvr_src[3]; \\
        const CVR_T *restrict cvr_in4 = cvr_src[4]; const CVR_T *restrict cvr_in5 = cvr_src[5]; \\
        const CVR_T *restrict cvr_in6 = cvr_src[6]; const CVR_T *restrict cvr_in7 = cvr_src[7]; \\
        const CVR_T *restrict cvr_in8 = cvr_src[8];
    #define CVR_MED3_RAW1_OUT CVR_T *restrict cvr_out0 = cvr_dst[0];
    #define CVR_MED3_RAW1 { CVR_T v0 = CVR_LD(cvr_in0[x]); CVR_T v1 = CVR_LD(cvr_in1[x]); CVR_T v2 = CVR_LD(cvr_in2[x]); \\
        CVR_T v3 = CVR_LD(cvr_in3[x]); CVR_T v4 = CVR_LD(cvr_in4[x]); CVR_T v5 = CVR_LD(cvr_in5[x]); \\
        CVR_T v6 = CVR_LD(cvr_in6[x]); CVR_T v7 = CVR_LD(cvr_in7[x]); CVR_T v8 = CVR_LD(cvr_in8[x]); \\
        CVR_T v9 = CVR_MN(v0, v1); CVR_T v10 = CVR_MX(v0, v1); CVR_T v11 = CVR_MN(v9, v2); \\
        CVR_T v12 = CVR_MX(v9, v2); CVR_T v13 = CVR_MN(v10, v12); CVR_T v14 = CVR_MX(v10, v12); \\
        CVR_T v15 = CVR_MN(v3, v4); CVR_T v16 = CVR_MX(v3, v4); CVR_T v17 = CVR_MN(v15, v5); \\
        CVR_T v18 = CVR_MX(v15, v5); CVR_T v19 = CVR_MN(v16, v18); CVR_T v20 = CVR_MX(v16, v18); \\
        CVR_T v21 = CVR_MN(v6, v7); CVR_T v22 = CVR_MX(v6, v7); CVR_T v23 = CVR_MN(v21, v8); \\
        CVR_T v24 = CVR_MX(v21, v8); CVR_T v25 = CVR_MN(v22, v24); CVR_T v26 = CVR_MX(v22, v24); \\
        CVR_T v28 = CVR_MX(v17, v23); CVR_T v29 = CVR_MN(v20, v26); CVR_T v31 = CVR_MN(v19, v25); \\
        CVR_T v32 = CVR_MX(v19, v25); CVR_T v33 = CVR_MN(v32, v13); CVR_T v36 = CVR_MX(v31, v33); \\
        CVR_T v38 = CVR_MX(v28, v11); CVR_T v39 = CVR_MN(v29, v14); CVR_T v41 = CVR_MN(v38, v36); \\
        CVR_T v42 = CVR_MX(v38, v36); CVR_T v43 = CVR_MN(v42, v39); CVR_T v46 = CVR_MX(v41, v43); \\
        cvr_out0[x] = v46; }
    /* CVR_MED3_RAW2: 12 inputs, 2 outputs, 44 min/max operations */
    #define CVR_MED3_RAW2_IN const CVR_T *restrict cvr_in0 = cvr_src[0]; const CVR_T *restrict cvr_in1 = cvr_src[1]; \\
        const CVR_T *restrict cvr_in2 = cvr_src[2]; const CVR_T *restrict cvr_in3 = cvr_src[3]; \\
        const CVR_T *restrict cvr_in4 = cvr_src[4]; const CVR_T *restrict cvr_in5 = cvr_src[5]; \\
        const CVR_T *restrict cvr_in6 = cvr_src[6]; const CVR_T *restrict cvr_in7 = cvr_src[7]; \\
        const CVR_T *restrict cvr_in8 = cvr_src[8]; const CVR_T *restrict cvr_in9 = cvr_src[9]; \\
        const CVR_T *restrict cvr_in10 = cvr_src[10]; const CVR_T *restrict cvr_in11 = cvr_src[11];
    #define CVR_MED3_RAW2_OUT CVR_T *restrict cvr_out0 = cvr_dst[0]; CVR_T *restrict cvr_out1 = cvr_dst[1];
    #define CVR_MED3_RAW2 { CVR_T v0 = CVR_LD(cvr_in0[x]); CVR_T v1 = CVR_LD(cvr_in1[x]); CVR_T v2 = CVR_LD(cvr_in2[x]); \\
        CVR_T v3 = CVR_LD(cvr_in3[x]); CVR_T v4 = CVR_LD(cvr_in4[x]); CVR_T v5 = CVR_LD(cvr_in5[x]); \\
        CVR_T v6 = CVR_LD(cvr_in6[x]); CVR_T v7 = CVR_LD(cvr_in7[x]); CVR_T v8 = CVR_LD(cvr_in8[x]); \\
        CVR_T v9 = CVR_LD(cvr_in9[x]); CVR_T v10 = CVR_LD(cvr_in10[x]); CVR_T v11 = CVR_LD(cvr_in11[x]); \\
        CVR_T v12 = CVR_MN(v0, v1); CVR_T v13 = CVR_MX(v0, v1); CVR_T v14 = CVR_MN(v12, v2); \\
        CVR_T v15 = CVR_MX(v12, v2); CVR_T v16 = CVR_MN(v13, v15); CVR_T v17 = CVR_MX(v13, v15); \\
        CVR_T v18 = CVR_MN(v3, v4); CVR_T v19 = CVR_MX(v3, v4); CVR_T v20 = CVR_MN(v18, v5); \\
        CVR_T v21 = CVR_MX(v18, v5); CVR_T v22 = CVR_MN(v19, v21); CVR_T v23 = CVR_MX(v19, v21); \\
        CVR_T v24 = CVR_MN(v6, v7); CVR_T v25 = CVR_MX(v6, v7); CVR_T v26 = CVR_MN(v24, v8); \\
        CVR_T v27 = CVR_MX(v24, v8); CVR_T v28 = CVR_MN(v25, v27); CVR_T v29 = CVR_MX(v25, v27); \\
        CVR_T v30 = CVR_MN(v9, v10); CVR_T v31 = CVR_MX(v9, v10); CVR_T v32 = CVR_MN(v30, v11); \\
        CVR_T v33 = CVR_MX(v30, v11); CVR_T v34 = CVR_MN(v31, v33); CVR_T v35 = CVR_MX(v31, v33); \\
        CVR_T v37 = CVR_MX(v20, v26); CVR_T v38 = CVR_MN(v23, v29); CVR_T v40 = CVR_MN(v22, v28); \\
        CVR_T v41 = CVR_MX(v22, v28); CVR_T v42 = CVR_MN(v41, v16); CVR_T v45 = CVR_MX(v40, v42); \\
        CVR_T v47 = CVR_MX(v37, v14); CVR_T v48 = CVR_MN(v38, v17); CVR_T v50 = CVR_MN(v47, v45); \\
        CVR_T v51 = CVR_MX(v47, v45); CVR_T v52 = CVR_MN(v51, v48); CVR_T v55 = CVR_MX(v50, v52); \\
        CVR_T v56 = CVR_MN(v41, v34); CVR_T v59 = CVR_MX(v40, v56); CVR_T v61 = CVR_MX(v37, v32); \\
        CVR_T v62 = CVR_MN(v38, v35); CVR_T v64 = CVR_MN(v61, v59); CVR_T v65 = CVR_MX(v61, v59); \\
        CVR_T v66 = CVR_MN(v65, v62); CVR_T v69 = CVR_MX(v64, v66); cvr_out0[x] = v55; cvr_out1[x] = v69; }
    /* CVR_MED3_RAW4: 18 inputs, 4 outputs, 76 min/max operations */
    #define CVR_MED3_RAW4_IN const CVR_T *restrict cvr_in0 = cvr_src[0]; const CVR_T *restrict cvr_in1 = cvr_src[1]; \\
        const CVR_T *restrict cvr_in2 = cvr_src[2]; const CVR_T *restrict cvr_in3 = cvr_src[3]; \\
        const CVR_T *restrict cvr_in4 = cvr_src[4]; const CVR_T *restrict cvr_in5 = cvr_src[5]; \\
        const CVR_T *restrict cvr_in6 = cvr_src[6]; const CVR_T *restrict cvr_in7 = cvr_src[7]; \\
        const CVR_T *restrict cvr_in8 = cvr_src[8]; const CVR_T *restrict cvr_in9 = cvr_src[9]; \\
        const CVR_T *restrict cvr_in10 = cvr_src[10]; const CVR_T *restrict cvr_in11 = cvr_src[11]; \\
        const CVR_T *restrict cvr_in12 = cvr_src[12]; const CVR_T *restrict cvr_in13 = cvr_src[13]; \\
        const CVR_T *restrict cvr_in14 = cvr_src[14]; const CVR_T *restrict cvr_in15 = cvr_src[15]; \\
        const CVR_T *restrict cvr_in16 = cvr_src[16]; const CVR_T *restrict cvr_in17 = cvr_src[17];
    #define CVR_MED3_RAW4_OUT CVR_T *restrict cvr_out0 = cvr_dst[0]; CVR_T *restrict cvr_out1 = cvr_dst[1]; \\
        CVR_T *restrict cvr_out2 = cvr_dst[2]; CVR_T *restrict cvr_out3 = cvr_dst[3];
    #define CVR_MED3_RAW4 { CVR_T v0 = CVR_LD(cvr_in0[x]); CVR_T v1 = CVR_LD(cvr_in1[x]); CVR_T v2 = CVR_LD(cvr_in2[x]); \\
        CVR_T v3 = CVR_LD(cvr_in3[x]); CVR_T v4 = CVR_LD(cvr_in4[x]); CVR_T v5 = CVR_LD(cvr_in5[x]); \\
        CVR_T v6 = CVR_LD(cvr_in6[x]); CVR_T v7 = CVR_LD(cvr_in7[x]); CVR_T v8 = CVR_LD(cvr_in8[x]); \\
        CVR_T v9 = CVR_LD(cvr_in9[x]); CVR_T v10 = CVR_LD(cvr_in10[x]); CVR_T v11 = CVR_LD(cvr_in11[x]); \\
        CVR_T v12 = CVR_LD(cvr_in12[x]); CVR_T v13 = CVR_LD(cvr_in13[x]); CVR_T v14 = CVR_LD(cvr_in14[x]); \\
        CVR_T v15 = CVR_LD(cvr_in15[x]); CVR_T v16 = CVR_LD(cvr_in16[x]); CVR_T v17 = CVR_LD(cvr_in17[x]); \\
        CVR_T v18 = CVR_MN(v0, v1); CVR_T v19 = CVR_MX(v0, v1); CVR_T v20 = CVR_MN(v18, v2); \\
        CVR_T v21 = CVR_MX(v18, v2); CVR_T v22 = CVR_MN(v19, v21); CVR_T v23 = CVR_MX(v19, v21); \\
        CVR_T v24 = CVR_MN(v3, v4); CVR_T v25 = CVR_MX(v3, v4); CVR_T v26 = CVR_MN(v24, v5); \\
        CVR_T v27 = CVR_MX(v24, v5); CVR_T v28 = CVR_MN(v25, v27); CVR_T v29 = CVR_MX(v25, v27); \\
        CVR_T v30 = CVR_MN(v6, v7); CVR_T v31 = CVR_MX(v6, v7); CVR_T v32 = CVR_MN(v30, v8); \\
        CVR_T v33 = CVR_MX(v30, v8); CVR_T v34 = CVR_MN(v31, v33); CVR_T v35 = CVR_MX(v31, v33); \\
        CVR_T v36 = CVR_MN(v9, v10); CVR_T v37 = CVR_MX(v9, v10); CVR_T v38 = CVR_MN(v36, v11); \\
        CVR_T v39 = CVR_MX(v36, v11); CVR_T v40 = CVR_MN(v37, v39); CVR_T v41 = CVR_MX(v37, v39); \\
        CVR_T v42 = CVR_MN(v12, v13); CVR_T v43 = CVR_MX(v12, v13); CVR_T v44 = CVR_MN(v42, v14); \\
        CVR_T v45 = CVR_MX(v42, v14); CVR_T v46 = CVR_MN(v43, v45); CVR_T v47 = CVR_MX(v43, v45); \\
        CVR_T v48 = CVR_MN(v15, v16); CVR_T v49 = CVR_MX(v15, v16); CVR_T v50 = CVR_MN(v48, v17); \\
        CVR_T v51 = CVR_MX(v48, v17); CVR_T v52 = CVR_MN(v49, v51); CVR_T v53 = CVR_MX(v49, v51); \\
        CVR_T v55 = CVR_MX(v26, v32); CVR_T v56 = CVR_MN(v29, v35); CVR_T v58 = CVR_MN(v28, v34); \\
        CVR_T v59 = CVR_MX(v28, v34); CVR_T v60 = CVR_MN(v59, v22); CVR_T v63 = CVR_MX(v58, v60); \\
        CVR_T v65 = CVR_MX(v55, v20); CVR_T v66 = CVR_MN(v56, v23); CVR_T v68 = CVR_MN(v65, v63); \\
        CVR_T v69 = CVR_MX(v65, v63); CVR_T v70 = CVR_MN(v69, v66); CVR_T v73 = CVR_MX(v68, v70); \\
        CVR_T v74 = CVR_MN(v59, v40); CVR_T v77 = CVR_MX(v58, v74); CVR_T v79 = CVR_MX(v55, v38); \\
        CVR_T v80 = CVR_MN(v56, v41); CVR_T v82 = CVR_MN(v79, v77); CVR_T v83 = CVR_MX(v79, v77); \\
        CVR_T v84 = CVR_MN(v83, v80); CVR_T v87 = CVR_MX(v82, v84); CVR_T v89 = CVR_MX(v38, v44); \\
        CVR_T v90 = CVR_MN(v41, v47); CVR_T v92 = CVR_MN(v40, v46); CVR_T v93 = CVR_MX(v40, v46); \\
        CVR_T v94 = CVR_MN(v93, v34); CVR_T v97 = CVR_MX(v92, v94); CVR_T v99 = CVR_MX(v89, v32); \\
        CVR_T v100 = CVR_MN(v90, v35); CVR_T v102 = CVR_MN(v99, v97); CVR_T v103 = CVR_MX(v99, v97); \\
        CVR_T v104 = CVR_MN(v103, v100); CVR_T v107 = CVR_MX(v102, v104); CVR_T v108 = CVR_MN(v93, v52); \\
        CVR_T v111 = CVR_MX(v92, v108); CVR_T v113 = CVR_MX(v89, v50); CVR_T v114 = CVR_MN(v90, v53); \\
        CVR_T v116 = CVR_MN(v113, v111); CVR_T v117 = CVR_MX(v113, v111); CVR_T v118 = CVR_MN(v117, v114); \\
        CVR_T v121 = CVR_MX(v116, v118); cvr_out0[x] = v73; cvr_out1[x] = v87; cvr_out2[x] = v107; \\
        cvr_out3[x] = v121; }
    /* CVR_SORT5: 5 inputs, 5 outputs, 18 min/max operations */
    #define CVR_SORT5_IN const CVR_T *restrict cvr_in0 = cvr_src[0]; const CVR_T *restrict cvr_in1 = cvr_src[1]; \\
        const CVR_T *restrict cvr_in2 = cvr_src[2]; const CVR_T *restrict cvr_in3 = cvr_src[3]; \\
        const CVR_T *restrict cvr_in4 = cvr_src[4];
    #define CVR_SORT5_OUT CVR_T *restrict cvr_out0 = cvr_dst[0]; CVR_T *restrict cvr_out1 = cvr_dst[1]; \\
        CVR_T *restrict cvr_out2 = cvr_dst[2]; CVR_T *restrict cvr_out3 = cvr_dst[3]; \\
        CVR_T *restrict cvr_out4 = cvr_dst[4];
    #define CVR_SORT5 { CVR_T v0 = CVR_LD(cvr_in0[x]); CVR_T v1 = CVR_LD(cvr_in1[x]); CVR_T v2 = CVR_LD(cvr_in2[x]); \\
        CVR_T v3 = CVR_LD(cvr_in3[x]); CVR_T v4 = CVR_LD(cvr_in4[x]); CVR_T v5 = CVR_MN(v0, v1); \\
        CVR_T v6 = CVR_MX(v0, v1); CVR_T v7 = CVR_MN(v2, v3); CVR_T v8 = CVR_MX(v2, v3); \\
        CVR_T v9 = CVR_MN(v5, v7); CVR_T v10 = CVR_MX(v5, v7); CVR_T v11 = CVR_MN(v6, v8); \\
        CVR_T v12 = CVR_MX(v6, v8); CVR_T v13 = CVR_MN(v11, v10); CVR_T v14 = CVR_MX(v11, v10); \\
        CVR_T v15 = CVR_MN(v9, v4); CVR_T v16 = CVR_MX(v9, v4); CVR_T v17 = CVR_MN(v14, v16); \\
        CVR_T v18 = CVR_MX(v14, v16); CVR_T v19 = CVR_MN(v13, v17); CVR_T v20 = CVR_MX(v13, v17); \\
        CVR_T v21 = CVR_MN(v12, v18); CVR_T v22 = CVR_MX(v12, v18); cvr_out0[x] = v15; cvr_out1[x] = v19; \\
        cvr_out2[x] = v20; cvr_out3[x] = v21; cvr_out4[x] = v22; }
    /* CVR_MED5: 25 inputs, 1 outputs, 140 min/max operations */
    #define CVR_MED5_IN const CVR_T *restrict cvr_in0 = cvr_src[0]; const CVR_T *restrict cvr_in1 = cvr_src[1]; \\
        const CVR_T *restrict cvr_in2 = cvr_src[2]; const CVR_T *restrict cvr_in3 = cvr_src[3]; \\
        const CVR_T *restrict cvr_in4 = cvr_src[4]; const CVR_T *restrict cvr_in5 = cvr_src[5]; \\
        const CVR_T *restrict cvr_in6 = cvr_src[6]; const CVR_T *restrict cvr_in7 = cvr_src[7]; \\
        const CVR_T *restrict cvr_in8 = cvr_src[8]; const CVR_T *restrict cvr_in9 = cvr_src[9]; \\
        const CVR_T *restrict cvr_in10 = cvr_src[10]; const CVR_T *restrict cvr_in11 = cvr_src[11]; \\
        const CVR_T *restrict cvr_in12 = cvr_src[12]; const CVR_T *restrict cvr_in13 = cvr_src[13]; \\
        const CVR_T *restrict cvr_in14 = cvr_src[14]; const CVR_T *restrict cvr_in15 = cvr_src[15]; \\
        const CVR_T *restrict cvr_in16 = cvr_src[16]; const CVR_T *restrict cvr_in17 = cvr_src[17]; \\
        const CVR_T *restrict cvr_in18 = cvr_src[18]; const CVR_T *restrict cvr_in19 = cvr_src[19]; \\
        const CVR_T *restrict cvr_in20 = cvr_src[20]; const CVR_T *restrict cvr_in21 = cvr_src[21]; \\
        const CVR_T *restrict cvr_in22 = cvr_src[22]; const CVR_T *restrict cvr_in23 = cvr_src[23]; \\
        const CVR_T *restrict cvr_in24 = cvr_src[24];
    #define CVR_MED5_OUT CVR_T *restrict cvr_out0 = cvr_dst[0];
    #define CVR_MED5 { CVR_T v0 = CVR_LD(cvr_in0[x]); CVR_T v1 = CVR_LD(cvr_in1[x]); CVR_T v2 = CVR_LD(cvr_in2[x]); \\
        CVR_T v3 = CVR_LD(cvr_in3[x]); CVR_T v4 = CVR_LD(cvr_in4[x]); CVR_T v5 = CVR_LD(cvr_in5[x]); \\
        CVR_T v6 = CVR_LD(cvr_in6[x]); CVR_T v7 = CVR_LD(cvr_in7[x]); CVR_T v8 = CVR_LD(cvr_in8[x]); \\
        CVR_T v9 = CVR_LD(cvr_in9[x]); CVR_T v10 = CVR_LD(cvr_in10[x]); CVR_T v11 = CVR_LD(cvr_in11[x]); \\
        CVR_T v12 = CVR_LD(cvr_in12[x]); CVR_T v13 = CVR_LD(cvr_in13[x]); CVR_T v14 = CVR_LD(cvr_in14[x]); \\
        CVR_T v15 = CVR_LD(cvr_in15[x]); CVR_T v16 = CVR_LD(cvr_in16[x]); CVR_T v17 = CVR_LD(cvr_in17[x]); \\
        CVR_T v18 = CVR_LD(cvr_in18[x]); CVR_T v19 = CVR_LD(cvr_in19[x]); CVR_T v20 = CVR_LD(cvr_in20[x]); \\
        CVR_T v21 = CVR_LD(cvr_in21[x]); CVR_T v22 = CVR_LD(cvr_in22[x]); CVR_T v23 = CVR_LD(cvr_in23[x]); \\
        CVR_T v24 = CVR_LD(cvr_in24[x]); CVR_T v25 = CVR_MN(v0, v5); CVR_T v26 = CVR_MX(v0, v5); \\
        CVR_T v27 = CVR_MN(v4, v9); CVR_T v28 = CVR_MX(v4, v9); CVR_T v29 = CVR_MN(v27, v26); \\
        CVR_T v30 = CVR_MX(v27, v26); CVR_T v31 = CVR_MN(v2, v7); CVR_T v32 = CVR_MX(v2, v7); \\
        CVR_T v33 = CVR_MN(v31, v29); CVR_T v34 = CVR_MX(v31, v29); CVR_T v35 = CVR_MN(v32, v30); \\
        CVR_T v36 = CVR_MX(v32, v30); CVR_T v37 = CVR_MN(v1, v6); CVR_T v38 = CVR_MX(v1, v6); \\
        CVR_T v39 = CVR_MN(v3, v8); CVR_T v40 = CVR_MX(v3, v8); CVR_T v41 = CVR_MN(v39, v38); \\
        CVR_T v42 = CVR_MX(v39, v38); CVR_T v43 = CVR_MN(v37, v33); CVR_T v44 = CVR_MX(v37, v33); \\
        CVR_T v45 = CVR_MN(v41, v34); CVR_T v46 = CVR_MX(v41, v34); CVR_T v47 = CVR_MN(v42, v35); \\
        CVR_T v48 = CVR_MX(v42, v35); CVR_T v49 = CVR_MN(v40, v36); CVR_T v50 = CVR_MX(v40, v36); \\
        CVR_T v51 = CVR_MN(v10, v15); CVR_T v52 = CVR_MX(v10, v15); CVR_T v53 = CVR_MN(v14, v19); \\
        CVR_T v54 = CVR_MX(v14, v19); CVR_T v55 = CVR_MN(v53, v52); CVR_T v56 = CVR_MX(v53, v52); \\
        CVR_T v57 = CVR_MN(v12, v17); CVR_T v58 = CVR_MX(v12, v17); CVR_T v59 = CVR_MN(v57, v55); \\
        CVR_T v60 = CVR_MX(v57, v55); CVR_T v61 = CVR_MN(v58, v56); CVR_T v62 = CVR_MX(v58, v56); \\
        CVR_T v63 = CVR_MN(v11, v16); CVR_T v64 = CVR_MX(v11, v16); CVR_T v65 = CVR_MN(v13, v18); \\
        CVR_T v66 = CVR_MX(v13, v18); CVR_T v67 = CVR_MN(v65, v64); CVR_T v68 = CVR_MX(v65, v64); \\
        CVR_T v69 = CVR_MN(v63, v59); CVR_T v70 = CVR_MX(v63, v59); CVR_T v71 = CVR_MN(v67, v60); \\
        CVR_T v72 = CVR_MX(v67, v60); CVR_T v73 = CVR_MN(v68, v61); CVR_T v74 = CVR_MX(v68, v61); \\
        CVR_T v75 = CVR_MN(v66, v62); CVR_T v76 = CVR_MX(v66, v62); CVR_T v77 = CVR_MN(v25, v51); \\
        CVR_T v78 = CVR_MX(v25, v51); CVR_T v79 = CVR_MN(v50, v76); CVR_T v80 = CVR_MX(v50, v76); \\
        CVR_T v81 = CVR_MN(v79, v78); CVR_T v82 = CVR_MX(v79, v78); CVR_T v83 = CVR_MN(v46, v72); \\
        CVR_T v84 = CVR_MX(v46, v72); CVR_T v85 = CVR_MN(v83, v81); CVR_T v86 = CVR_MX(v83, v81); \\
        CVR_T v87 = CVR_MN(v84, v82); CVR_T v88 = CVR_MX(v84, v82); CVR_T v89 = CVR_MN(v44, v70); \\
        CVR_T v90 = CVR_MX(v44, v70); CVR_T v91 = CVR_MN(v48, v74); CVR_T v92 = CVR_MX(v48, v74); \\
        CVR_T v93 = CVR_MN(v91, v90); CVR_T v94 = CVR_MX(v91, v90); CVR_T v95 = CVR_MN(v89, v85); \\
        CVR_T v96 = CVR_MX(v89, v85); CVR_T v97 = CVR_MN(v93, v86); CVR_T v98 = CVR_MX(v93, v86); \\
        CVR_T v99 = CVR_MN(v94, v87); CVR_T v100 = CVR_MX(v94, v87); CVR_T v101 = CVR_MN(v92, v88); \\
        CVR_T v102 = CVR_MX(v92, v88); CVR_T v103 = CVR_MN(v43, v69); CVR_T v104 = CVR_MX(v43, v69); \\
        CVR_T v105 = CVR_MN(v28, v54); CVR_T v106 = CVR_MX(v28, v54); CVR_T v107 = CVR_MN(v105, v104); \\
        CVR_T v108 = CVR_MX(v105, v104); CVR_T v109 = CVR_MN(v47, v73); CVR_T v110 = CVR_MX(v47, v73); \\
        CVR_T v111 = CVR_MN(v109, v107); CVR_T v112 = CVR_MX(v109, v107); CVR_T v113 = CVR_MN(v110, v108); \\
        CVR_T v114 = CVR_MX(v110, v108); CVR_T v115 = CVR_MN(v45, v71); CVR_T v116 = CVR_MX(v45, v71); \\
        CVR_T v117 = CVR_MN(v49, v75); CVR_T v118 = CVR_MX(v49, v75); CVR_T v119 = CVR_MN(v117, v116); \\
        CVR_T v120 = CVR_MX(v117, v116); CVR_T v121 = CVR_MN(v115, v111); CVR_T v122 = CVR_MX(v115, v111); \\
        CVR_T v123 = CVR_MN(v119, v112); CVR_T v124 = CVR_MX(v119, v112); CVR_T v125 = CVR_MN(v120, v113); \\
        CVR_T v126 = CVR_MX(v120, v113); CVR_T v127 = CVR_MN(v118, v114); CVR_T v128 = CVR_MX(v118, v114); \\
        CVR_T v129 = CVR_MN(v103, v95); CVR_T v130 = CVR_MX(v103, v95); CVR_T v131 = CVR_MN(v121, v96); \\
        CVR_T v132 = CVR_MX(v121, v96); CVR_T v134 = CVR_MX(v122, v97); CVR_T v135 = CVR_MN(v123, v98); \\
        CVR_T v136 = CVR_MX(v123, v98); CVR_T v137 = CVR_MN(v124, v99); CVR_T v138 = CVR_MX(v124, v99); \\
        CVR_T v139 = CVR_MN(v125, v100); CVR_T v140 = CVR_MX(v125, v100); CVR_T v141 = CVR_MN(v126, v101); \\
        CVR_T v144 = CVR_MX(v127, v102); CVR_T v145 = CVR_MN(v128, v80); CVR_T v146 = CVR_MX(v128, v80); \\
        CVR_T v148 = CVR_MX(v77, v20); CVR_T v149 = CVR_MN(v144, v148); CVR_T v152 = CVR_MX(v136, v149); \\
        CVR_T v154 = CVR_MX(v132, v24); CVR_T v155 = CVR_MN(v140, v154); CVR_T v159 = CVR_MN(v155, v152); \\
        CVR_T v164 = CVR_MX(v130, v22); CVR_T v165 = CVR_MN(v146, v164); CVR_T v167 = CVR_MN(v138, v165); \\
        CVR_T v170 = CVR_MX(v134, v167); CVR_T v178 = CVR_MX(v170, v159); CVR_T v186 = CVR_MX(v129, v21); \\
        CVR_T v187 = CVR_MN(v145, v186); CVR_T v190 = CVR_MX(v137, v187); CVR_T v193 = CVR_MN(v141, v190); \\
        CVR_T v196 = CVR_MX(v131, v23); CVR_T v197 = CVR_MN(v106, v196); CVR_T v199 = CVR_MN(v139, v197); \\
        CVR_T v202 = CVR_MX(v135, v199); CVR_T v209 = CVR_MN(v202, v193); CVR_T v226 = CVR_MX(v209, v178); \\
        cvr_out0[x] = v226; }
    /* CVR_MED5_PAIR: 30 inputs, 2 outputs, 161 min/max operations */
    #define CVR_MED5_PAIR_IN const CVR_T *restrict cvr_in0 = cvr_src[0]; const CVR_T *restrict cvr_in1 = cvr_src[1]; \\
        const CVR_T *restrict cvr_in2 = cvr_src[2]; const CVR_T *restrict cvr_in3 = cvr_src[3]; \\
        const CVR_T *restrict cvr_in4 = cvr_src[4]; const CVR_T *restrict cvr_in5 = cvr_src[5]; \\
        const CVR_T *restrict cvr_in6 = cvr_src[6]; const CVR_T *restrict cvr_in7 = cvr_src[7]; \\
        const CVR_T *restrict cvr_in8 = cvr_src[8]; const CVR_T *restrict cvr_in9 = cvr_src[9]; \\
        const CVR_T *restrict cvr_in10 = cvr_src[10]; const CVR_T *restrict cvr_in11 = cvr_src[11]; \\
        const CVR_T *restrict cvr_in12 = cvr_src[12]; const CVR_T *restrict cvr_in13 = cvr_src[13]; \\
        const CVR_T *restrict cvr_in14 = cvr_src[14]; const CVR_T *restrict cvr_in15 = cvr_src[15]; \\
        const CVR_T *restrict cvr_in16 = cvr_src[16]; const CVR_T *restrict cvr_in17 = cvr_src[17]; \\
        const CVR_T *restrict cvr_in18 = cvr_src[18]; const CVR_T *restrict cvr_in19 = cvr_src[19]; \\
        const CVR_T *restrict cvr_in20 = cvr_src[20]; const CVR_T *restrict cvr_in21 = cvr_src[21]; \\
        const CVR_T *restrict cvr_in22 = cvr_src[22]; const CVR_T *restrict cvr_in23 = cvr_src[23]; \\
        const CVR_T *restrict cvr_in24 = cvr_src[24]; const CVR_T *restrict cvr_in25 = cvr_src[25]; \\
        const CVR_T *restrict cvr_in26 = cvr_src[26]; const CVR_T *restrict cvr_in27 = cvr_src[27]; \\
        const CVR_T *restrict cvr_in28 = cvr_src[28]; const CVR_T *restrict cvr_in29 = cvr_src[29];
    #define CVR_MED5_PAIR_OUT CVR_T *restrict cvr_out0 = cvr_dst[0]; CVR_T *restrict cvr_out1 = cvr_dst[1];
    #define CVR_MED5_PAIR { CVR_T v0 = CVR_LD(cvr_in0[x]); CVR_T v1 = CVR_LD(cvr_in1[x]); CVR_T v2 = CVR_LD(cvr_in2[x]); \\
        CVR_T v3 = CVR_LD(cvr_in3[x]); CVR_T v4 = CVR_LD(cvr_in4[x]); CVR_T v5 = CVR_LD(cvr_in5[x]); \\
        CVR_T v6 = CVR_LD(cvr_in6[x]); CVR_T v7 = CVR_LD(cvr_in7[x]); CVR_T v8 = CVR_LD(cvr_in8[x]); \\
        CVR_T v9 = CVR_LD(cvr_in9[x]); CVR_T v10 = CVR_LD(cvr_in10[x]); CVR_T v11 = CVR_LD(cvr_in11[x]); \\
        CVR_T v12 = CVR_LD(cvr_in12[x]); CVR_T v13 = CVR_LD(cvr_in13[x]); CVR_T v14 = CVR_LD(cvr_in14[x]); \\
        CVR_T v15 = CVR_LD(cvr_in15[x]); CVR_T v16 = CVR_LD(cvr_in16[x]); CVR_T v17 = CVR_LD(cvr_in17[x]); \\
        CVR_T v18 = CVR_LD(cvr_in18[x]); CVR_T v19 = CVR_LD(cvr_in19[x]); CVR_T v20 = CVR_LD(cvr_in20[x]); \\
        CVR_T v21 = CVR_LD(cvr_in21[x]); CVR_T v22 = CVR_LD(cvr_in22[x]); CVR_T v23 = CVR_LD(cvr_in23[x]); \\
        CVR_T v24 = CVR_LD(cvr_in24[x]); CVR_T v25 = CVR_LD(cvr_in25[x]); CVR_T v26 = CVR_LD(cvr_in26[x]); \\
        CVR_T v27 = CVR_LD(cvr_in27[x]); CVR_T v28 = CVR_LD(cvr_in28[x]); CVR_T v29 = CVR_LD(cvr_in29[x]); \\
        CVR_T v30 = CVR_MN(v5, v10); CVR_T v31 = CVR_MX(v5, v10); CVR_T v32 = CVR_MN(v9, v14); \\
        CVR_T v33 = CVR_MX(v9, v14); CVR_T v34 = CVR_MN(v32, v31); CVR_T v35 = CVR_MX(v32, v31); \\
        CVR_T v36 = CVR_MN(v7, v12); CVR_T v37 = CVR_MX(v7, v12); CVR_T v38 = CVR_MN(v36, v34); \\
        CVR_T v39 = CVR_MX(v36, v34); CVR_T v40 = CVR_MN(v37, v35); CVR_T v41 = CVR_MX(v37, v35); \\
        CVR_T v42 = CVR_MN(v6, v11); CVR_T v43 = CVR_MX(v6, v11); CVR_T v44 = CVR_MN(v8, v13); \\
        CVR_T v45 = CVR_MX(v8, v13); CVR_T v46 = CVR_MN(v44, v43); CVR_T v47 = CVR_MX(v44, v43); \\
        CVR_T v48 = CVR_MN(v42, v38); CVR_T v49 = CVR_MX(v42, v38); CVR_T v50 = CVR_MN(v46, v39); \\
        CVR_T v51 = CVR_MX(v46, v39); CVR_T v52 = CVR_MN(v47, v40); CVR_T v53 = CVR_MX(v47, v40); \\
        CVR_T v54 = CVR_MN(v45, v41); CVR_T v55 = CVR_MX(v45, v41); CVR_T v56 = CVR_MN(v15, v20); \\
        CVR_T v57 = CVR_MX(v15, v20); CVR_T v58 = CVR_MN(v19, v24); CVR_T v59 = CVR_MX(v19, v24); \\
        CVR_T v60 = CVR_MN(v58, v57); CVR_T v61 = CVR_MX(v58, v57); CVR_T v62 = CVR_MN(v17, v22); \\
        CVR_T v63 = CVR_MX(v17, v22); CVR_T v64 = CVR_MN(v62, v60); CVR_T v65 = CVR_MX(v62, v60); \\
        CVR_T v66 = CVR_MN(v63, v61); CVR_T v67 = CVR_MX(v63, v61); CVR_T v68 = CVR_MN(v16, v21); \\
        CVR_T v69 = CVR_MX(v16, v21); CVR_T v70 = CVR_MN(v18, v23); CVR_T v71 = CVR_MX(v18, v23); \\
        CVR_T v72 = CVR_MN(v70, v69); CVR_T v73 = CVR_MX(v70, v69); CVR_T v74 = CVR_MN(v68, v64); \\
        CVR_T v75 = CVR_MX(v68, v64); CVR_T v76 = CVR_MN(v72, v65); CVR_T v77 = CVR_MX(v72, v65); \\
        CVR_T v78 = CVR_MN(v73, v66); CVR_T v79 = CVR_MX(v73, v66); CVR_T v80 = CVR_MN(v71, v67); \\
        CVR_T v81 = CVR_MX(v71, v67); CVR_T v82 = CVR_MN(v30, v56); CVR_T v83 = CVR_MX(v30, v56); \\
        CVR_T v84 = CVR_MN(v55, v81); CVR_T v85 = CVR_MX(v55, v81); CVR_T v86 = CVR_MN(v84, v83); \\
        CVR_T v87 = CVR_MX(v84, v83); CVR_T v88 = CVR_MN(v51, v77); CVR_T v89 = CVR_MX(v51, v77); \\
        CVR_T v90 = CVR_MN(v88, v86); CVR_T v91 = CVR_MX(v88, v86); CVR_T v92 = CVR_MN(v89, v87); \\
        CVR_T v93 = CVR_MX(v89, v87); CVR_T v94 = CVR_MN(v49, v75); CVR_T v95 = CVR_MX(v49, v75); \\
        CVR_T v96 = CVR_MN(v53, v79); CVR_T v97 = CVR_MX(v53, v79); CVR_T v98 = CVR_MN(v96, v95); \\
        CVR_T v99 = CVR_MX(v96, v95); CVR_T v100 = CVR_MN(v94, v90); CVR_T v101 = CVR_MX(v94, v90); \\
        CVR_T v102 = CVR_MN(v98, v91); CVR_T v103 = CVR_MX(v98, v91); CVR_T v104 = CVR_MN(v99, v92); \\
        CVR_T v105 = CVR_MX(v99, v92); CVR_T v106 = CVR_MN(v97, v93); CVR_T v107 = CVR_MX(v97, v93); \\
        CVR_T v108 = CVR_MN(v48, v74); CVR_T v109 = CVR_MX(v48, v74); CVR_T v110 = CVR_MN(v33, v59); \\
        CVR_T v111 = CVR_MX(v33, v59); CVR_T v112 = CVR_MN(v110, v109); CVR_T v113 = CVR_MX(v110, v109); \\
        CVR_T v114 = CVR_MN(v52, v78); CVR_T v115 = CVR_MX(v52, v78); CVR_T v116 = CVR_MN(v114, v112); \\
        CVR_T v117 = CVR_MX(v114, v112); CVR_T v118 = CVR_MN(v115, v113); CVR_T v119 = CVR_MX(v115, v113); \\
        CVR_T v120 = CVR_MN(v50, v76); CVR_T v121 = CVR_MX(v50, v76); CVR_T v122 = CVR_MN(v54, v80); \\
        CVR_T v123 = CVR_MX(v54, v80); CVR_T v124 = CVR_MN(v122, v121); CVR_T v125 = CVR_MX(v122, v121); \\
        CVR_T v126 = CVR_MN(v120, v116); CVR_T v127 = CVR_MX(v120, v116); CVR_T v128 = CVR_MN(v124, v117); \\
        CVR_T v129 = CVR_MX(v124, v117); CVR_T v130 = CVR_MN(v125, v118); CVR_T v131 = CVR_MX(v125, v118); \\
        CVR_T v132 = CVR_MN(v123, v119); CVR_T v133 = CVR_MX(v123, v119); CVR_T v134 = CVR_MN(v108, v100); \\
        CVR_T v135 = CVR_MX(v108, v100); CVR_T v136 = CVR_MN(v126, v101); CVR_T v137 = CVR_MX(v126, v101); \\
        CVR_T v139 = CVR_MX(v127, v102); CVR_T v140 = CVR_MN(v128, v103); CVR_T v141 = CVR_MX(v128, v103); \\
        CVR_T v142 = CVR_MN(v129, v104); CVR_T v143 = CVR_MX(v129, v104); CVR_T v144 = CVR_MN(v130, v105); \\
        CVR_T v145 = CVR_MX(v130, v105); CVR_T v146 = CVR_MN(v131, v106); CVR_T v149 = CVR_MX(v132, v107); \\
        CVR_T v150 = CVR_MN(v133, v85); CVR_T v151 = CVR_MX(v133, v85); CVR_T v153 = CVR_MX(v82, v0); \\
        CVR_T v154 = CVR_MN(v149, v153); CVR_T v157 = CVR_MX(v141, v154); CVR_T v159 = CVR_MX(v137, v4); \\
        CVR_T v160 = CVR_MN(v145, v159); CVR_T v164 = CVR_MN(v160, v157); CVR_T v169 = CVR_MX(v135, v2); \\
        CVR_T v170 = CVR_MN(v151, v169); CVR_T v172 = CVR_MN(v143, v170); CVR_T v175 = CVR_MX(v139, v172); \\
        CVR_T v183 = CVR_MX(v175, v164); CVR_T v191 = CVR_MX(v134, v1); CVR_T v192 = CVR_MN(v150, v191); \\
        CVR_T v195 = CVR_MX(v142, v192); CVR_T v198 = CVR_MN(v146, v195); CVR_T v201 = CVR_MX(v136, v3); \\
        CVR_T v202 = CVR_MN(v111, v201); CVR_T v204 = CVR_MN(v144, v202); CVR_T v207 = CVR_MX(v140, v204); \\
        CVR_T v214 = CVR_MN(v207, v198); CVR_T v231 = CVR_MX(v214, v183); CVR_T v245 = CVR_MX(v82, v25); \\
        CVR_T v246 = CVR_MN(v149, v245); CVR_T v249 = CVR_MX(v141, v246); CVR_T v251 = CVR_MX(v137, v29); \\
        CVR_T v252 = CVR_MN(v145, v251); CVR_T v256 = CVR_MN(v252, v249); CVR_T v261 = CVR_MX(v135, v27); \\
        CVR_T v262 = CVR_MN(v151, v261); CVR_T v264 = CVR_MN(v143, v262); CVR_T v267 = CVR_MX(v139, v264); \\
        CVR_T v275 = CVR_MX(v267, v256); CVR_T v283 = CVR_MX(v134, v26); CVR_T v284 = CVR_MN(v150, v283); \\
        CVR_T v287 = CVR_MX(v142, v284); CVR_T v290 = CVR_MN(v146, v287); CVR_T v293 = CVR_MX(v136, v28); \\
        CVR_T v294 = CVR_MN(v111, v293); CVR_T v296 = CVR_MN(v144, v294); CVR_T v299 = CVR_MX(v140, v296); \\
        CVR_T v306 = CVR_MN(v299, v290); CVR_T v323 = CVR_MX(v306, v275); cvr_out0[x] = v231; \\
        cvr_out1[x] = v323; }
    /* END GENERATED NETWORKS */
    /* cvr_dst[j][x] = output j of network NET on inputs cvr_src[i][x], for x < n, in
       blocks of one cache line (one AVX-512 vector); the last block overlaps the one
       before (outputs never alias inputs), so no row ends in a scalar tail loop. Rows
       shorter than a block go to a separate function: a scalar loop in the same
       function made gcc spill vector registers in the vector loop (1.4x slower). */
    /* Every integer input is XORed with a zero the compiler cannot see through
       (CVR_LD): otherwise gcc reads an input used by a min and a max from memory
       for each (a memory operand each time), and loads, not min/max, bound the
       loop (3x3 uint16: 30 loads for 18 inputs, 1.25x slower). */
    static volatile unsigned long long cvr_opaque_zero = 0;
    #define CVR_NETFN(NAME, NET)                                                           \\
    static __attribute__((noinline)) void NAME##_short(const CVR_T *const *cvr_src,       \\
                                                       CVR_T *const *cvr_dst, ptrdiff_t n) \\
    {                                                                                      \\
        const CVR_T cvr_zero = (CVR_T)cvr_opaque_zero;                                    \\
        (void)cvr_zero;                                                                    \\
        NET##_IN NET##_OUT                                                                 \\
        for (ptrdiff_t x = 0; x < n; x++) NET                                              \\
    }                                                                                      \\
    static CVR_CLONES4 void NAME(const CVR_T *const *cvr_src, CVR_T *const *cvr_dst, ptrdiff_t n) \\
    {                                                                                      \\
        enum { B = 64 / sizeof(CVR_T) };                                                   \\
        if (n < B) {                                                                       \\
            NAME##_short(cvr_src, cvr_dst, n);                                             \\
            return;                                                                        \\
        }                                                                                  \\
        const CVR_T cvr_zero = (CVR_T)cvr_opaque_zero;                                    \\
        (void)cvr_zero;                                                                    \\
        NET##_IN NET##_OUT                                                                 \\
        for (ptrdiff_t x0 = 0; x0 < n; x0 += B) {                                          \\
            if (x0 > n - B) x0 = n - B;                                                    \\
            _Pragma("GCC ivdep") /* no run-time overlap checks */                          \\
            for (ptrdiff_t x = x0; x < x0 + B; x++) NET                                    \\
        }                                                                                  \\
    }
    /* The 3x3 networks on rows of one value per pixel (grey, or the edge columns),
       for n >= one block: rows[r] is row r, its pixels at offsets 0, 1, 2. With the
       offsets constants the loop keeps one pointer per row, not 3 (with 22
       pointers it reloaded some at every block: 3x3 uint16 about 1.1x slower). */
    #define CVR_ROWS3 rows[0] + 0, rows[0] + 1, rows[0] + 2, rows[1] + 0, rows[1] + 1, rows[1] + 2, rows[2] + 0, rows[2] + 1, rows[2] + 2
    #define CVR_ROWS4 rows[0] + 0, rows[0] + 1, rows[0] + 2, rows[1] + 0, rows[1] + 1, rows[1] + 2, rows[2] + 0, rows[2] + 1, rows[2] + 2, rows[3] + 0, rows[3] + 1, rows[3] + 2
    #define CVR_ROWS6 rows[0] + 0, rows[0] + 1, rows[0] + 2, rows[1] + 0, rows[1] + 1, rows[1] + 2, rows[2] + 0, rows[2] + 1, rows[2] + 2, rows[3] + 0, rows[3] + 1, rows[3] + 2, rows[4] + 0, rows[4] + 1, rows[4] + 2, rows[5] + 0, rows[5] + 1, rows[5] + 2
    #define CVR_ROWFN(NAME, NET, NR)                                                       \\
    static CVR_CLONES4 void NAME##_rows(const CVR_T *const *rows, CVR_T *const *cvr_dst, ptrdiff_t n) \\
    {                                                                                      \\
        enum { B = 64 / sizeof(CVR_T) };                                                   \\
        const CVR_T *const cvr_src[3 * NR] = {CVR_ROWS##NR};                               \\
        const CVR_T cvr_zero = (CVR_T)cvr_opaque_zero;                                    \\
        (void)cvr_zero;                                                                    \\
        NET##_IN NET##_OUT                                                                 \\
        for (ptrdiff_t x0 = 0; x0 < n; x0 += B) {                                          \\
            if (x0 > n - B) x0 = n - B;                                                    \\
            _Pragma("GCC ivdep") /* no run-time overlap checks */                          \\
            for (ptrdiff_t x = x0; x < x0 + B; x++) NET                                    \\
        }                                                                                  \\
    }
    /* which: 0..2 the 3x3 medians of 1, 2 or 4 rows from raw pixels; 3 sort 5,
       4 median 5x5 from sorted rows, 5 two stacked 5x5 medians; 7, 8 as 1, 2 on
       rows of single values (src: the rows, CVR_ROWFN) */
    #define CVR_SMALL(S)                                                                   \\
    CVR_NETFN(cvr_med3r1_##S, CVR_MED3_RAW1) CVR_NETFN(cvr_med3r2_##S, CVR_MED3_RAW2)      \\
    CVR_NETFN(cvr_med3r4_##S, CVR_MED3_RAW4) CVR_NETFN(cvr_sort5_##S, CVR_SORT5)           \\
    CVR_NETFN(cvr_med5_##S, CVR_MED5) CVR_NETFN(cvr_med5p_##S, CVR_MED5_PAIR)              \\
    CVR_ROWFN(cvr_med3r2_##S, CVR_MED3_RAW2, 4) CVR_ROWFN(cvr_med3r4_##S, CVR_MED3_RAW4, 6) \\
    static void cvr_small_##S(int which, const CVR_T *const *src, CVR_T *const *dst, ptrdiff_t n) \\
    {                                                                                      \\
        switch (which) {                                                                   \\
        case 0: cvr_med3r1_##S(src, dst, n); break;                                        \\
        case 1: cvr_med3r2_##S(src, dst, n); break;                                        \\
        case 2: cvr_med3r4_##S(src, dst, n); break;                                        \\
        case 3: cvr_sort5_##S(src, dst, n); break;                                         \\
        case 4: cvr_med5_##S(src, dst, n); break;                                          \\
        case 5: cvr_med5p_##S(src, dst, n); break;                                         \\
        case 7: cvr_med3r2_##S##_rows(src, dst, n); break;                                 \\
        default: cvr_med3r4_##S##_rows(src, dst, n); break;                                \\
        }                                                                                  \\
    }
    /* The constant-time uint8 median (Perreault and Hebert, 2007), with
       cumulative histograms. Every padded column keeps 272 uint16 counts: for
       each of the 16 coarse bins (16 values each) the number of its values <=
       each of the bin's 16 values (256 counts), then the number of values in
       coarse bins <= each coarse bin (16 counts). Such counts add and subtract
       like plain histograms, so the window's are sums of its columns', and the
       median's coarse bin is the number of cumulative coarse counts <= rank,
       its fine value likewise within that bin: one vector compare each, no
       prefix sums and no scalar search. A pixel enters or leaves a column by
       adding or subtracting a step vector (1 from a bin on) to two 16-count
       vectors. */
    #include <string.h>
    /* these helpers are inlined: the note that 32-byte vector returns change the ABI without AVX does not apply */
    #pragma GCC diagnostic ignored "-Wpsabi"
    typedef uint16_t cvr_v16 __attribute__((vector_size(32)));
    static const cvr_v16 cvr_iota16 = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    static inline __attribute__((always_inline)) cvr_v16 cvr_ld16(const uint16_t *p) { cvr_v16 v; memcpy(&v, p, 32); return v; }
    static inline __attribute__((always_inline)) void cvr_st16(uint16_t *p, cvr_v16 v) { memcpy(p, &v, 32); }
    /* number of lanes of a compare result (0xFFFF or 0 each) that are set */
    static inline __attribute__((always_inline)) int cvr_count16(cvr_v16 m)
    {
        m += __builtin_shuffle(m, (cvr_v16){8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7});
        m += __builtin_shuffle(m, (cvr_v16){4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3});
        m += __builtin_shuffle(m, (cvr_v16){2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1});
        m += __builtin_shuffle(m, (cvr_v16){1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0});
        return (uint16_t)(-m[0]);
    }
    /* the pixels of `leave` (may be NULL) leave and those of `enter` enter the
       histograms of m consecutive columns (the column i histogram at hist + i * 272) */
    static CVR_CLONES4 void cvr_hist_cols(uint16_t *restrict hist, const uint8_t *leave,
                                          const uint8_t *enter, ptrdiff_t m)
    {
        for (ptrdiff_t i = 0; i < m; i++) {
            uint16_t *h = hist + i * 272;
            unsigned e = enter[i];
            cvr_v16 fine = cvr_ld16(h + (e & 0xF0)), coarse = cvr_ld16(h + 256);
            if (leave) {
                unsigned l = leave[i];
                if ((l & 0xF0) == (e & 0xF0)) {
                    fine += (cvr_v16)(cvr_iota16 >= (uint16_t)(l & 15)) - (cvr_v16)(cvr_iota16 >= (uint16_t)(e & 15));
                } else {
                    cvr_st16(h + (l & 0xF0), cvr_ld16(h + (l & 0xF0)) + (cvr_v16)(cvr_iota16 >= (uint16_t)(l & 15)));
                    fine -= (cvr_v16)(cvr_iota16 >= (uint16_t)(e & 15));
                }
                coarse += (cvr_v16)(cvr_iota16 >= (uint16_t)(l >> 4)) - (cvr_v16)(cvr_iota16 >= (uint16_t)(e >> 4));
            } else {
                fine -= (cvr_v16)(cvr_iota16 >= (uint16_t)(e & 15));
                coarse -= (cvr_v16)(cvr_iota16 >= (uint16_t)(e >> 4));
            }
            cvr_st16(h + (e & 0xF0), fine);
            cvr_st16(h + 256, coarse);
        }
    }
    /* One output row: col is padded column 0's histogram, the next columns every
       cstep counts. The window's coarse counts move right by one addition and one
       subtraction per pixel; a coarse bin's 16 fine counts are only brought up to
       date when the median falls in it (Perreault and Hebert's lazy update: the
       median's bin rarely changes between neighbours), from the columns that
       entered and left since, or summed afresh when that is shorter. */
    static CVR_CLONES4 void cvr_hist_row(const uint16_t *restrict col, ptrdiff_t cstep, ptrdiff_t kw,
                                         ptrdiff_t width, int rank, uint8_t *restrict out, ptrdiff_t ostep)
    {
        cvr_v16 seg[16], coarse = {0};
        ptrdiff_t last[16];
        const cvr_v16 r = (cvr_v16){0} + (uint16_t)rank;
        for (int b = 0; b < 16; b++) { seg[b] = (cvr_v16){0}; last[b] = 0; }
        for (ptrdiff_t j = 0; j < kw; j++) {
            coarse += cvr_ld16(col + j * cstep + 256);
            for (int b = 0; b < 16; b++) seg[b] += cvr_ld16(col + j * cstep + 16 * b);
        }
        for (ptrdiff_t x = 0; x < width; x++) {
            if (x > 0)
                coarse += cvr_ld16(col + (x + kw - 1) * cstep + 256) - cvr_ld16(col + (x - 1) * cstep + 256);
            int b = cvr_count16((cvr_v16)(coarse <= r));
            int below = b > 0 ? coarse[b - 1] : 0;
            cvr_v16 f = seg[b];
            ptrdiff_t g = x - last[b];
            if (g > 0) {
                const uint16_t *p = col + 16 * b;
                if (2 * g < kw) {
                    for (ptrdiff_t t = last[b] + 1; t <= x; t++)
                        f += cvr_ld16(p + (t + kw - 1) * cstep) - cvr_ld16(p + (t - 1) * cstep);
                } else {
                    f = (cvr_v16){0};
                    for (ptrdiff_t t = x; t < x + kw; t++) f += cvr_ld16(p + t * cstep);
                }
                seg[b] = f;
                last[b] = x;
            }
            int v = cvr_count16((cvr_v16)(f + (uint16_t)below <= r));
            out[x * ostep] = (uint8_t)(16 * b + v);
        }
    }
    #define CVR_T uint8_t
    #define CVR_LD(v) ((CVR_T)((v) ^ cvr_zero))
    CVR_SMALL(u8)
    #undef CVR_T
    #undef CVR_LD
    #define CVR_T int8_t
    #define CVR_LD(v) ((CVR_T)((v) ^ cvr_zero))
    CVR_SMALL(i8)
    #undef CVR_T
    #undef CVR_LD
    #define CVR_T uint16_t
    #define CVR_LD(v) ((CVR_T)((v) ^ cvr_zero))
    CVR_SMALL(u16)
    #undef CVR_T
    #undef CVR_LD
    #define CVR_T int16_t
    #define CVR_LD(v) ((CVR_T)((v) ^ cvr_zero))
    CVR_SMALL(i16)
    #undef CVR_T
    #undef CVR_LD
    #define CVR_T uint32_t
    #define CVR_LD(v) ((CVR_T)((v) ^ cvr_zero))
    CVR_SMALL(u32)
    #undef CVR_T
    #undef CVR_LD
    #define CVR_T int32_t
    #define CVR_LD(v) ((CVR_T)((v) ^ cvr_zero))
    CVR_SMALL(i32)
    #undef CVR_T
    #undef CVR_LD
    #define CVR_T uint64_t
    #define CVR_LD(v) ((CVR_T)((v) ^ cvr_zero))
    CVR_SMALL(u64)
    #undef CVR_T
    #undef CVR_LD
    #define CVR_T int64_t
    #define CVR_LD(v) ((CVR_T)((v) ^ cvr_zero))
    CVR_SMALL(i64)
    #undef CVR_T
    #undef CVR_LD
    #define CVR_T float
    #define CVR_LD(v) (v)
    CVR_SMALL(f)
    #undef CVR_T
    #undef CVR_LD
    #define CVR_T double
    #define CVR_LD(v) (v)
    CVR_SMALL(d)
    #undef CVR_T
    #undef CVR_LD
    """
    void cvr_small_u8(int which, const uint8_t** src, uint8_t** dst, Py_ssize_t n) noexcept nogil
    void cvr_hist_row(const uint16_t* col, Py_ssize_t cstep, Py_ssize_t kw, Py_ssize_t width,
                      int rank, uint8_t* out, Py_ssize_t ostep) noexcept nogil
    void cvr_hist_cols(uint16_t* hist, const uint8_t* leave, const uint8_t* enter, Py_ssize_t m) noexcept nogil
    void cvr_small_i8(int which, const int8_t** src, int8_t** dst, Py_ssize_t n) noexcept nogil
    void cvr_small_u16(int which, const uint16_t** src, uint16_t** dst, Py_ssize_t n) noexcept nogil
    void cvr_small_i16(int which, const int16_t** src, int16_t** dst, Py_ssize_t n) noexcept nogil
    void cvr_small_u32(int which, const uint32_t** src, uint32_t** dst, Py_ssize_t n) noexcept nogil
    void cvr_small_i32(int which, const int32_t** src, int32_t** dst, Py_ssize_t n) noexcept nogil
    void cvr_small_u64(int which, const uint64_t** src, uint64_t** dst, Py_ssize_t n) noexcept nogil
    void cvr_small_i64(int which, const int64_t** src, int64_t** dst, Py_ssize_t n) noexcept nogil
    void cvr_small_f(int which, const float** src, float** dst, Py_ssize_t n) noexcept nogil
    void cvr_small_d(int which, const double** src, double** dst, Py_ssize_t n) noexcept nogil


cdef inline void _small(int which, const rank_t** src, rank_t** dst, Py_ssize_t n) noexcept nogil:
    if rank_t is uint8_t:
        cvr_small_u8(which, src, dst, n)
    elif rank_t is int8_t:
        cvr_small_i8(which, src, dst, n)
    elif rank_t is uint16_t:
        cvr_small_u16(which, src, dst, n)
    elif rank_t is int16_t:
        cvr_small_i16(which, src, dst, n)
    elif rank_t is uint32_t:
        cvr_small_u32(which, src, dst, n)
    elif rank_t is int32_t:
        cvr_small_i32(which, src, dst, n)
    elif rank_t is uint64_t:
        cvr_small_u64(which, src, dst, n)
    elif rank_t is int64_t:
        cvr_small_i64(which, src, dst, n)
    elif rank_t is float:
        cvr_small_f(which, src, dst, n)
    else:
        cvr_small_d(which, src, dst, n)


cdef inline void _apply_ops(rank_t* tmp, Py_ssize_t block, Py_ssize_t m, const int* ops,
                            Py_ssize_t nops) noexcept nogil:
    if rank_t is uint8_t:
        cvr_ops_u8(tmp, block, m, ops, nops)
    elif rank_t is int8_t:
        cvr_ops_i8(tmp, block, m, ops, nops)
    elif rank_t is uint16_t:
        cvr_ops_u16(tmp, block, m, ops, nops)
    elif rank_t is int16_t:
        cvr_ops_i16(tmp, block, m, ops, nops)
    elif rank_t is uint32_t:
        cvr_ops_u32(tmp, block, m, ops, nops)
    elif rank_t is int32_t:
        cvr_ops_i32(tmp, block, m, ops, nops)
    elif rank_t is uint64_t:
        cvr_ops_u64(tmp, block, m, ops, nops)
    elif rank_t is int64_t:
        cvr_ops_i64(tmp, block, m, ops, nops)
    elif rank_t is float:
        cvr_ops_f(tmp, block, m, ops, nops)
    else:
        cvr_ops_d(tmp, block, m, ops, nops)


cdef inline rank_t _select(rank_t* a, Py_ssize_t n, Py_ssize_t k) noexcept nogil:
    """k-th smallest of a[0:n] (reorders a). Three-way quickselect.

    Every element lands in exactly one of the <, ==, > regions (NaN compares
    false both ways, so it joins the == region); the pivot is an element of
    the range, so the range shrinks at each step and the loop terminates.
    """
    cdef Py_ssize_t lo = 0, hi = n, lt, gt, i, mid
    cdef rank_t pivot, v, t, p0, p1, p2
    while hi - lo > 1:
        mid = lo + (hi - lo) // 2
        p0 = a[lo]
        p1 = a[mid]
        p2 = a[hi - 1]
        # median of three
        if p0 < p1:
            if p1 < p2:
                pivot = p1
            elif p0 < p2:
                pivot = p2
            else:
                pivot = p0
        else:
            if p0 < p2:
                pivot = p0
            elif p1 < p2:
                pivot = p2
            else:
                pivot = p1
        lt = lo
        i = lo
        gt = hi
        while i < gt:
            v = a[i]
            if v < pivot:
                a[i] = a[lt]
                a[lt] = v
                lt += 1
                i += 1
            elif pivot < v:
                gt -= 1
                a[i] = a[gt]
                a[gt] = v
            else:
                i += 1
        if k < lt:
            hi = lt
        elif k >= gt:
            lo = gt
        else:
            return a[k]
    return a[lo]


cdef inline void _advance_ring(const rank_t* img, Py_ssize_t n, rank_t* ring, const rank_t** rows,
                               Py_ssize_t y, Py_ssize_t y0, Py_ssize_t kh, Py_ssize_t npad, Py_ssize_t nch,
                               const Py_ssize_t* ymap, const Py_ssize_t* xmap, rank_t cval) noexcept nogil:
    """Point ``rows[0..kh-1]`` at padded rows ``y .. y + kh - 1`` held in the ring.

    Padded row ``p`` lives in slot ``p % kh`` and is built once: all ``kh`` rows
    at the block's first row ``y0``, afterwards only the entering row ``y + kh - 1``.
    """
    cdef Py_ssize_t stride = npad * nch, a, b, c, p, s, t
    cdef rank_t* line
    for a in range(kh):
        p = y + a
        if y > y0 and a < kh - 1:
            continue
        line = ring + (p % kh) * stride
        s = ymap[p]
        for t in range(npad):
            b = xmap[t]
            for c in range(nch):
                line[t * nch + c] = img[s * n + b * nch + c] if (s >= 0 and b >= 0) else cval
    for a in range(kh):
        rows[a] = ring + ((y + a) % kh) * stride


cdef inline void _pad_line(const rank_t* img, Py_ssize_t n, Py_ssize_t nch, Py_ssize_t src_row,
                           Py_ssize_t left, Py_ssize_t npad, const Py_ssize_t* xmap, rank_t cval,
                           rank_t* line) noexcept nogil:
    """Padded row (``npad`` pixels, image row ``src_row`` at ``left``; -1: all ``cval``)."""
    cdef Py_ssize_t width = n // nch, t
    if src_row < 0:
        for t in range(npad * nch):
            line[t] = cval
        return
    memcpy(line + left * nch, img + src_row * n, n * sizeof(rank_t))
    fill_border(line, xmap, left, width, npad, nch, cval)


cdef inline Py_ssize_t _pair_start(Py_ssize_t h, Py_ssize_t nc, Py_ssize_t t, Py_ssize_t row0) noexcept nogil:
    """First row of thread block ``t``, moved back to an even image row (``row0`` is
    the image row of row 0) so that no block splits a pair of rows."""
    cdef Py_ssize_t y = chunk_start(h, nc, t)
    if t == nc or (row0 + y) % 2 == 0:
        return y
    return y - 1 if y > 0 else 0


def median_small(const rank_t[:, ::1] img, rank_t[:, ::1] out, Py_ssize_t nch, Py_ssize_t k,
                 const Py_ssize_t[::1] ymap, const Py_ssize_t[::1] xmap, rank_t cval,
                 Py_ssize_t row0, int n_threads=1):
    """Median of k x k windows, k = 3 or 5, with selection networks (scripts/median_networks.py).

    3x3: each output row group (four rows from image rows divisible by 4, else
    two from even rows) is one network over the raw pixels, read from the
    image rows themselves (the first and last columns from copies of their
    padded columns, see _median3). 5x5: every run of 5 pixels of a padded row
    is sorted once (5 sorted rows kept in a ring of 6 padded rows); a window
    is then 5 sorted rows that a network merges, two vertically adjacent
    outputs sharing 4. Rows are done in pairs starting at even image rows
    (``row0`` is the image row of ``out[0]``; blocks start at even image rows,
    and so must bands that do not end the image): the expression computing a
    row does not depend on bands or threads, so neither does the result, even
    where values tie (-0.0 and 0.0) or are NaN.

    With several threads the rows go in four blocks per thread, handed out
    as threads come free: these calls last a millisecond or less, and a
    thread that starts late (its core busy) then costs a block, not half the
    image. A block only re-sorts the 5x5's first rows, about 1 % more work.
    """
    cdef Py_ssize_t h = out.shape[0], nt = chunks(h, n_threads), t
    cdef Py_ssize_t nb = chunks(h, 4 * n_threads) if nt > 1 else nt
    cdef int err = 0
    if nb == 0:
        return
    cdef const rank_t* ip = &img[0, 0]
    cdef rank_t* op = &out[0, 0]
    with nogil:
        for t in prange(nb, num_threads=nt, schedule='dynamic'):
            if k == 3:
                err |= _median3(ip, op, _pair_start(h, nb, t, row0), _pair_start(h, nb, t + 1, row0), row0,
                                img.shape[1], nch, &ymap[0], &xmap[0], cval)
            else:
                err |= _median_small(ip, op, _pair_start(h, nb, t, row0), _pair_start(h, nb, t + 1, row0), row0,
                                     img.shape[1], nch, k, &ymap[0], &xmap[0], cval)
    if err:
        raise MemoryError("cannot allocate the median buffers")


cdef enum:
    _EDGE_ROWS = 64     # rows whose first and last columns are done together (their rows still cached)


cdef int _median3(const rank_t* img, rank_t* out, Py_ssize_t y0, Py_ssize_t y1, Py_ssize_t row0,
                  Py_ssize_t n, Py_ssize_t nch, const Py_ssize_t* ymap, const Py_ssize_t* xmap,
                  rank_t cval) noexcept nogil:
    """Rows ``y0 .. y1`` of the 3x3 :func:`median_small`, with no padded copy of the image.

    The network runs along image rows for columns 1 .. W - 2, then (every
    ``_EDGE_ROWS`` rows, see :func:`_median3_edges`) down the first and last
    columns.
    """
    cdef Py_ssize_t width = n // nch, y, ya, g, r, i, j
    cdef bint rowwise
    cdef const rank_t* src[18]
    cdef rank_t* dst[4]
    cdef const rank_t* rp
    cdef rank_t* fill = NULL      # a row of cval, for rows outside the image (constant mode)
    cdef rank_t* cols = <rank_t*>malloc((4 * (_EDGE_ROWS + 6)) * sizeof(rank_t) + 64)   # 3 columns, 1 output
    if cols == NULL:
        return -1
    for y in range(y0, y1 + 2):
        if ymap[y] < 0 and fill == NULL:
            fill = <rank_t*>malloc(n * sizeof(rank_t) + 64)
            if fill == NULL:
                free(cols)
                return -1
            for i in range(n):
                fill[i] = cval
    y = ya = y0
    while y < y1:
        g = 4 if (row0 + y) % 4 == 0 and y + 4 <= y1 else (2 if (row0 + y) % 2 == 0 and y + 2 <= y1 else 1)
        if width > 2:
            rowwise = nch == 1 and g > 1 and n - 2 >= 64 // <Py_ssize_t>sizeof(rank_t)
            for r in range(g + 2):
                rp = img + ymap[y + r] * n if ymap[y + r] >= 0 else fill
                if rowwise:
                    src[r] = rp
                else:
                    for i in range(3):
                        src[3 * r + i] = rp + i * nch
            for j in range(g):
                dst[j] = out + (y + j) * n + nch      # from column 1 on
            _small(g // 2 + (6 if rowwise else 0), src, dst, n - 2 * nch)
        y += g
        if y - ya >= _EDGE_ROWS or y == y1:
            _median3_edges(img, out, ya, y, n, nch, ymap, xmap, cval, fill, cols)
            ya = y
    free(cols)
    free(fill)
    return 0


cdef void _median3_edges(const rank_t* img, rank_t* out, Py_ssize_t ya, Py_ssize_t yb, Py_ssize_t n,
                         Py_ssize_t nch, const Py_ssize_t* ymap, const Py_ssize_t* xmap, rank_t cval,
                         const rank_t* fill, rank_t* cols) noexcept nogil:
    """First and last columns of rows ``ya .. yb`` (at most ``_EDGE_ROWS + 4``).

    Their three padded columns (``xmap``; -1: cval) are copied into contiguous
    arrays and the network runs down them (transposed: columns of three sorted
    first). One network call per row group and edge cost a third of the whole
    filter on 1024^2 uint8. Every edge pixel is computed this one way, so the
    result does not depend on the blocks either.
    """
    cdef Py_ssize_t width = n // nch, ne = 2 if width > 1 else 1, stride = _EDGE_ROWS + 6
    cdef Py_ssize_t e, c, i, p, t, col, x
    cdef const rank_t* src[9]
    cdef rank_t* dst[1]
    cdef const rank_t* rp
    for i in range(3):
        src[3 * i] = cols + i * stride
        src[3 * i + 1] = src[3 * i] + 1
        src[3 * i + 2] = src[3 * i] + 2
    dst[0] = cols + 3 * stride
    for e in range(ne):
        x = 0 if e == 0 else width - 1
        for c in range(nch):
            for i in range(3):
                col = xmap[x + i]
                for p in range(ya, yb + 2):
                    if col < 0:
                        cols[i * stride + p - ya] = cval
                    else:
                        rp = img + ymap[p] * n if ymap[p] >= 0 else fill
                        cols[i * stride + p - ya] = rp[col * nch + c]
            _small(0, src, dst, yb - ya)
            for t in range(yb - ya):
                out[(ya + t) * n + x * nch + c] = dst[0][t]


cdef inline void _pad_segment(const rank_t* img, Py_ssize_t n, Py_ssize_t nch, Py_ssize_t src_row,
                              Py_ssize_t left, Py_ssize_t p0, Py_ssize_t m, const Py_ssize_t* xmap,
                              rank_t cval, rank_t* seg) noexcept nogil:
    """Padded positions ``p0 .. p0 + m - 1`` of a padded row (see :func:`_pad_line`) into ``seg``."""
    cdef Py_ssize_t width = n // nch, a, b, t, c, s
    if src_row < 0:
        for t in range(m * nch):
            seg[t] = cval
        return
    a = left if left > p0 else p0                      # the interior part of the segment
    b = left + width if left + width < p0 + m else p0 + m
    if a < b:
        memcpy(seg + (a - p0) * nch, img + src_row * n + (a - left) * nch, (b - a) * nch * sizeof(rank_t))
    if a >= b:
        a = b = p0 + m
    t = p0
    while t < p0 + m:
        if t == a:   # the interior is in place
            t = b
            continue
        s = xmap[t]
        for c in range(nch):
            seg[(t - p0) * nch + c] = img[src_row * n + s * nch + c] if s >= 0 else cval
        t += 1


cdef enum:
    _STRIP_BYTES = 4096   # per sorted-row array: the ring of a strip stays in the L2 cache


cdef int _median_small(const rank_t* img, rank_t* out, Py_ssize_t y0, Py_ssize_t y1, Py_ssize_t row0,
                       Py_ssize_t n, Py_ssize_t nch, Py_ssize_t k, const Py_ssize_t* ymap,
                       const Py_ssize_t* xmap, rank_t cval) noexcept nogil:
    """Rows ``y0 .. y1`` of :func:`median_small`, in vertical strips of columns
    so that the ring of sorted rows stays in the cache."""
    cdef Py_ssize_t width = n // nch, left = k // 2
    cdef Py_ssize_t strip = _STRIP_BYTES // (<Py_ssize_t>sizeof(rank_t) * nch)
    cdef Py_ssize_t sstride, slots = k + 1, xs, ns, m
    cdef Py_ssize_t y, have, last, r, i, nrows
    cdef int sort_op = 3
    cdef bint pair
    cdef const rank_t* src[36]
    cdef rank_t* dst[36]
    if strip < 8:
        strip = 8
    sstride = strip * nch + 64
    cdef rank_t* line = <rank_t*>malloc(((strip + k) * nch + 64) * sizeof(rank_t))
    cdef rank_t* ring = <rank_t*>malloc(slots * k * sstride * sizeof(rank_t) + 64)
    if line == NULL or ring == NULL:
        free(line)
        free(ring)
        return -1
    xs = 0
    while xs < width:
        m = width - xs if width - xs < strip else strip
        ns = m * nch
        y = y0
        have = y0          # next padded row to sort into the ring
        while y < y1:
            pair = y + 1 < y1 and (row0 + y) % 2 == 0
            last = y + k if pair else y + k - 1
            while have <= last:
                _pad_segment(img, n, nch, ymap[have], left, xs, m + k - 1, xmap, cval, line)
                for i in range(k):
                    src[i] = line + i * nch
                    dst[i] = ring + ((have % slots) * k + i) * sstride
                _small(sort_op, src, dst, ns)
                have += 1
            nrows = k + 1 if pair else k
            for r in range(nrows):
                for i in range(k):
                    src[r * k + i] = ring + (((y + r) % slots) * k + i) * sstride
            dst[0] = out + y * n + xs * nch
            dst[1] = out + (y + 1) * n + xs * nch if pair else dst[0]
            _small(sort_op + 1 + pair, src, dst, ns)
            y += 2 if pair else 1
        xs += m
    free(line)
    free(ring)
    return 0


# Every kernel below: ``_x`` computes output rows y0 .. y1 with buffers of its
# own (-1 if they cannot be allocated); the ``def`` shares the rows among threads.


def median(const rank_t[:, ::1] img, rank_t[:, ::1] out, Py_ssize_t nch,
           Py_ssize_t kh, Py_ssize_t kw, const Py_ssize_t[::1] ymap,
           const Py_ssize_t[::1] xmap, rank_t cval, int n_threads=1):
    """Median (rank ``kh * kw // 2`` of the sorted window) of every window.

    Padded rows (``W + kw - 1`` pixels, border from the maps) are kept in a
    ring of ``kh`` line buffers, so a window is gathered with contiguous reads
    and then reduced by quickselect.
    """
    cdef Py_ssize_t h = out.shape[0], nc = chunks(h, n_threads), t
    cdef int err = 0
    if nc == 0:
        return
    cdef const rank_t* ip = &img[0, 0]
    cdef rank_t* op = &out[0, 0]
    with nogil:
        for t in prange(nc, num_threads=nc, schedule='static'):
            err |= _median(ip, op, chunk_start(h, nc, t), chunk_start(h, nc, t + 1), img.shape[1], nch,
                           kh, kw, &ymap[0], &xmap[0], cval)
    if err:
        raise MemoryError("cannot allocate the median buffers")


cdef int _median(const rank_t* img, rank_t* out, Py_ssize_t y0, Py_ssize_t y1, Py_ssize_t n,
                 Py_ssize_t nch, Py_ssize_t kh, Py_ssize_t kw, const Py_ssize_t* ymap,
                 const Py_ssize_t* xmap, rank_t cval) noexcept nogil:
    cdef Py_ssize_t width = n // nch
    cdef Py_ssize_t npad = width + kw - 1
    cdef Py_ssize_t stride = npad * nch
    cdef Py_ssize_t size = kh * kw, rank = size // 2
    cdef Py_ssize_t y, x, c, a, b, m
    cdef const rank_t* src
    cdef rank_t* buf = <rank_t*>malloc(size * sizeof(rank_t) + 64)
    cdef rank_t* ring = <rank_t*>malloc(kh * stride * sizeof(rank_t) + 64)
    cdef const rank_t** rows = <const rank_t**>malloc(kh * sizeof(rank_t*) + 64)
    if buf == NULL or ring == NULL or rows == NULL:
        free(buf)
        free(ring)
        free(rows)
        return -1
    for y in range(y0, y1):
        _advance_ring(img, n, ring, rows, y, y0, kh, npad, nch, ymap, xmap, cval)
        for x in range(width):
            for c in range(nch):
                m = 0
                for a in range(kh):
                    src = rows[a] + x * nch + c
                    for b in range(kw):
                        buf[m] = src[b * nch]
                        m += 1
                out[y * n + x * nch + c] = _select(buf, size, rank)
    free(buf)
    free(ring)
    free(rows)
    return 0


def median_u8(const uint8_t[:, ::1] img, uint8_t[:, ::1] out, Py_ssize_t nch,
              Py_ssize_t kh, Py_ssize_t kw, const Py_ssize_t[::1] ymap,
              const Py_ssize_t[::1] xmap, uint8_t cval, int n_threads=1):
    """Median of uint8 images with a sliding 256-bin histogram (Huang's algorithm).

    Per output pixel the window's leaving column is subtracted and the
    entering column added (2 * kh updates), and the median is found by moving
    from the previous one while tracking how many values lie below it. Padded
    rows (``W + kw - 1`` pixels) are kept in a ring of ``kh`` line buffers.
    """
    cdef Py_ssize_t h = out.shape[0], nc = chunks(h, n_threads), t
    cdef int err = 0
    if nc == 0:
        return
    cdef const uint8_t* ip = &img[0, 0]
    cdef uint8_t* op = &out[0, 0]
    with nogil:
        for t in prange(nc, num_threads=nc, schedule='static'):
            err |= _median_u8(ip, op, chunk_start(h, nc, t), chunk_start(h, nc, t + 1), img.shape[1], nch,
                              kh, kw, &ymap[0], &xmap[0], cval)
    if err:
        raise MemoryError("cannot allocate the median buffers")


cdef int _median_u8(const uint8_t* img, uint8_t* out, Py_ssize_t y0, Py_ssize_t y1, Py_ssize_t n,
                    Py_ssize_t nch, Py_ssize_t kh, Py_ssize_t kw, const Py_ssize_t* ymap,
                    const Py_ssize_t* xmap, uint8_t cval) noexcept nogil:
    cdef Py_ssize_t width = n // nch
    cdef Py_ssize_t npad = width + kw - 1
    cdef Py_ssize_t stride = npad * nch
    cdef Py_ssize_t rank = (kh * kw) // 2
    cdef Py_ssize_t y, x, c, a, b, t, lt, m
    cdef uint8_t v
    cdef uint8_t* o
    cdef uint8_t* ring = <uint8_t*>malloc(kh * stride + 64)
    cdef const uint8_t** rows = <const uint8_t**>malloc(kh * sizeof(uint8_t*) + 64)
    cdef Py_ssize_t hist[256]
    if ring == NULL or rows == NULL:
        free(ring)
        free(rows)
        return -1
    for y in range(y0, y1):
        _advance_ring(img, n, ring, rows, y, y0, kh, npad, nch, ymap, xmap, cval)
        o = out + y * n
        for c in range(nch):
            for t in range(256):
                hist[t] = 0
            for a in range(kh):
                for b in range(kw):
                    hist[rows[a][b * nch + c]] += 1
            m = 0
            lt = 0
            while lt + hist[m] <= rank:
                lt += hist[m]
                m += 1
            o[c] = <uint8_t>m
            for x in range(1, width):
                for a in range(kh):
                    v = rows[a][(x - 1) * nch + c]
                    hist[v] -= 1
                    if v < m:
                        lt -= 1
                    v = rows[a][(x + kw - 1) * nch + c]
                    hist[v] += 1
                    if v < m:
                        lt += 1
                if lt > rank:
                    while lt > rank:
                        m -= 1
                        lt -= hist[m]
                else:
                    while lt + hist[m] <= rank:
                        lt += hist[m]
                        m += 1
                o[x * nch + c] = <uint8_t>m
    free(ring)
    free(rows)
    return 0


cdef enum:
    _HB = 272   # counts per column: 16 x 16 fine, then 16 coarse (see cvr_hist_cols)


def median_u8_ctmf(const uint8_t[:, ::1] img, uint8_t[:, ::1] out, Py_ssize_t nch,
                   Py_ssize_t kh, Py_ssize_t kw, const Py_ssize_t[::1] ymap,
                   const Py_ssize_t[::1] xmap, uint8_t cval, int n_threads=1):
    """Median of uint8 images in constant time per pixel (Perreault and Hebert, 2007).

    Every padded column keeps cumulative coarse and fine counts of its ``kh``
    window rows (moved down a row by subtracting and adding two step vectors,
    see cvr_hist_cols); the window's coarse counts move right by adding the
    entering column's and subtracting the leaving one's, a coarse bin's fine
    counts only when the median falls in it, and each level is searched by
    one vector compare (see cvr_hist_row). Needs ``kh * kw < 65536``.
    """
    cdef Py_ssize_t h = out.shape[0], nc = chunks(h, n_threads), t
    cdef int err = 0
    if nc == 0:
        return
    cdef const uint8_t* ip = &img[0, 0]
    cdef uint8_t* op = &out[0, 0]
    with nogil:
        for t in prange(nc, num_threads=nc, schedule='static'):
            err |= _median_u8_ctmf(ip, op, chunk_start(h, nc, t), chunk_start(h, nc, t + 1), img.shape[1],
                                   nch, kh, kw, &ymap[0], &xmap[0], cval)
    if err:
        raise MemoryError("cannot allocate the median buffers")


cdef int _median_u8_ctmf(const uint8_t* img, uint8_t* out, Py_ssize_t y0, Py_ssize_t y1, Py_ssize_t n,
                         Py_ssize_t nch, Py_ssize_t kh, Py_ssize_t kw, const Py_ssize_t* ymap,
                         const Py_ssize_t* xmap, uint8_t cval) noexcept nogil:
    """Rows ``y0 .. y1``: padded row ``p`` is built in slot ``p % (kh + 1)`` of a ring,
    so that the row leaving the column histograms and the one entering are both at hand."""
    cdef Py_ssize_t width = n // nch, npad = width + kw - 1, m = npad * nch
    cdef Py_ssize_t rank = (kh * kw) // 2, left = kw // 2, slots = kh + 1
    cdef Py_ssize_t y, a, c
    cdef uint8_t* ring = <uint8_t*>malloc(slots * (m + 64) + 64)
    cdef uint16_t* hist = <uint16_t*>malloc(m * _HB * sizeof(uint16_t) + 64)
    cdef uint8_t* line
    if ring == NULL or hist == NULL:
        free(ring)
        free(hist)
        return -1
    memset(hist, 0, m * _HB * sizeof(uint16_t))
    for a in range(kh):
        line = ring + ((y0 + a) % slots) * (m + 64)
        _pad_line(img, n, nch, ymap[y0 + a], left, npad, xmap, cval, line)
        cvr_hist_cols(hist, NULL, line, m)
    for y in range(y0, y1):
        if y > y0:  # padded row y - 1 leaves the columns, y + kh - 1 enters
            line = ring + ((y + kh - 1) % slots) * (m + 64)
            _pad_line(img, n, nch, ymap[y + kh - 1], left, npad, xmap, cval, line)
            cvr_hist_cols(hist, ring + ((y - 1) % slots) * (m + 64), line, m)
        for c in range(nch):
            cvr_hist_row(hist + c * _HB, nch * _HB, kw, width, <int>rank, out + y * n + c, nch)
    free(ring)
    free(hist)
    return 0


cdef enum:
    _NET_BLOCK = 128


def median_network(const rank_t[:, ::1] img, rank_t[:, ::1] out, Py_ssize_t nch,
                   Py_ssize_t kh, Py_ssize_t kw, const Py_ssize_t[::1] ymap,
                   const Py_ssize_t[::1] xmap, rank_t cval, const int[:, ::1] ops,
                   Py_ssize_t out_slot, int n_threads=1):
    """Median of small windows with a selection network applied across pixels.

    ``ops`` rows are ``(kind, a, b)`` on window slots: kind 0 puts min(a, b)
    in ``a`` and max(a, b) in ``b``; 1 only the min in ``a``; 2 only the max
    in ``b``. After the network, slot ``out_slot`` holds the median. The
    network runs on blocks of values along a padded row (every window element
    is a shifted contiguous stream), so each op is a vectorisable min/max loop.
    """
    cdef Py_ssize_t h = out.shape[0], nc = chunks(h, n_threads), t
    cdef int err = 0
    if nc == 0:
        return
    cdef const rank_t* ip = &img[0, 0]
    cdef rank_t* op = &out[0, 0]
    cdef const int* opsp = &ops[0, 0] if ops.shape[0] > 0 else NULL
    with nogil:
        for t in prange(nc, num_threads=nc, schedule='static'):
            err |= _median_network(ip, op, chunk_start(h, nc, t), chunk_start(h, nc, t + 1), img.shape[1],
                                   nch, kh, kw, &ymap[0], &xmap[0], cval, opsp, ops.shape[0], out_slot)
    if err:
        raise MemoryError("cannot allocate the median buffers")


cdef int _median_network(const rank_t* img, rank_t* out, Py_ssize_t y0, Py_ssize_t y1, Py_ssize_t n,
                         Py_ssize_t nch, Py_ssize_t kh, Py_ssize_t kw, const Py_ssize_t* ymap,
                         const Py_ssize_t* xmap, rank_t cval, const int* ops, Py_ssize_t nops,
                         Py_ssize_t out_slot) noexcept nogil:
    cdef Py_ssize_t width = n // nch
    cdef Py_ssize_t npad = width + kw - 1
    cdef Py_ssize_t stride = npad * nch
    cdef Py_ssize_t size = kh * kw
    cdef Py_ssize_t y, a, b, e, i0, m, k
    cdef rank_t* ta
    cdef rank_t* o
    cdef const rank_t* src
    cdef rank_t* ring = <rank_t*>malloc(kh * stride * sizeof(rank_t) + 64)
    cdef rank_t* tmp = <rank_t*>malloc(size * _NET_BLOCK * sizeof(rank_t) + 64)
    cdef const rank_t** rows = <const rank_t**>malloc(kh * sizeof(rank_t*) + 64)
    if ring == NULL or tmp == NULL or rows == NULL:
        free(ring)
        free(tmp)
        free(rows)
        return -1
    for y in range(y0, y1):
        _advance_ring(img, n, ring, rows, y, y0, kh, npad, nch, ymap, xmap, cval)
        o = out + y * n
        i0 = 0
        while i0 < n:
            m = n - i0 if n - i0 < _NET_BLOCK else _NET_BLOCK
            e = 0
            for a in range(kh):
                for b in range(kw):
                    src = rows[a] + i0 + b * nch
                    ta = tmp + e * _NET_BLOCK
                    for k in range(m):
                        ta[k] = src[k]
                    e += 1
            if nops > 0:
                _apply_ops(tmp, _NET_BLOCK, m, ops, nops)
            ta = tmp + out_slot * _NET_BLOCK
            for k in range(m):
                o[i0 + k] = ta[k]
            i0 += m
    free(ring)
    free(tmp)
    free(rows)
    return 0
