//! The model: what was read, as typed Kubernetes objects and what CKS knows about them. Pod
//! templates and the kind tables, container views, image references, label syntax, the CKS
//! node types and labels, the removed-API table. Comes after `read`; knows no setting.

pub(crate) mod catalogue;
pub(crate) mod cks;
pub(crate) mod container_probe;
pub(crate) mod image_ref;
pub(crate) mod inline_pods;
pub(crate) mod input;
#[cfg(feature = "yaml")]
pub mod kubectl_yaml;
pub(crate) mod label_diff;
pub(crate) mod label_syntax;
pub(crate) mod nodetypes;
pub(crate) mod object;
pub(crate) mod removed_apis;
pub(crate) mod slim;
pub(crate) mod templates;
pub(crate) mod text;
pub(crate) mod view;
