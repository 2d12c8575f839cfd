// A box copy of the scheduler's move steps (see gpu_int8/scheduler/move_maps.py):
//   out[OB + sum(i_d * os_d)] = in[IB + sum(i_d * is_d)] over an N-D box of BOX_COUNT elements.
// Stored values are copied bit for bit.  Instance macros (gpu_int8/scheduler/compile/move.py):
//   E_T              element type of one size (uchar for u8/i8, uint for 32-bit tensors)
//   BOX_VEC          elements one work-item copies: a run contiguous on both sides; vector loads
//                    keep CPU runtimes from loading byte by byte
//   BOX_RUN_COPY     (BOX_VEC not 1, 2, 4, 8 or 16) statements copying them as several vectors
//   BOX_COUNT        work-items (elements in the box / BOX_VEC, or / (TILE_O * TILE_I))
//   BOX_OFFSETS(i)   statements declaring int o, s: the output and input offsets of work-item i's
//                    first element (the box's shape and strides are constants of the instance)
// A transposing box (a channel shuffle: the output's contiguous axis is strided in the input,
// and another axis is contiguous in the input) copies a tile per work-item instead:
//   TILE_O           elements along the output's contiguous axis (its whole extent)
//   TILE_I           elements along the input's contiguous axis, output stride TILE_O
//   TILE_STEP        the input stride of the output's contiguous axis
//   TILE_N           TILE_O * TILE_I: 2, 4, 8 or 16, the run the work-item stores
// It loads TILE_O runs of TILE_I, one byte or word of each per output run of TILE_O.

#define BOX_CAT_(a, b) a##b
#define BOX_CAT(a, b) BOX_CAT_(a, b)

__kernel void copy_box(__global E_T *out, __global const E_T *in)
{
    const int i = get_global_id(0);
    if (i >= BOX_COUNT)
        return;
    BOX_OFFSETS(i)
#if defined(TILE_O)
    E_T runs[TILE_N], tile[TILE_N];
    for (int b = 0; b < TILE_O; b++)
        BOX_CAT(vstore, TILE_I)(BOX_CAT(vload, TILE_I)(0, in + s + b * TILE_STEP), 0, runs + b * TILE_I);
    for (int a = 0; a < TILE_I; a++)
        for (int b = 0; b < TILE_O; b++)
            tile[a * TILE_O + b] = runs[b * TILE_I + a];
    BOX_CAT(vstore, TILE_N)(BOX_CAT(vload, TILE_N)(0, tile), 0, out + o);
#elif defined(BOX_RUN_COPY)
    BOX_RUN_COPY
#elif BOX_VEC == 1
    out[o] = in[s];
#else
    BOX_CAT(vstore, BOX_VEC)(BOX_CAT(vload, BOX_VEC)(0, in + s), 0, out + o);
#endif
}
