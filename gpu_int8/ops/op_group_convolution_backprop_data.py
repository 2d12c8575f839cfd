"""GroupConvolutionBackpropData-1: filters ``[G, Ci/G, Co/G, *k]``; otherwise as
ConvolutionBackpropData."""

from gpu_int8.ops.op_convolution_backprop_data import ConvolutionBackpropData


class GroupConvolutionBackpropData(ConvolutionBackpropData):
    @classmethod
    def grouped_filters_shape(cls, w_shape: tuple) -> tuple:
        return tuple(w_shape)
