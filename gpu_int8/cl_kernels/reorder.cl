// Reorder a tensor between layouts (nchw, nhwc, fsv16; see layout.cl), any element type.
// fsv16 padding channels of the destination are written as PAD_VALUE.
//
//   global = (destination physical element count)
//
// Build-time macros: T, SRC_LAYOUT, DST_LAYOUT, C, H, W, PAD_VALUE.

#include "layout.cl"

#ifndef PAD_VALUE
#define PAD_VALUE 0
#endif

__kernel void reorder(__global const T *src, __global T *dst, int N)
{
    const size_t i = get_global_id(0);
    if (i >= tensor_size(DST_LAYOUT, N, C, H, W))
        return;
    const int4 p = tensor_coords(DST_LAYOUT, i, C, H, W);
    dst[i] = p.y < C ? src[tensor_offset(SRC_LAYOUT, p.x, p.y, p.z, p.w, C, H, W)] : (T)(PAD_VALUE);
}
