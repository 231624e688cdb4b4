//! Settings text (JSON or YAML): compiled into a policy or refused with problems, never a
//! crash; a policy that compiles judges a manifest without crashing either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use policy_core::{check, Context, Policy};

const POD: &[u8] = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: team\n  labels: {app: web}\nspec:\n  containers:\n  - name: web\n    image: nginx\n    resources: {limits: {nvidia.com/gpu: 1}}\n";

fuzz_target!(|data: &[u8]| {
    match Policy::from_slice(data) {
        Ok(policy) => {
            let report = check(&policy, Some("pod.yaml"), POD, &Context::default());
            assert_eq!(report.results.len(), 1);
        }
        Err(e) => {
            // A refusal always says why.
            assert!(!e.problems().is_empty());
        }
    }
});
