"""Advice the commands print when a run will not do what the user most likely wants."""

from __future__ import annotations


def float_model_hint(engine, model) -> str | None:
    """A note when precision int8 was asked for but no compute layer runs in int8: the model
    carries no FakeQuantize, so the user should quantize it first."""
    schedule = engine.schedule
    if schedule is None:
        return None
    summary = schedule.summary()
    if summary.compute == 0 or summary.int8 > 0:
        return None
    return (f"note: none of the {summary.compute} compute layers runs in int8: the model has no FakeQuantize "
            f"layers. Make an int8 model first: python -m gpu_int8 quantize -m {model} -d CALIBRATION_IMAGES/ "
            f"-o model_int8.xml")
