"""Constants packed into one buffer (gpu_int8/scheduler/const_pack.py)."""

import numpy as np

from gpu_int8.scheduler.const_pack import PART_ALIGNMENT, offset_macros, pack_constants


def test_parts_keep_their_bytes_at_aligned_offsets():
    parts = {"W": np.arange(-70, 70, dtype=np.int8), "COMP": np.array([3, -1, 7], np.int32),
             "EMPTY": np.zeros(0, np.float32), "SCALE": np.array([0.5, 0.25], np.float32)}
    packed, offsets = pack_constants(parts)
    assert list(offsets) == list(parts)
    assert all(at % PART_ALIGNMENT == 0 for at in offsets.values())
    assert offsets == {"W": 0, "COMP": 192, "EMPTY": 256, "SCALE": 256}  # 140 bytes round up to 192
    for name, array in parts.items():
        raw = packed[offsets[name]:offsets[name] + array.nbytes]
        np.testing.assert_array_equal(raw.view(array.dtype), array, err_msg=name)
    assert packed.dtype == np.uint8 and packed.size == 320
    assert offset_macros(offsets) == {"W_AT": 0, "COMP_AT": 192, "EMPTY_AT": 256, "SCALE_AT": 256}


def test_nothing_to_pack_is_one_byte():
    packed, offsets = pack_constants({})
    assert packed.size == 1 and offsets == {}
