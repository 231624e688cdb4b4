//! `cks-policy fits` output: which nodes can take a pod, and why the others cannot. Names and
//! messages from the input are shown through [`super::text::visible`].

use policy_core::Policy;
use serde_json::Value;

use super::plural;
use super::text::visible;

/// `fits`: human or JSON output, and whether any node fits.
pub fn fits(
    policy: &Policy,
    pod: &[u8],
    nodes: &[u8],
    pods: Option<&[u8]>,
    as_json: bool,
) -> Result<(String, bool), String> {
    let report =
        policy_core::fits_report_with_pods(policy, pod, nodes, pods).map_err(|e| e.to_string())?;
    let any_fit = report.any_fits();
    if as_json {
        let json = serde_json::to_string(&report).map_err(|e| e.to_string())?;
        return Ok((format!("{json}\n"), any_fit));
    }
    let v = serde_json::to_value(&report).map_err(|e| e.to_string())?;
    let list = v["nodes"].as_array().cloned().unwrap_or_default();
    let mut out = format!("pod {}\n", visible(v["pod"].as_str().unwrap_or("-")));
    // Judged as CKS admission lets it through: say what its patch added first.
    match v["admissionPatch"].as_array().filter(|p| !p.is_empty()) {
        None => out.push_str("  judged as admitted: CKS admission changes nothing\n"),
        Some(patch) => {
            out.push_str("  judged as admitted, with what CKS admission adds:\n");
            for op in patch {
                let value = op.get("value").map(Value::to_string).unwrap_or_default();
                out.push_str(&format!(
                    "    {} {} {}\n",
                    visible(op["op"].as_str().unwrap_or("-")),
                    visible(op["path"].as_str().unwrap_or("-")),
                    visible(&value)
                ));
            }
        }
    }
    let mut fitting = 0;
    for n in &list {
        let name = visible(n["name"].as_str().unwrap_or("-"));
        if n["fits"] == true {
            fitting += 1;
            out.push_str(&format!("  {name}: fits\n"));
        } else {
            out.push_str(&format!("  {name}: does not fit\n"));
        }
        for r in n["reasons"].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "    - {}: {}\n",
                visible(r["kind"].as_str().unwrap_or("-")),
                visible(r["message"].as_str().unwrap_or(""))
            ));
        }
        for note in n["notes"].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "    note: {}\n",
                visible(note.as_str().unwrap_or(""))
            ));
        }
    }
    out.push_str(&format!(
        "{fitting} of {} node{} can take the pod\n",
        list.len(),
        plural(list.len())
    ));
    Ok((out, any_fit))
}
