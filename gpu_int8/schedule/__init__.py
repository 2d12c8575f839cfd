"""The Schedule: fused int8 steps with their precisions and folded constants.

Device independent and serializable (:mod:`gpu_int8.schedule.serialize`);
the requantization epilogue all int8 steps share is defined in
:mod:`gpu_int8.schedule.epilogue`.
"""

from gpu_int8.schedule.schedule import Schedule, Summary
from gpu_int8.schedule.step import KINDS, Step
from gpu_int8.schedule.tensor import Tensor

__all__ = ["KINDS", "Schedule", "Step", "Summary", "Tensor"]
