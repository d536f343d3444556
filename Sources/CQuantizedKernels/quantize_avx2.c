// Per-row activation quantization with AVX2: the same formula as quantize.c's, lane by lane
// (max is exact in any order; x · inverse then cvtps2dq rounds to nearest even as rintf does),
// so both give the same bytes.
#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <string.h>
#include "internal.h"

#define AVX2 __attribute__((target("avx2")))

AVX2 void bq_quantize_rows_avx2(const float *x, size_t ldx, int m, int k, int8_t *q, size_t ldq, float *scales) {
    const int kp = bq_padded_k(k);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i lo = _mm256_set1_epi32(-127), hi = _mm256_set1_epi32(127);
    for (int r = 0; r < m; r++) {
        const float *xr = x + (size_t)r * ldx;
        int8_t *qr = q + (size_t)r * ldq;
        // amax = max |x| over the row
        __m256 vmax = _mm256_setzero_ps();
        int c = 0;
        for (; c + 8 <= k; c += 8) vmax = _mm256_max_ps(vmax, _mm256_andnot_ps(sign, _mm256_loadu_ps(xr + c)));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
        float amax = _mm_cvtss_f32(m4);
        for (; c < k; c++) amax = fmaxf(amax, fabsf(xr[c]));
        const float inverse = bq_inverse_scale(amax);
        const __m256 vinv = _mm256_set1_ps(inverse);
        c = 0;
        for (; c + 8 <= k; c += 8) {
            __m256i v = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xr + c), vinv));
            v = _mm256_min_epi32(_mm256_max_epi32(v, lo), hi);
            // 8 × int32 → 8 × int8 (values already in range, so the saturating packs are exact)
            __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
            _mm_storel_epi64((__m128i *)(qr + c), _mm_packs_epi16(w16, w16));
        }
        for (; c < k; c++) {
            float v = rintf(xr[c] * inverse);
            v = v > 127 ? 127 : (v < -127 ? -127 : v);
            qr[c] = (int8_t)v;
        }
        memset(qr + k, 0, (size_t)(kp - k));
        scales[r] = amax / 127.0f;
    }
}
#endif
