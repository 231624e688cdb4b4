"""Per-call timing of the Python layer over the bare cffi call, reported, never asserted.

The native (Rust) figures for the same inputs come from policy-ffi/bench.sh, which runs
the Rust, Go and Python measurements in one run.
"""

import os
import time

import pytest

import cks_policy
from cks_policy._native import ffi, lib
from _support import bench_inputs

INPUTS = bench_inputs()


def per_call_us(fn, rounds: int = 5, budget_s: float = 0.06) -> float:
    """The best of a few short rounds: the least disturbed by other work on the machine."""
    fn()
    best = float("inf")
    for _ in range(rounds):
        n, start = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            elapsed = time.perf_counter() - start
            if elapsed >= budget_s and n >= 5:
                break
        best = min(best, elapsed / n * 1e6)
    return best


def test_report_overhead(timings):
    """An empty input: the core does almost nothing, so this is the layer's per-call cost."""
    policy = cks_policy.Policy()
    ptr = policy._ptr
    out = ffi.new("cks_policy_buffer *")

    def bare():
        assert lib.cks_policy_evaluate(ptr, b"x", ffi.NULL, 0, ffi.NULL, 0, out, ffi.NULL) == 0
        lib.cks_policy_buffer_free(out)

    bare_us = per_call_us(bare)
    raw_us = per_call_us(lambda: policy.evaluate_json(b"", source="x"))
    timings.append(
        f"evaluate (empty): bare cffi {bare_us:.2f} us, evaluate_json {raw_us:.2f} us "
        f"(+{raw_us - bare_us:.2f} for the Python layer)"
    )
    policy.close()


# A user's clone has no shared/bench-inputs: the timing report is skipped there (pytest prints the
# reason with -rs), but under CI=true a missing folder fails, so CI never stops measuring silently.
IN_CI = os.environ.get("CI", "").lower() in ("true", "1")


@pytest.mark.skipif(
    not INPUTS and not IN_CI,
    reason="no shared/bench-inputs beside the repository (set CKS_BENCH_INPUTS to run it)",
)
def test_report_timing(timings):
    assert INPUTS, "CI=true but shared/bench-inputs is missing (set CKS_BENCH_INPUTS)"
    policy = cks_policy.Policy()
    ptr = policy._ptr
    for path in INPUTS:
        data = path.read_bytes()
        buf = ffi.from_buffer("uint8_t[]", data)
        out = ffi.new("cks_policy_buffer *")

        def bare():
            # The thinnest path from Python: one cffi call and a free, no copy, no decode.
            assert lib.cks_policy_review(ptr, buf, len(data), ffi.NULL, 0, out, ffi.NULL) == 0
            lib.cks_policy_buffer_free(out)

        bare_us = per_call_us(bare)
        raw_us = per_call_us(lambda: policy.review_json(data))
        typed_us = per_call_us(lambda: policy.review(data))
        timings.append(
            f"review {path.name}: bare cffi {bare_us:.1f} us, review_json {raw_us:.1f} us "
            f"(+{raw_us - bare_us:.1f}), review typed {typed_us:.1f} us"
        )
    policy.close()
