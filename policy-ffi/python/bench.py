"""Per-call time of the installed cks_policy wheel on the bench inputs, printed in the same
format as the native bench (policy-ffi/examples/bench.rs); policy-ffi/bench.sh compares them.

usage: python bench.py DIR [SECONDS_PER_CASE]
"""

import sys
import time
from pathlib import Path

# Measure the installed wheel, not the source folder this script sits in.
_here = Path(__file__).resolve().parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != _here]

import cks_policy  # noqa: E402


def per_call_us(fn, budget_s: float, rounds: int = 5) -> float:
    fn()
    best = float("inf")
    for _ in range(rounds):
        n, start = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            elapsed = time.perf_counter() - start
            if elapsed >= budget_s / rounds and n >= 5:
                break
        best = min(best, elapsed / n * 1e6)
    return best


def main() -> None:
    folder = Path(sys.argv[1])
    budget = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    policy = cks_policy.Policy()
    e = per_call_us(lambda: policy.evaluate_json(b"", source="input.json"), budget)
    print(f"python evaluate (empty) {e:.3f}")
    for path in sorted(folder.glob("*.json")):
        data = path.read_bytes()
        r = per_call_us(lambda: policy.review_json(data), budget)
        print(f"python review {path.name} {r:.2f}")
        c = per_call_us(lambda: policy.evaluate_json(data, source="input.json"), budget)
        print(f"python evaluate {path.name} {c:.2f}")


if __name__ == "__main__":
    main()
