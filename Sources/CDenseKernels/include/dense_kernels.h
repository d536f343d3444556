// fp32 dense-layer kernels for few rows (a sentence or two: M < 48), where OpenBLAS's packing
// costs more than the arithmetic and the weights, read once per forward pass, come from memory.
// Versions for AVX-512 and AVX2 + FMA, chosen at run time; they sum in different orders, so the
// last bits of a result may differ between CPUs, as OpenBLAS's do.
#ifndef BERTD_DENSE_KERNELS_H
#define BERTD_DENSE_KERNELS_H

#include <stddef.h>

typedef enum {
    BD_SMALL_M_NONE = 0,    // no C kernel for this CPU: the caller's portable one runs
    BD_SMALL_M_AVX2 = 1,    // 8 lanes, 2 rows × 4 columns per tile
    BD_SMALL_M_AVX512 = 2,  // 16 lanes, 4 rows × 4 columns per tile
} bd_small_m_kernel;

/// The fastest version this CPU runs (read once).
bd_small_m_kernel bd_small_m_best(void);

/// out[i, j] = Σ_p x[i, p] · w[j, p] for rows i < m and columns column_begin ≤ j < column_end:
/// a dense layer without bias, the weight (n, k) row-major as torch.nn.Linear stores it, x (m, k)
/// with row stride ldx, out with row stride ldo. Each weight row is read from memory once for all
/// m rows; the rows a few tiles ahead are prefetched while the current ones are used.
/// `kernel` must be one bd_small_m_best() allows (not NONE).
void bd_linear_small_m(bd_small_m_kernel kernel, const float *x, size_t ldx, int m,
                       const float *w, int k, int column_begin, int column_end,
                       float *out, size_t ldo);

/// x[r, c] = gelu(x[r, c] + bias[c]) for r < rows, c < cols (row stride ld): the exact GELU
/// (x/2 · (1 + erf(x/√2))) with BertCore's fastErf, bit for bit. Needs AVX2 (x86-64 only; returns
/// 0 without doing anything where it is not available, 1 when done).
int bd_bias_gelu(float *x, size_t ld, const float *bias, int rows, int cols);

#endif
