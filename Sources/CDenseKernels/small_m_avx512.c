// The AVX-512 version: tiles of up to 4 rows × 4 weight rows (16 accumulators of 16 lanes), a
// masked load for k's tail, the 4 sums of a row reduced together into one 128-bit store.
#if defined(__x86_64__)
#include <immintrin.h>
#include "internal.h"

#define AVX512_TARGET "avx512f,avx512dq,avx2,fma"
#define AVX512_INLINE static inline __attribute__((always_inline, target(AVX512_TARGET)))

// The four horizontal sums of a, b, c, d as one vector (a's first).
AVX512_INLINE __m128 sum4(__m512 a, __m512 b, __m512 c, __m512 d) {
    __m256 a8 = _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1));
    __m256 b8 = _mm256_add_ps(_mm512_castps512_ps256(b), _mm512_extractf32x8_ps(b, 1));
    __m256 c8 = _mm256_add_ps(_mm512_castps512_ps256(c), _mm512_extractf32x8_ps(c, 1));
    __m256 d8 = _mm256_add_ps(_mm512_castps512_ps256(d), _mm512_extractf32x8_ps(d, 1));
    __m256 all = _mm256_hadd_ps(_mm256_hadd_ps(a8, b8), _mm256_hadd_ps(c8, d8));
    return _mm_add_ps(_mm256_castps256_ps128(all), _mm256_extractf128_ps(all, 1));
}

// out (MR, 4) = x (MR, k) · w (4, k)ᵀ, asking for later weights on the way.
AVX512_INLINE void tile(const float *x, size_t ldx, const int MR, const float *w, int k,
                        bd_prefetch *pf, float *out, size_t ldo) {
    __m512 acc[4][4];
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < 4; c++) acc[r][c] = _mm512_setzero_ps();
    int p = 0;
    for (; p + 16 <= k; p += 16) {
        bd_prefetch_step(pf);
        __m512 v[4];
        for (int c = 0; c < 4; c++) v[c] = _mm512_loadu_ps(w + (size_t)c * k + p);
        for (int r = 0; r < MR; r++) {
            const __m512 u = _mm512_loadu_ps(x + (size_t)r * ldx + p);
            for (int c = 0; c < 4; c++) acc[r][c] = _mm512_fmadd_ps(u, v[c], acc[r][c]);
        }
    }
    if (p < k) {
        const __mmask16 mask = (__mmask16)((1u << (k - p)) - 1);
        __m512 v[4];
        for (int c = 0; c < 4; c++) v[c] = _mm512_maskz_loadu_ps(mask, w + (size_t)c * k + p);
        for (int r = 0; r < MR; r++) {
            const __m512 u = _mm512_maskz_loadu_ps(mask, x + (size_t)r * ldx + p);
            for (int c = 0; c < 4; c++) acc[r][c] = _mm512_fmadd_ps(u, v[c], acc[r][c]);
        }
    }
    for (int r = 0; r < MR; r++) _mm_storeu_ps(out + (size_t)r * ldo, sum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]));
}

// One weight row (a column of out) for every row of x.
AVX512_INLINE void column(const float *x, size_t ldx, int m, const float *w, int k, float *out, size_t ldo) {
    for (int r = 0; r < m; r++) {
        const float *xr = x + (size_t)r * ldx;
        __m512 acc = _mm512_setzero_ps();
        int p = 0;
        for (; p + 16 <= k; p += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(xr + p), _mm512_loadu_ps(w + p), acc);
        if (p < k) {
            const __mmask16 mask = (__mmask16)((1u << (k - p)) - 1);
            acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, xr + p), _mm512_maskz_loadu_ps(mask, w + p), acc);
        }
        out[(size_t)r * ldo] = _mm512_reduce_add_ps(acc);
    }
}

__attribute__((target(AVX512_TARGET)))
void bd_linear_small_m_avx512(const float *x, size_t ldx, int m, const float *w, int k,
                              int column_begin, int column_end, float *out, size_t ldo) {
    const float *end = w + (size_t)column_end * k;
    bd_prefetch pf = {w, w, 0};
    int n = column_begin;
    for (; n + 4 <= column_end; n += 4) {
        const float *wt = w + (size_t)n * k;
        bd_prefetch_tile(&pf, wt, k, end, ((m + 3) / 4) * ((k + 15) / 16));
        int i = 0;
        for (; i + 4 <= m; i += 4) tile(x + (size_t)i * ldx, ldx, 4, wt, k, &pf, out + (size_t)i * ldo + n, ldo);
        switch (m - i) {  // constant tile heights, so each is unrolled
        case 3: tile(x + (size_t)i * ldx, ldx, 3, wt, k, &pf, out + (size_t)i * ldo + n, ldo); break;
        case 2: tile(x + (size_t)i * ldx, ldx, 2, wt, k, &pf, out + (size_t)i * ldo + n, ldo); break;
        case 1: tile(x + (size_t)i * ldx, ldx, 1, wt, k, &pf, out + (size_t)i * ldo + n, ldo); break;
        default: break;
        }
    }
    for (; n < column_end; n++) column(x, ldx, m, w + (size_t)n * k, k, out + n, ldo);
}
#endif
