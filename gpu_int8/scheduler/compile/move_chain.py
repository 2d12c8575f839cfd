"""Consecutive moves as one copy: a Reshape -> Transpose -> Reshape channel shuffle, a
Transpose -> Reshape before a MatMul, ... each stored its tensor, though only the next move
read it.  Their index maps compose, so the last move copies straight from the first one's
input (or aliases it) and the others do nothing: ShuffleNet's shuffles took three copies
each, one of them between layouts element by element.

A chain is consecutive move steps, each with one tensor input and one output, every
intermediate read by the next step only and not a model output.  Plans built with
``keep_all`` (tests reading every tensor) keep every move.

The other step groups (``float_groups.py``, ``se_gate.py``, ``attention_group.py``) share its helpers: which
tensors have one reader (:func:`read_once`), which steps are moves (:func:`single_move`), a
group as one step (:func:`grouped_step`) and the plan of a member whose work another kernel
does (:func:`folded_plan`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from gpu_int8.schedule import Schedule, Step
from gpu_int8.schedule.schedule import DATA_MOVEMENT
from gpu_int8.scheduler.compile.actions import StepPlan


@dataclass(repr=False)
class MoveChain(Step):
    """Moves ``chain`` as one step: the first's input, the last's output, the ops run in turn."""

    chain: list[Step] = field(default_factory=list)

    def run_op(self, tensors: list) -> tuple:
        for step in self.chain:
            tensors = list(step.run_op(tensors))
        return tuple(tensors)

    @property
    def op_type(self) -> str:
        return "+".join(s.op_type or s.kind for s in self.chain)


def single_move(step: Step) -> bool:
    """A pure gather of one tensor into one (a max pool computes: it has kernels of its own)."""
    moves = step.kind == "move" or (step.kind == "float" and step.op_type in DATA_MOVEMENT)
    return moves and step.op_type != "MaxPool" and len(step.inputs) == 1 and len(step.outputs) == 1


def read_once(schedule: Schedule):
    """A test of whether a tensor has one reading step and is no model output: an intermediate
    that a group of steps compiled as one need not store."""
    readers: dict[str, int] = {}
    for step in schedule.steps:
        for name in set(step.inputs):
            readers[name] = readers.get(name, 0) + 1
    outputs = set(schedule.outputs)
    return lambda name: readers.get(name) == 1 and name not in outputs


def move_chains(schedule: Schedule) -> dict[int, list[int]]:
    """Chains of at least two steps, by the index of their first step."""
    intermediate = read_once(schedule)
    chains, i, steps = {}, 0, schedule.steps
    while i < len(steps):
        j = i
        while (j + 1 < len(steps) and single_move(steps[j]) and single_move(steps[j + 1])
               and steps[j + 1].inputs[0] == steps[j].outputs[0] and intermediate(steps[j].outputs[0])):
            j += 1
        if j > i:
            chains[i] = list(range(i, j + 1))
        i = j + 1
    return chains


def chained_step(steps: list[Step]) -> MoveChain:
    """The chain as one move step, named and stored as its last step."""
    last = steps[-1]
    return MoveChain(last.name, "move", [steps[0].inputs[0]], list(last.outputs), dict(last.attrs), {},
                     absorbed=[a for s in steps for a in s.absorbed], chain=list(steps))


def grouped_step(steps: list[Step]) -> Step:
    """Steps compiled as one kernel as one step: the first one's input, the last one's outputs
    and program, what they all absorbed."""
    return dataclasses.replace(steps[-1], inputs=[steps[0].inputs[0]],
                               absorbed=[a for s in steps for a in s.absorbed])


def folded_plan(step: Step, into: str, verb: str = "moved") -> StepPlan:
    """The plan of a chain's (or a fused group's) earlier step: no work, its tensor never stored."""
    return StepPlan(dataclasses.replace(step, outputs=[]), "fused", "alias", note=f"{verb} by '{into}'")
