// The AVX2 + FMA version (Haswell and later, AMD Zen 1 included): tiles of up to 2 rows × 4
// weight rows (8 accumulators of 8 lanes: with the 4 weight vectors and a row of x, 13 of the
// 16 ymm registers), k's tail in scalar arithmetic.
#if defined(__x86_64__)
#include <immintrin.h>
#include "internal.h"

#define AVX2_TARGET "avx2,fma"
#define AVX2_INLINE static inline __attribute__((always_inline, target(AVX2_TARGET)))

// The four horizontal sums of a, b, c, d as one vector (a's first).
AVX2_INLINE __m128 sum4(__m256 a, __m256 b, __m256 c, __m256 d) {
    __m256 all = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
    return _mm_add_ps(_mm256_castps256_ps128(all), _mm256_extractf128_ps(all, 1));
}

// out (MR, 4) = x (MR, k) · w (4, k)ᵀ, asking for later weights on the way.
AVX2_INLINE void tile(const float *x, size_t ldx, const int MR, const float *w, int k,
                      bd_prefetch *pf, float *out, size_t ldo) {
    __m256 acc[2][4];
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < 4; c++) acc[r][c] = _mm256_setzero_ps();
    const int k8 = k & ~7;
    for (int p = 0; p < k8; p += 8) {
        bd_prefetch_step(pf);
        __m256 v[4];
        for (int c = 0; c < 4; c++) v[c] = _mm256_loadu_ps(w + (size_t)c * k + p);
        for (int r = 0; r < MR; r++) {
            const __m256 u = _mm256_loadu_ps(x + (size_t)r * ldx + p);
            for (int c = 0; c < 4; c++) acc[r][c] = _mm256_fmadd_ps(u, v[c], acc[r][c]);
        }
    }
    for (int r = 0; r < MR; r++) {
        float sums[4];
        _mm_storeu_ps(sums, sum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]));
        const float *xr = x + (size_t)r * ldx;
        for (int p = k8; p < k; p++)
            for (int c = 0; c < 4; c++) sums[c] += xr[p] * w[(size_t)c * k + p];
        for (int c = 0; c < 4; c++) out[(size_t)r * ldo + c] = sums[c];
    }
}

// One weight row (a column of out) for every row of x.
AVX2_INLINE void column(const float *x, size_t ldx, int m, const float *w, int k, float *out, size_t ldo) {
    const int k8 = k & ~7;
    for (int r = 0; r < m; r++) {
        const float *xr = x + (size_t)r * ldx;
        __m256 acc = _mm256_setzero_ps();
        for (int p = 0; p < k8; p += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(xr + p), _mm256_loadu_ps(w + p), acc);
        float s = _mm_cvtss_f32(sum4(acc, _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()));
        for (int p = k8; p < k; p++) s += xr[p] * w[p];
        out[(size_t)r * ldo] = s;
    }
}

__attribute__((target(AVX2_TARGET)))
void bd_linear_small_m_avx2(const float *x, size_t ldx, int m, const float *w, int k,
                            int column_begin, int column_end, float *out, size_t ldo) {
    const float *end = w + (size_t)column_end * k;
    bd_prefetch pf = {w, w, 0};
    int n = column_begin;
    for (; n + 4 <= column_end; n += 4) {
        const float *wt = w + (size_t)n * k;
        bd_prefetch_tile(&pf, wt, k, end, ((m + 1) / 2) * ((k + 7) / 8));
        int i = 0;
        for (; i + 2 <= m; i += 2) tile(x + (size_t)i * ldx, ldx, 2, wt, k, &pf, out + (size_t)i * ldo + n, ldo);
        if (i < m) tile(x + (size_t)i * ldx, ldx, 1, wt, k, &pf, out + (size_t)i * ldo + n, ldo);
    }
    for (; n < column_end; n++) column(x, ldx, m, w + (size_t)n * k, k, out + n, ldo);
}
#endif
