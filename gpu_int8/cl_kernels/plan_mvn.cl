// Float MVN over the trailing LEN elements of each row of a plain float32 tensor:
// d = x - mean(x); with NORMALIZE, y = d / sqrt(mean(d^2) + EPS) (EPS_INSIDE) or
// d / (sqrt(mean(d^2)) + EPS).  The variance is taken of the centered values, as the
// reference does.  One work-group of WG work-items per row.
// Instance macros: ROWS, LEN, WG, NORMALIZE, EPS_INSIDE, EPS (a float literal).

#include "row_reduce.cl"

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void mvn(__global float *y, __global const float *x)
{
    __local float part[WG];
    const int lid = get_local_id(0);
    if (get_group_id(0) >= ROWS)  // the whole group leaves: no barrier is left waiting
        return;
    const size_t base = (size_t)get_group_id(0) * LEN;
    float s = 0.0f;
    for (int j = lid; j < LEN; j += WG)
        s += x[base + j];
    const float mean = group_sum(part, s) / (float)LEN;
#if NORMALIZE
    float q = 0.0f;
    for (int j = lid; j < LEN; j += WG) {
        const float d = x[base + j] - mean;
        q += d * d;
    }
    const float var = group_sum(part, q) / (float)LEN;
#if EPS_INSIDE
    const float norm = sqrt(var + EPS);
#else
    const float norm = sqrt(var) + EPS;
#endif
    for (int j = lid; j < LEN; j += WG)
        y[base + j] = (x[base + j] - mean) / norm;
#else
    for (int j = lid; j < LEN; j += WG)
        y[base + j] = x[base + j] - mean;
#endif
}
