// Shared by the kernel files; not part of the module's interface.
#ifndef BERTD_DENSE_INTERNAL_H
#define BERTD_DENSE_INTERNAL_H

#include "dense_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

/// How many 4-column tiles ahead the weights are prefetched: far enough for the memory's latency
/// (measured on Zen 4: 1, 2 and 4 within noise for MiniLM and BERT-base; 2 the best for MiniLM).
enum { BD_PREFETCH_TILES = 2 };

/// The weights a few tiles ahead, one 64-byte line at a time, spread evenly over the steps of a
/// tile's row tiles: a burst of a whole tile's lines at once overflows the miss buffers (measured:
/// spreading them makes the layer 20 % faster than prefetching all in the first row tile). Into L2,
/// not L1: L1 (32 KB) cannot also hold the rows of x (12 tokens × 768 floats are 36 KB) and the
/// tile in use, and prefetched lines were evicted before use (L1 → L2: a sentence 2.0 → 1.7 ms on
/// MiniLM, 19 → 16 ms on BERT-base).
typedef struct {
    const float *next;  // the next line to ask for
    const float *end;   // the end of the lines this tile asks for
    int per_step;       // lines per step of the k loop
} bd_prefetch;

/// Points the cursor at the weights BD_PREFETCH_TILES tiles after `tile` (4 rows of k floats),
/// not past `end`; `steps`: the k-loop steps of all row tiles over this tile.
static inline void bd_prefetch_tile(bd_prefetch *pf, const float *tile, int k, const float *end, int steps) {
    const float *start = tile + (size_t)BD_PREFETCH_TILES * 4 * k;
    if (pf->next < start) pf->next = start;
    pf->end = start + (size_t)4 * k < end ? start + (size_t)4 * k : end;
    const int lines = (4 * k + 15) / 16;
    pf->per_step = (lines + steps - 1) / steps;
}

/// One step's share of the prefetches (into L2).
static inline __attribute__((always_inline)) void bd_prefetch_step(bd_prefetch *pf) {
    for (int j = 0; j < pf->per_step && pf->next < pf->end; j++, pf->next += 16)
        _mm_prefetch((const char *)pf->next, _MM_HINT_T1);
}
#endif

void bd_linear_small_m_avx2(const float *x, size_t ldx, int m, const float *w, int k,
                            int column_begin, int column_end, float *out, size_t ldo);
void bd_bias_gelu_avx2(float *x, size_t ld, const float *bias, int rows, int cols);
void bd_linear_small_m_avx512(const float *x, size_t ldx, int m, const float *w, int k,
                              int column_begin, int column_end, float *out, size_t ldo);

#endif
