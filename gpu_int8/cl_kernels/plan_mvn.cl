// Float MVN over the trailing LEN elements of each row of a plain float32 tensor:
// d = x - mean(x); with NORMALIZE, y = d / sqrt(mean(d^2) + EPS) (EPS_INSIDE) or
// d / (sqrt(mean(d^2)) + EPS).  The variance is taken of the centered values, as the
// reference does.  One work-group of WG work-items per row.
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
    const float var = group_sum(part, q) / (float)LEN;
#if EPS_INSIDE
    const float norm = sqrt(var + EPS);
#else
    const float norm = sqrt(var) + EPS;
#endif
    for (int j = lid; j < LEN; j += WG)
        y[base + j] = STORE_Y((LOAD((float)x[base + j], j) - mean) / norm, j);
#else
    for (int j = lid; j < LEN; j += WG)
        y[base + j] = STORE_Y(LOAD((float)x[base + j], j) - mean, j);
#endif
}
