// Float MVN over the trailing LEN elements of each row of a plain float32 tensor:
// d = x - mean(x); with NORMALIZE, y = d / sqrt(mean(d^2) + EPS) (EPS_INSIDE) or
// d / (sqrt(mean(d^2)) + EPS).  The variance is taken of the centered values, as the
// reference does.  mvn: one work-group of WG work-items per row; mvn_rows: one work-item
// per row, taking the same sums in the same order (WG strided partial sums, then the
// group's tree), so both store the same values.
// Instance macros: ROWS, LEN, WG, NORMALIZE, EPS_INSIDE, EPS (a float literal).
// With the quantization around it (compile/float_groups.py): X_T, Y_T, LOAD(v,j) (the
// dequantization of the stored value at row element j, reading kd), STORE_Y(v,j) (the
// quantization, reading kq) and GROUP_ARGS (those two constant buffers); by default float
// in, float out.

#include "row_reduce.cl"

#ifndef X_T
#define X_T float
#define Y_T float
#define LOAD(v, j) (v)
#define STORE_Y(v, j) (v)
#define GROUP_ARGS
#endif

// (v - mean) / norm, norm of the variance var; or v - mean
#if NORMALIZE
#if EPS_INSIDE
#define MVN_NORM(var) sqrt((var) + EPS)
#else
#define MVN_NORM(var) (sqrt(var) + EPS)
#endif
#define MVN_OUT(v, mean, norm) (((v) - (mean)) / (norm))
#else
#define MVN_OUT(v, mean, norm) ((v) - (mean))
#endif

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void mvn(__global Y_T *y, __global const X_T *x GROUP_ARGS)
{
    __local float part[WG];
    const int lid = get_local_id(0);
    if (get_group_id(0) >= ROWS)  // the whole group leaves: no barrier is left waiting
        return;
    const size_t base = (size_t)get_group_id(0) * LEN;
    float s = 0.0f;
    for (int j = lid; j < LEN; j += WG)
        s += LOAD((float)x[base + j], j);
    const float mean = group_sum(part, s) / (float)LEN;
#if NORMALIZE
    float q = 0.0f;
    for (int j = lid; j < LEN; j += WG) {
        const float d = LOAD((float)x[base + j], j) - mean;
        q += d * d;
    }
    const float norm = MVN_NORM(group_sum(part, q) / (float)LEN);
#endif
    for (int j = lid; j < LEN; j += WG)
        y[base + j] = STORE_Y(MVN_OUT(LOAD((float)x[base + j], j), mean, norm), j);
}

// the sum of part[0..WG) in group_sum's order
inline float tree_sum(float *part)
{
    for (int width = WG / 2; width > 0; width >>= 1)
        for (int l = 0; l < width; ++l)
            part[l] = part[l] + part[width + l];
    return part[0];
}

// many short rows (PP-OCRv4 rec's 40 x 120 layer norms): a work-group per row paid more for
// scheduling its groups and barriers than for the sums
__kernel void mvn_rows(__global Y_T *y, __global const X_T *x GROUP_ARGS)
{
    const int row = get_global_id(0);
    if (row >= ROWS)
        return;
    const size_t base = (size_t)row * LEN;
    float part[WG];
    for (int l = 0; l < WG; ++l) {
        float s = 0.0f;
        for (int j = l; j < LEN; j += WG)
            s += LOAD((float)x[base + j], j);
        part[l] = s;
    }
    const float mean = tree_sum(part) / (float)LEN;
#if NORMALIZE
    for (int l = 0; l < WG; ++l) {
        float q = 0.0f;
        for (int j = l; j < LEN; j += WG) {
            const float d = LOAD((float)x[base + j], j) - mean;
            q += d * d;
        }
        part[l] = q;
    }
    const float norm = MVN_NORM(tree_sum(part) / (float)LEN);
#endif
    for (int j = 0; j < LEN; ++j)
        y[base + j] = STORE_Y(MVN_OUT(LOAD((float)x[base + j], j), mean, norm), j);
}
