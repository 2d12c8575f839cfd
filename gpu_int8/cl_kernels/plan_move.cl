// Data movement for the scheduler's move steps (see gpu_int8/scheduler/move_maps.py).
// Stored values are copied bit for bit; E_T is the element type of one size
// (uchar for u8/i8, uint for 32-bit tensors), set per instance.
//
//   copy_box:   out[ob + sum(i_d * os_d)] = in[ib + sum(i_d * is_d)] over an N-D box,
//               desc = [rank, count, ob, ib, dims[rank], os[rank], is[rank]]
//   gather_map: out[i] = in[map[i]] where map[i] >= 0 (other inputs or the fill own the rest)
//   fill:       out[i] = value for i < count

__kernel void copy_box(__global E_T *out, __global const E_T *in, __global const int *desc)
{
    const int i = get_global_id(0);
    const int rank = desc[0];
    if (i >= desc[1])
        return;
    int o = desc[2], s = desc[3], rem = i;
    for (int d = rank - 1; d > 0; --d) {
        const int dim = desc[4 + d];
        const int q = rem / dim;
        const int r = rem - q * dim;
        o += r * desc[4 + rank + d];
        s += r * desc[4 + 2 * rank + d];
        rem = q;
    }
    o += rem * desc[4 + rank];
    s += rem * desc[4 + 2 * rank];
    out[o] = in[s];
}

__kernel void gather_map(__global E_T *out, __global const E_T *in, __global const int *map, int count)
{
    const int i = get_global_id(0);
    if (i >= count)
        return;
    const int m = map[i];
    if (m >= 0)
        out[i] = in[m];
}

__kernel void fill(__global E_T *out, E_T value, int count)
{
    const int i = get_global_id(0);
    if (i < count)
        out[i] = value;
}
