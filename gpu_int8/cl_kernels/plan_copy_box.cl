// A box copy of the scheduler's move steps (see gpu_int8/scheduler/move_maps.py):
//   out[OB + sum(i_d * os_d)] = in[IB + sum(i_d * is_d)] over an N-D box of BOX_COUNT elements.
// Stored values are copied bit for bit.  Instance macros (gpu_int8/scheduler/compile/move.py):
//   E_T              element type of one size (uchar for u8/i8, uint for 32-bit tensors)
//   BOX_VEC          elements one work-item copies: a run contiguous on both sides (1, 2, 4, 8, 16);
//                    vector loads keep CPU runtimes from loading byte by byte
//   BOX_COUNT        work-items (elements in the box / BOX_VEC)
//   BOX_OFFSETS(i)   statements declaring int o, s: the output and input offsets of work-item i's
//                    first element (the box's shape and strides are constants of the instance)

#define BOX_CAT_(a, b) a##b
#define BOX_CAT(a, b) BOX_CAT_(a, b)

__kernel void copy_box(__global E_T *out, __global const E_T *in)
{
    const int i = get_global_id(0);
    if (i >= BOX_COUNT)
        return;
    BOX_OFFSETS(i)
#if BOX_VEC == 1
    out[o] = in[s];
#else
    BOX_CAT(vstore, BOX_VEC)(BOX_CAT(vload, BOX_VEC)(0, in + s), 0, out + o);
#endif
}
