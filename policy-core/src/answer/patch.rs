//! Applying an RFC 6902 JSON Patch (the operations the engine emits) to a JSON value.

use serde_json::Value;

use crate::judge::verdict::{PatchKind, PatchOp};
use crate::read::pointer;

/// Why a patch could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot apply `{op}` at `{path}`: {reason}")]
pub struct PatchError {
    /// The operation.
    pub op: &'static str,
    /// Its path.
    pub path: String,
    /// What went wrong.
    pub reason: &'static str,
}

/// Applies `ops` in order; on error `doc` may be partly patched.
pub fn apply(doc: &mut Value, ops: &[PatchOp]) -> Result<(), PatchError> {
    for op in ops {
        apply_one(doc, op)?;
    }
    Ok(())
}

fn apply_one(doc: &mut Value, op: &PatchOp) -> Result<(), PatchError> {
    let name = match op.op {
        PatchKind::Add => "add",
        PatchKind::Replace => "replace",
        PatchKind::Remove => "remove",
    };
    let err = |reason| PatchError {
        op: name,
        path: op.path.clone(),
        reason,
    };
    let tokens = pointer::tokens(&op.path).ok_or_else(|| err("invalid pointer"))?;
    let Some((last, parents)) = tokens.split_last() else {
        return match op.op {
            PatchKind::Remove => Err(err("cannot remove the document")),
            _ => {
                *doc = op.value.clone().unwrap_or(Value::Null);
                Ok(())
            }
        };
    };
    let mut cur = doc;
    for t in parents {
        cur = match cur {
            Value::Object(m) => m.get_mut(t).ok_or_else(|| err("missing parent"))?,
            Value::Array(a) => {
                let i: usize = t.parse().map_err(|_| err("bad array index"))?;
                a.get_mut(i)
                    .ok_or_else(|| err("array index out of range"))?
            }
            _ => return Err(err("parent is not a container")),
        };
    }
    let value = || op.value.clone().unwrap_or(Value::Null);
    match (cur, op.op) {
        (Value::Object(m), PatchKind::Add) => {
            m.insert(last.clone(), value());
        }
        (Value::Object(m), PatchKind::Replace) => {
            let slot = m.get_mut(last).ok_or_else(|| err("missing member"))?;
            *slot = value();
        }
        (Value::Object(m), PatchKind::Remove) => {
            m.remove(last).ok_or_else(|| err("missing member"))?;
        }
        (Value::Array(a), kind) => {
            let index = if last == "-" && kind == PatchKind::Add {
                a.len()
            } else {
                last.parse().map_err(|_| err("bad array index"))?
            };
            match kind {
                PatchKind::Add if index <= a.len() => a.insert(index, value()),
                PatchKind::Replace if index < a.len() => a[index] = value(),
                PatchKind::Remove if index < a.len() => {
                    a.remove(index);
                }
                _ => return Err(err("array index out of range")),
            }
        }
        _ => return Err(err("parent is not a container")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn applies_add_replace_remove() {
        let mut d = json!({"spec": {"a": [1, 2], "m~/": {}}});
        apply(
            &mut d,
            &[
                PatchOp::add("/spec/a/-", json!(3)),
                PatchOp::add("/spec/a/0", json!(0)),
                PatchOp::replace("/spec/a/1", json!(10)),
                PatchOp::add("/spec/m~0~1/k", json!("v")),
                PatchOp::remove("/spec/a/3"),
                PatchOp::add("/spec/t", json!([])),
            ],
        )
        .unwrap();
        assert_eq!(
            d,
            json!({"spec": {"a": [0, 10, 2], "m~/": {"k": "v"}, "t": []}})
        );
        assert!(apply(&mut d, &[PatchOp::replace("/spec/zz", json!(1))]).is_err());
        assert!(apply(&mut d, &[PatchOp::add("/nope/x", json!(1))]).is_err());
    }
}
