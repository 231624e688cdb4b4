"""One Policy shared by many threads (calls release the GIL)."""

from concurrent.futures import ThreadPoolExecutor

import cks_policy
from _support import cases


def test_shared_policy_many_threads():
    all_cases = cases()
    policy = cks_policy.Policy()
    want = [policy.evaluate_json(c.input, source=c.input_name) for c in all_cases]

    def work(seed: int) -> int:
        for k in range(20):
            i = (seed * 7 + k) % len(all_cases)
            c = all_cases[i]
            assert policy.evaluate_json(c.input, source=c.input_name) == want[i]
        return seed

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert sorted(pool.map(work, range(32))) == list(range(32))
    policy.close()


def test_close_while_threads_call():
    policy = cks_policy.Policy()
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: a, image: a}]}\n"

    def work(_: int) -> None:
        for _ in range(30):
            try:
                policy.evaluate_json(pod)
            except cks_policy.PolicyError as e:
                assert e.code == "CKS_POLICY_CLOSED"

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(work, i) for i in range(8)]
        policy.close()
        for f in futures:
            f.result()
