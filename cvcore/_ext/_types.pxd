# Shared fused types for the kernels. Keep each kernel to one fused parameter
# where possible: every extra fused parameter multiplies the generated code.
from libc.stdint cimport uint8_t, uint16_t, int16_t, int32_t, int64_t

ctypedef fused pixel_t:
    uint8_t
    uint16_t
    int16_t
    float
    double

ctypedef fused real_t:
    float
    double

ctypedef fused int_pixel_t:
    uint8_t
    uint16_t
    int16_t
