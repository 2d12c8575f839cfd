"""ConvertLike: Convert ``data`` to the element type of ``like`` (same rules as Convert)."""

from gpu_int8.ops.base import Op
from gpu_int8.ops.element_types import convert
from gpu_int8.ops.op_convert import is_weight_decompression


class ConvertLike(Op):
    @classmethod
    def can_fold(cls, node, inputs) -> bool:
        return not is_weight_decompression(inputs[0].dtype, inputs[1].dtype)

    @classmethod
    def run(cls, node, data, like):
        return (convert(data, like.dtype),)
