// Float softmax over the last axis of a [ROWS][L] float32 tensor (the final classifier
// layer, which stays in float).  One work-item per row; exp of x - max for range.
//
//   global = (ROWS)
//
// Build-time macros: L.

__kernel void softmax(__global const float *x, __global float *y, int rows)
{
    const int r = get_global_id(0);
    if (r >= rows)
        return;
    const __global float *xr = x + (size_t)r * L;
    __global float *yr = y + (size_t)r * L;
    float mx = xr[0];
    for (int i = 1; i < L; ++i)
        mx = fmax(mx, xr[i]);
    float sum = 0.0f;
    for (int i = 0; i < L; ++i) {
        const float e = exp(xr[i] - mx);
        yr[i] = e;
        sum += e;
    }
    const float inv = 1.0f / sum;
    for (int i = 0; i < L; ++i)
        yr[i] *= inv;
}
