// Run-time choice of kernel: the CPU's features, read once by the compiler runtime
// (__builtin_cpu_supports also checks that the OS saves the AVX/AVX-512 registers).
#include "internal.h"

int bq_kernel_available(bq_kernel kernel) {
    switch (kernel) {
    case BQ_KERNEL_SCALAR:
        return 1;
#if defined(__x86_64__)
    case BQ_KERNEL_AVX2:
        return __builtin_cpu_supports("avx2");
    case BQ_KERNEL_AVX512_VNNI:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vnni");
#endif
    default:
        return 0;
    }
}

bq_kernel bq_best_kernel(void) {
    if (bq_kernel_available(BQ_KERNEL_AVX512_VNNI)) return BQ_KERNEL_AVX512_VNNI;
    if (bq_kernel_available(BQ_KERNEL_AVX2)) return BQ_KERNEL_AVX2;
    return BQ_KERNEL_SCALAR;
}

void bq_quantize_rows(bq_kernel kernel, const float *x, size_t ldx, int m, int k, int8_t *q, size_t ldq,
                      float *scales) {
#if defined(__x86_64__)
    // Both AVX kernels' CPUs have AVX2; the quantizer is memory-bound, 8 lanes are enough.
    if (kernel != BQ_KERNEL_SCALAR) {
        bq_quantize_rows_avx2(x, ldx, m, k, q, ldq, scales);
        return;
    }
#endif
    bq_quantize_rows_scalar(x, ldx, m, k, q, ldq, scales);
}

void bq_gemm(bq_kernel kernel, const int8_t *a, size_t lda, int m,
             const int8_t *packed, const int32_t *colsums, int n, int k,
             int column_begin, int column_end, bq_output output) {
    if (m <= 0 || column_begin >= column_end || column_end > n) return;
    switch (kernel) {
#if defined(__x86_64__)
    case BQ_KERNEL_AVX512_VNNI:
        bq_gemm_avx512_vnni(a, lda, m, packed, colsums, k, column_begin, column_end, output);
        return;
    case BQ_KERNEL_AVX2:
        bq_gemm_avx2(a, lda, m, packed, k, column_begin, column_end, output);
        return;
#endif
    default:
        bq_gemm_scalar(a, lda, m, packed, k, column_begin, column_end, output);
        return;
    }
}
