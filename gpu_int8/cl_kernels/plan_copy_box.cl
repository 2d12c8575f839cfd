// A box copy of the scheduler's move steps (see gpu_int8/scheduler/move_maps.py):
//   out[OB + sum(i_d * os_d)] = in[IB + sum(i_d * is_d)] over an N-D box of BOX_COUNT elements.
// Stored values are copied bit for bit.  Instance macros (gpu_int8/scheduler/compile/move.py):
//   E_T              element type of one size (uchar for u8/i8, uint for 32-bit tensors)
//   BOX_COUNT        elements in the box
//   BOX_OFFSETS(i)   statements declaring int o, s: the output and input offsets of element i
//                    (the box's shape and strides are constants of the instance)

__kernel void copy_box(__global E_T *out, __global const E_T *in)
{
    const int i = get_global_id(0);
    if (i >= BOX_COUNT)
        return;
    BOX_OFFSETS(i)
    out[o] = in[s];
}
