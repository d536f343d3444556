// Run-time choice of kernel by CPU feature (__builtin_cpu_supports also checks that the OS saves
// the AVX/AVX-512 registers).
#include "internal.h"

bd_small_m_kernel bd_small_m_best(void) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")) return BD_SMALL_M_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return BD_SMALL_M_AVX2;
#endif
    return BD_SMALL_M_NONE;
}

void bd_linear_small_m(bd_small_m_kernel kernel, const float *x, size_t ldx, int m,
                       const float *w, int k, int column_begin, int column_end,
                       float *out, size_t ldo) {
    if (m <= 0 || column_begin >= column_end) return;
    switch (kernel) {
#if defined(__x86_64__)
    case BD_SMALL_M_AVX512:
        bd_linear_small_m_avx512(x, ldx, m, w, k, column_begin, column_end, out, ldo);
        return;
    case BD_SMALL_M_AVX2:
        bd_linear_small_m_avx2(x, ldx, m, w, k, column_begin, column_end, out, ldo);
        return;
#endif
    default:
        return;
    }
}

int bd_bias_gelu(float *x, size_t ld, const float *bias, int rows, int cols) {
#if defined(__x86_64__)
    static int available = -1;
    if (available < 0) available = __builtin_cpu_supports("avx2");
    if (available) {
        bd_bias_gelu_avx2(x, ld, bias, rows, cols);
        return 1;
    }
#endif
    return 0;
}
