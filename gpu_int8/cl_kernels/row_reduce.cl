// Work-group reductions over a row that WG work-items share (WG a power of two),
// through local memory (OpenCL C 1.2: no work-group collectives needed).
// part: __local float[WG]; every work-item of the group calls these.

// the maximum (take_max) or the sum of v over the group; inlined with a constant take_max
inline float group_reduce(__local float *part, float v, const int take_max)
{
    const int lid = get_local_id(0);
    part[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = WG / 2; width > 0; width >>= 1) {
        if (lid < width)
            part[lid] = take_max ? fmax(part[lid], part[lid + width]) : part[lid] + part[lid + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float r = part[0];
    barrier(CLK_LOCAL_MEM_FENCE);  // part is reused by the next reduction
    return r;
}

inline float group_max(__local float *part, float v) { return group_reduce(part, v, 1); }

inline float group_sum(__local float *part, float v) { return group_reduce(part, v, 0); }
