package ckspolicy

import "encoding/json"

// Report is the stable JSON report of `cks-policy check` (SPEC §7).
type Report struct {
	Summary Summary  `json:"summary"`
	Results []Result `json:"results"`
	// Raw is the report exactly as the library produced it.
	Raw json.RawMessage `json:"-"`
}

// Summary counts judged objects, findings by severity, and objects by outcome
// (Passed+Warned+Denied+Invalid == Documents).
type Summary struct {
	Documents int `json:"documents"`
	Errors    int `json:"errors"`
	Warnings  int `json:"warnings"`
	Infos     int `json:"infos"`
	// Passed: allowed with no warning.
	Passed int `json:"passed"`
	// Warned: allowed with at least one warning.
	Warned int `json:"warned"`
	// Denied: read, and denied by an error finding.
	Denied int `json:"denied"`
	// Invalid: with an input-invalid finding.
	Invalid int `json:"invalid"`
	// Suppressed counts findings an exception silenced (not counted in the severities).
	Suppressed int `json:"suppressed,omitempty"`
}

// Result is the verdict on one object.
type Result struct {
	Source    *string   `json:"source"`
	Document  int       `json:"document"`
	Kind      *string   `json:"kind"`
	Namespace *string   `json:"namespace"`
	Name      *string   `json:"name"`
	Allowed   bool      `json:"allowed"`
	Findings  []Finding `json:"findings"`
	Patch     []PatchOp `json:"patch"`
	// Existing is true when the object was judged as existing cluster state (Audit, or an
	// object with metadata.resourceVersion): no change rules, no patch.
	Existing bool `json:"existing,omitempty"`
}

// Severity of a finding: "error", "warning" or "info".
type Severity string

// Severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// Finding is one thing a rule found, at an RFC 6901 pointer into the document.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Path     string   `json:"path"`
	Message  string   `json:"message"`
	Fix      string   `json:"fix,omitempty"`
	Line     int      `json:"line,omitempty"`
	// Preexisting is set on UPDATE when oldObject already had the finding (ratcheting): it
	// does not deny.
	Preexisting bool `json:"preexisting,omitempty"`
	// Suppressed is set when an exception silences the finding: it is reported but does not
	// deny, warn or count in the summary's severities.
	Suppressed *Suppression `json:"suppressed,omitempty"`
}

// Suppression says what silenced a finding: By is "settings" (settings exceptions.list) or
// "annotation" (the object's own exception annotation), Reason the reason it gives.
type Suppression struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
}

// PatchOp is one RFC 6902 JSON Patch operation (add, replace or remove).
type PatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value,omitempty"`
}

// FitsReport says which nodes can take a pod (SPEC §7 fits JSON).
type FitsReport struct {
	Pod string `json:"pod"`
	// AdmissionPatch is what CKS admission adds to the pod, applied before the nodes are judged.
	AdmissionPatch []PatchOp `json:"admissionPatch"`
	Nodes          []NodeFit `json:"nodes"`
	// Raw is the report exactly as the library produced it.
	Raw json.RawMessage `json:"-"`
}

// NodeFit is one node's answer.
type NodeFit struct {
	Name    string      `json:"name"`
	Fits    bool        `json:"fits"`
	Reasons []FitReason `json:"reasons"`
	// Notes say what was not judged (a node without status.allocatable is not judged on resources).
	Notes []string `json:"notes,omitempty"`
}

// FitReason is why a node cannot take the pod: kind nodeName, nodeSelector, nodeAffinity,
// taint, unschedulable, lifecycle or resources.
type FitReason struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// Rule describes one rule of the catalogue.
type Rule struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Enabled  bool     `json:"enabled"`
	Kind     string   `json:"kind"`
	// Judges is "change" (who may add, change or remove something) or "state" (ratcheted on
	// UPDATE).
	Judges      string `json:"judges"`
	Description string `json:"description"`
}
