// Float Softmax along one axis of a plain (row-major) float32 tensor:
// y = exp(x - max) / sum(exp(x - max)), one work-item per row.
// Instance macros: ROWS (outer * inner), AXIS_LEN, INNER (elements after the axis).

__kernel void softmax(__global float *y, __global const float *x)
{
    const int r = get_global_id(0);
    if (r >= ROWS)
        return;
    const int outer = r / INNER;
    const int inner = r - outer * INNER;
    const int base = outer * AXIS_LEN * INNER + inner;
    float m = x[base];
    for (int j = 1; j < AXIS_LEN; ++j)
        m = fmax(m, x[base + j * INNER]);
    float s = 0.0f;
    for (int j = 0; j < AXIS_LEN; ++j)
        s += exp(x[base + j * INNER] - m);
    for (int j = 0; j < AXIS_LEN; ++j)
        y[base + j * INNER] = exp(x[base + j * INNER] - m) / s;
}
