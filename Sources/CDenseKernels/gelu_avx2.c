// Bias + exact GELU over rows, eight lanes at a time with AVX2: the arithmetic of BertCore's
// `biasActivationForward(activation: .gelu)` (FastMath.swift's fastErf), operation for operation
// and without FMA contraction, so both give the same bits. The Swift version compiles to partly
// 128-bit and scalar code; this one stays in ymm registers.
#if defined(__x86_64__)
#include <immintrin.h>
#include "internal.h"

#define GELU_TARGET "avx2"
#define GELU_INLINE static inline __attribute__((always_inline, target(GELU_TARGET)))

// Swift's lanesMax(a, b) = b > a ? b : a and lanesMin(a, b) = b < a ? b : a (a NaN in a is kept):
// maxps/minps return their second operand unless the first one wins the comparison.
GELU_INLINE __m256 lanes_max(__m256 a, __m256 b) { return _mm256_max_ps(b, a); }
GELU_INLINE __m256 lanes_min(__m256 a, __m256 b) { return _mm256_min_ps(b, a); }

#define MUL_ADD(p, x, c) _mm256_add_ps(_mm256_mul_ps((p), (x)), _mm256_set1_ps(c))

// fastErf: Eigen's rational approximation on [-4, 4].
GELU_INLINE __m256 erf8(__m256 x) {
    x = lanes_min(lanes_max(x, _mm256_set1_ps(-4.0f)), _mm256_set1_ps(4.0f));
    const __m256 x2 = _mm256_mul_ps(x, x);
    __m256 p = _mm256_set1_ps(-2.72614225801306e-10f);
    p = MUL_ADD(p, x2, 2.77068142495902e-08f);
    p = MUL_ADD(p, x2, -2.10102402082508e-06f);
    p = MUL_ADD(p, x2, -5.69250639462346e-05f);
    p = MUL_ADD(p, x2, -7.34990630326855e-04f);
    p = MUL_ADD(p, x2, -2.95459980854025e-03f);
    p = MUL_ADD(p, x2, -1.60960333262415e-02f);
    p = _mm256_mul_ps(p, x);
    __m256 q = _mm256_set1_ps(-1.45660718464996e-05f);
    q = MUL_ADD(q, x2, -2.13374055278905e-04f);
    q = MUL_ADD(q, x2, -1.68282697438203e-03f);
    q = MUL_ADD(q, x2, -7.37332916720468e-03f);
    q = MUL_ADD(q, x2, -1.42647390514189e-02f);
    return _mm256_div_ps(p, q);
}

// 0.5 · v · (1 + erf(v · 1/√2)), evaluated left to right as the Swift expression is.
GELU_INLINE __m256 gelu8(__m256 v) {
    const __m256 e = erf8(_mm256_mul_ps(v, _mm256_set1_ps(0.70710678118654752f)));
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), v), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

__attribute__((target(GELU_TARGET)))
void bd_bias_gelu_avx2(float *x, size_t ld, const float *bias, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
        float *row = x + (size_t)r * ld;
        int c = 0;
        for (; c + 8 <= cols; c += 8)
            _mm256_storeu_ps(row + c, gelu8(_mm256_add_ps(_mm256_loadu_ps(row + c), _mm256_loadu_ps(bias + c))));
        for (; c < cols; c++)  // the tail through the same vector code, as Swift's does
            row[c] = _mm256_cvtss_f32(gelu8(_mm256_set1_ps(row[c] + bias[c])));
    }
}
#endif
