// Data movement for the scheduler's move steps (see gpu_int8/scheduler/move_maps.py).
// Stored values are copied bit for bit; E_T is the element type of one size
// (uchar for u8/i8, uint for 32-bit tensors), set per instance.
//
//   (copy_box, a box copy with constant shape, is in plan_copy_box.cl)
//   gather_map: out[i] = in[map[i]] where map[i] >= 0 (other inputs or the fill own the rest)
//   fill:       out[i] = value for i < count

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
