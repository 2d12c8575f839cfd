"""GroupConvolution-1: filters ``[G, O/G, C/G, *k]``; channel group g of the data
meets filter group g.  Attributes as Convolution."""

from gpu_int8.ops.op_convolution import Convolution


class GroupConvolution(Convolution):
    @classmethod
    def grouped_filters_shape(cls, w_shape: tuple) -> tuple:
        return tuple(w_shape)
