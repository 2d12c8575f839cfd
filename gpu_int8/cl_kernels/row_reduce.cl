// Work-group reductions over a row that WG work-items share (WG a power of two),
// through local memory (OpenCL C 1.2: no work-group collectives needed).
// part: __local float[WG]; every work-item of the group calls these.

inline float group_max(__local float *part, float v)
{
    const int lid = get_local_id(0);
    part[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = WG / 2; width > 0; width >>= 1) {
        if (lid < width)
            part[lid] = fmax(part[lid], part[lid + width]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float r = part[0];
    barrier(CLK_LOCAL_MEM_FENCE);  // part is reused by the next reduction
    return r;
}

inline float group_sum(__local float *part, float v)
{
    const int lid = get_local_id(0);
    part[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = WG / 2; width > 0; width >>= 1) {
        if (lid < width)
            part[lid] += part[lid + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float r = part[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}
