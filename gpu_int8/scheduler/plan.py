"""The Plan: a Schedule compiled for one OpenCL device.

Per step it holds the kernel variant and its launches (or a host call, or a
buffer alias), per tensor its layout (:class:`~gpu_int8.scheduler.compile.indexing.Placement`)
and its place in the liveness-planned arena (:mod:`gpu_int8.scheduler.memory`),
and the built programs - all of a plan's kernels in as few programs as there are
build-option sets, through the disk-cached :class:`~gpu_int8.scheduler.program_cache.ProgramCache`.
:class:`gpu_int8.runtime.plan_executor.PlanExecutor` runs it.

Layouts: 4-D int8 activations are stored in the kernel family's layout
(``nhwc`` for the portable kernels, ``fsv16`` for the Intel ones), so
convolutions chain without reorders; every other tensor is plain row-major,
and so are 4-D int8 matrices only MatMuls and data movement touch (attention).
Kernels other than the family convolutions address any layout, and moves map
between layouts for free.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

from gpu_int8.schedule import Schedule
from gpu_int8.scheduler.compile import CompileContext, StepPlan, compile_step
from gpu_int8.scheduler.compile.attention_group import attention_groups, compile_attention_group
from gpu_int8.scheduler.compile.concat_in_place import concat_targets
from gpu_int8.scheduler.compile.conv import FAMILY_LAYOUT
from gpu_int8.scheduler.compile.float_groups import compile_float_group, float_groups
from gpu_int8.scheduler.compile.indexing import Placement
from gpu_int8.scheduler.compile.lrn_group import nhwc_inputs
from gpu_int8.scheduler.compile.move import compile_move
from gpu_int8.scheduler.compile.move_chain import chained_step, folded_plan, move_chains
from gpu_int8.scheduler.compile.program import ProgramBuilder
from gpu_int8.scheduler.compile.requantize_and_copy import compile_requantize_and_copy, requantize_and_copy
from gpu_int8.scheduler.compile.requantize_first import compile_requantized_move, requantize_first
from gpu_int8.scheduler.compile.se_gate import compile_se_gate, se_gates
from gpu_int8.scheduler.compile.transposed_operand import compile_transposed_operand, transposed_operands
from gpu_int8.scheduler.memory import MemoryPlan, plan_memory

#: defined at the top of every plan program
HEADER = """\
#if defined(cl_khr_fp64)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
// (float)a / (float)b correctly rounded: the double quotient of two integers below 2^24,
// rounded to float, cannot land on a float midpoint
#define PLAN_DIV(a, b) ((float)((double)(a) / (double)(b)))
#else
#define PLAN_DIV(a, b) ((a) / (b))
#endif
"""


#: step kinds whose kernels are written for the family layout (or read it fastest)
_SPATIAL_KINDS = frozenset({"conv", "deconv", "avg_pool", "reduce_mean"})
#: steps that take any layout of their int8 tensors at no cost (besides the moves' copies)
_LAYOUT_NEUTRAL_KINDS = frozenset({"move", "quantize", "dequantize", "float", "matmul"})


def assign_layouts(schedule: Schedule, family: str) -> dict[str, Placement]:
    """Where each tensor lives: 4-D int8 in the family's layout, everything else plain.

    A 4-D int8 tensor a MatMul reads or writes, and no spatial step (convolution,
    pooling) touches, stays plain: attention's [batch, heads, tokens, features]
    tensors are matrices, whose rows the MatMul kernels want contiguous.  So does one
    that only moves, quantizations and float steps touch, unless moves connect it to a
    tensor in the family's layout: PP-OCRv4 rec's queries and keys, sliced out of a float
    tensor and quantized, had each been copied into the family's layout by a Squeeze.
    """
    layout = FAMILY_LAYOUT.get(family, "plain")
    touched: dict[str, set[str]] = {}
    for step in schedule.steps:
        kind = "spatial" if step.kind in _SPATIAL_KINDS or step.op_type == "MaxPool" else step.kind
        for name in (*step.inputs, *step.outputs):
            touched.setdefault(name, set()).add(kind)

    def candidate(name: str) -> bool:  # a 4-D int8 tensor no MatMul takes as a matrix
        t, kinds = schedule.tensors[name], touched.get(name, set())
        return t.is_int8 and len(t.shape) == 4 and not ("matmul" in kinds and "spatial" not in kinds)

    linked = {name for name in schedule.tensors
              if candidate(name) and touched.get(name, set()) - _LAYOUT_NEUTRAL_KINDS}
    # and the tensors moves link to those, through int8 tensors of any rank (a flattening
    # Reshape and its inverse); the rest (attention's heads sliced out of a float tensor and
    # quantized) stay plain, where their moves are views
    changed = True
    while changed:
        changed = False
        for step in schedule.steps:
            if step.kind == "move" and linked.intersection(step.inputs + step.outputs):
                new = {n for n in step.inputs + step.outputs if schedule.tensors[n].is_int8} - linked
                linked |= new
                changed = changed or bool(new)
    chosen = {name for name in linked if candidate(name)}
    return {name: Placement(tuple(t.shape), t.dtype, layout if name in chosen else "plain")
            for name, t in schedule.tensors.items()}


def build_options(device_info, family: str) -> list[str]:
    """Build options of a plan's shared program."""
    import pyopencl as cl

    std = device_info.cl_std_option if family == "intel" else "-cl-std=CL1.2"
    opts = [std]
    try:
        if device_info.cl_device.single_fp_config & cl.device_fp_config.CORRECTLY_ROUNDED_DIVIDE_SQRT:
            opts.append("-cl-fp32-correctly-rounded-divide-sqrt")
    except (AttributeError, cl.Error):
        pass
    return opts


@dataclass
class Plan:
    """A schedule compiled for one device (see the module docstring)."""

    schedule: Schedule
    device: Any  # CLDevice
    family: str
    placements: dict[str, Placement]
    steps: list[StepPlan]
    memory: MemoryPlan
    builder: ProgramBuilder
    const_bytes: int
    compile_seconds: float = 0.0
    build_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def device_bytes(self) -> int:
        """Planned device memory: the activation arena plus uploaded constants."""
        return self.memory.arena_bytes + self.const_bytes

    @property
    def host_steps(self) -> list[StepPlan]:
        return [s for s in self.steps if s.where == "host"]

    def describe(self) -> list[str]:
        """One line per step: name, kind, precision, kernel.

        Kernel labels: a kernel name (``conv_gemm_portable``, ``eltwise``, ``copy_box``, ...);
        ``<kernel>:epilogue`` when the step's generated epilogue runs inside it;
        ``<kernel>+epilogue`` when an elementwise pass runs it after an int32 result;
        ``host`` for a step NumPy computes between kernels; ``alias`` for a view of its input;
        ``fused`` for a move whose copy the next move makes (``compile/move_chain.py``), a step
        another one's kernel computes (``lrn_q``, ``mvn_q``: ``compile/float_groups.py``;
        ``attention_q``: ``compile/attention_group.py``; ``se_gate``: ``compile/se_gate.py``;
        a requantization an upsampling's ``eltwise+copy_box`` took first:
        ``compile/requantize_first.py``), or a Concat its convolutions stored
        (``<kernel>:in_place``: ``compile/concat_in_place.py``) and the requantizations that
        read its inputs (``eltwise+copy``: ``compile/requantize_and_copy.py``).
        """
        lines = []
        for sp in self.steps:
            note = f"  ({sp.note})" if sp.note else ""
            lines.append(f"{sp.step.name:40s} {sp.step.kind:11s} {sp.precision:4s} {sp.kernel}{note}")
        return lines

    def summary(self) -> str:
        mib = 1 << 20
        kernels = sum(1 for s in self.steps if s.where == "opencl")
        return (f"{len(self.steps)} steps: {kernels} OpenCL, {len(self.host_steps)} host, "
                f"{sum(1 for s in self.steps if s.where == 'alias')} alias; "
                f"{self.builder.kernel_count} kernels in {len(self.builder.groups)} program(s); "
                f"device memory {self.device_bytes / mib:.1f} MiB (arena {self.memory.arena_bytes / mib:.1f} MiB "
                f"vs {self.memory.naive_bytes / mib:.1f} MiB unshared, constants {self.const_bytes / mib:.1f} MiB)")


def build_plan(schedule: Schedule, device, family: str, subgroup_size: int | None = None,
               cache=None, keep_all: bool = False, fuse: bool | None = None) -> Plan:
    """Compile ``schedule`` for ``device`` (a :class:`~gpu_int8.runtime.cl_backend.CLDevice`) with the
    ``family`` kernels; raises :class:`~gpu_int8.scheduler.compile.program.PlanBuildError` when a
    program does not build.  ``keep_all`` keeps every tensor alive to the end (no memory sharing),
    so tests can read each one after a run; ``fuse`` (default: not ``keep_all``) compiles runs of
    steps as one where it can (see :func:`compile_steps`): their intermediate tensors are never stored."""
    start = time.perf_counter()
    placements, builder, ctx, steps = compile_steps(schedule, device, family, subgroup_size,
                                                    not keep_all if fuse is None else fuse)
    compiled = time.perf_counter()
    builder.build(cache or device.cache)
    built = time.perf_counter()
    memory = _plan_memory(schedule, steps, placements, ctx, device, keep_all)
    return Plan(schedule, device, family, placements, steps, memory, builder, ctx.const_bytes,
                compiled - start, built - compiled)


def compile_steps(schedule: Schedule, device, family: str, subgroup_size: int | None = None,
                  fuse: bool = True
                  ) -> tuple[dict[str, Placement], ProgramBuilder, CompileContext, list[StepPlan]]:
    """Each step's kernels, generated into one ProgramBuilder (not built yet).  With ``fuse``,
    consecutive moves copy once (:mod:`~gpu_int8.scheduler.compile.move_chain`), an LRN or MVN
    takes the quantization around it into its kernel (:mod:`~gpu_int8.scheduler.compile.float_groups`),
    so does an attention (:mod:`~gpu_int8.scheduler.compile.attention_group`),
    a squeeze-and-excitation gate runs as one kernel (:mod:`~gpu_int8.scheduler.compile.se_gate`),
    an upsampling requantizes before it gathers (:mod:`~gpu_int8.scheduler.compile.requantize_first`),
    convolutions store into the Concat after them
    (:mod:`~gpu_int8.scheduler.compile.concat_in_place`) and a requantization stores its input into
    the Concat that copies it too (:mod:`~gpu_int8.scheduler.compile.requantize_and_copy`)."""
    schedule.check()
    placements = assign_layouts(schedule, family)
    builder = ProgramBuilder(device, build_options(device.info, family), HEADER)
    ctx = CompileContext(schedule, device, family, builder, placements, subgroup_size)
    ctx.used = {n for s in schedule.steps for n in s.inputs} | set(schedule.outputs)
    groups = _fusion_groups(schedule, placements, family) if fuse else {}
    if fuse and family == "portable":
        ctx.in_place = concat_targets(schedule, placements)
    grouped = {j for members, _, _ in groups.values() for j in members}
    pairs = {i: j for i, j in (requantize_first(schedule) if fuse else {}).items() if not {i, j} & grouped}
    done_early: dict[int, str] = {}  # requantizations an upsampling's kernels computed -> its name
    found = requantize_and_copy(schedule, placements) if fuse else {}
    copies = {r: (out, offset) for r, (c, out, offset) in found.items()
              if not {r, c} & grouped and r not in pairs.values()}
    steps: list[StepPlan] = []
    while len(steps) < len(schedule.steps):
        i = len(steps)
        members, compile_group, verb = groups.get(i, ((), None, ""))
        group = [schedule.steps[j] for j in members]
        ctx.step_index = i + max(len(group) - 1, 0)
        builder.current_step = schedule.steps[ctx.step_index].name
        whole = compile_group(ctx, group) if group else None
        if whole is not None:
            planned = [folded_plan(s, group[-1].name, verb) for s in group[:-1]] + [whole]
        elif i in done_early:
            step = schedule.steps[i]
            planned = [folded_plan(dataclasses.replace(step, inputs=[]), done_early[i], "computed")]
        else:
            ctx.step_index = i
            builder.current_step = schedule.steps[i].name
            early = compile_requantized_move(ctx, schedule.steps[i], schedule.steps[pairs[i]]) if i in pairs else None
            if early is not None:
                done_early[pairs[i]] = schedule.steps[i].name
            elif i in copies:
                early = compile_requantize_and_copy(ctx, schedule.steps[i], *copies[i])
            planned = [early or compile_step(ctx, schedule.steps[i])]
        for sp in planned:
            sp.precision = schedule.precision(schedule.steps[len(steps)])
            steps.append(sp)
    return placements, builder, ctx, steps


def _fusion_groups(schedule: Schedule, placements: dict[str, Placement], family: str) -> dict[int, tuple]:
    """Runs of steps compiled as one: first index -> (indices, compiler, what the others show)."""
    floats = float_groups(schedule)
    if family == "portable":
        nhwc_inputs(schedule, floats, placements)
    groups = {i: (members, compile_float_group, "computed") for i, members in floats.items()}
    groups.update({i: (members, compile_se_gate, "computed") for i, members in se_gates(schedule).items()})
    taken = {j for members, _, _ in groups.values() for j in members}
    # an attention group takes in the moves around it: the chains among them are not copied apart
    groups.update({i: (members, compile_attention_group, "computed")
                   for i, members in attention_groups(schedule, placements).items() if not taken.intersection(members)})
    taken = {j for members, _, _ in groups.values() for j in members}
    groups.update({i: (members, compile_transposed_operand, "aliased")
                   for i, members in transposed_operands(schedule).items() if not taken.intersection(members)})
    taken = {j for members, _, _ in groups.values() for j in members}
    groups.update({i: (members, lambda ctx, steps: compile_move(ctx, chained_step(steps)), "moved")
                   for i, members in move_chains(schedule).items() if not taken.intersection(members)})
    return groups


def _plan_memory(schedule: Schedule, steps: list[StepPlan], placements, ctx: CompileContext, device,
                 keep_all: bool) -> MemoryPlan:
    end = len(steps)
    first: dict[str, int] = {name: -1 for name in schedule.inputs}
    last: dict[str, int] = {}
    aliases: dict[str, str] = {}
    for i, sp in enumerate(steps):
        for name in sp.step.inputs:
            last[name] = i
        for name in sp.step.outputs:
            first.setdefault(name, i)
        aliases.update(sp.aliases)
    for name, (i, _) in ctx.scratch.items():
        first[name], last[name] = i, i
    for name in schedule.outputs if not keep_all else first:
        last[name] = end
    sizes, lifetimes = {}, {}
    for name, start in first.items():
        sizes[name] = placements[name].nbytes
        lifetimes[name] = (start, max(last.get(name, start), start))
    try:
        align = max(256, int(device.info.cl_device.mem_base_addr_align) // 8)
    except AttributeError:
        align = 256
    memory = plan_memory(sizes, lifetimes, aliases, align)
    memory.check()
    return memory
