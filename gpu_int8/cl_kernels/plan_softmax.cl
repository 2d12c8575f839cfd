// Float Softmax along one axis of a plain (row-major) float32 tensor:
// y = exp(x - max) / sum(exp(x - max)).  One work-group of WG work-items per row,
// each taking every WG-th element, so a long row (a recognizer's 6625 classes) is
// spread over a vector's lanes instead of walked by one work-item.
// Instance macros: ROWS (outer * inner), AXIS_LEN, INNER (elements after the axis), WG.

#include "row_reduce.cl"

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void softmax(__global float *y, __global const float *x)
{
    __local float part[WG];
    const int r = get_group_id(0), lid = get_local_id(0);
    if (r >= ROWS)  // the whole group leaves: no barrier is left waiting
        return;
    const int outer = r / INNER;
    const int base = outer * AXIS_LEN * INNER + (r - outer * INNER);
    float m = -INFINITY;
    for (int j = lid; j < AXIS_LEN; j += WG)
        m = fmax(m, x[base + j * INNER]);
    m = group_max(part, m);
    float s = 0.0f;
    for (int j = lid; j < AXIS_LEN; j += WG) {
        const float e = exp(x[base + j * INNER] - m);
        y[base + j * INNER] = e;
        s += e;
    }
    s = group_sum(part, s);  // its barriers also order the stores above before the reads below
    for (int j = lid; j < AXIS_LEN; j += WG)
        y[base + j * INNER] = y[base + j * INNER] / s;
}
