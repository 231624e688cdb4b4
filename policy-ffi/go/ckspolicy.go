// Package ckspolicy judges Kubernetes manifests and AdmissionReviews against the CoreWeave
// Kubernetes Service (CKS) rules, through the cks_policy C ABI (the Rust policy core, linked
// statically).
//
// Build: the static library must be at lib/linux_amd64/libcks_policy.a beside this file
// (policy-ffi/test.sh copies it there after `cargo build -p cks-policy-ffi --profile ffi`);
// a module outside this repository sets CGO_LDFLAGS=-L<dir holding it> instead (README).
//
// A *Policy is safe for concurrent use by many goroutines: the compiled policy is immutable.
// Close releases it; calls after Close return ErrClosed.
package ckspolicy

/*
#cgo CFLAGS: -I${SRCDIR}
#cgo LDFLAGS: -L${SRCDIR}/lib/linux_amd64 -lcks_policy -lm -ldl -lpthread
#include "cks_policy.h"

// These Go files and the header beside them are one version (PackageVersion below; both come
// from the same commit of cks-policy). Another header on the include path is refused here.
#if CKS_POLICY_VERSION_MAJOR != 0 || CKS_POLICY_VERSION_MINOR != 1 || CKS_POLICY_VERSION_PATCH != 0
#error "cks_policy.h is not version 0.1.0, the version of this Go package: use the header that comes with it"
#endif

// Only a libcks_policy.a of this version defines cks_policy_version_<major>_<minor>_<patch>:
// a program built with a library of another version fails to link, naming the symbol.
const char *CKS_POLICY_VERSION_SYMBOL(void);
static const char *cks_policy_linked_version(void) { return CKS_POLICY_VERSION_SYMBOL(); }
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// Version is the version of the linked library (e.g. "0.1.0"). The package does not link
// against a library of a version other than PackageVersion.
func Version() string { return C.GoString(C.cks_policy_linked_version()) }

// PackageVersion is the version of these Go files: the header and the static library they
// are built with must be the same version (checked when the package is compiled and linked).
const PackageVersion = "0.1.0"

// HeaderVersion is the version of the header this package was compiled with.
const HeaderVersion = C.CKS_POLICY_VERSION

// Code is a result code of the C ABI.
type Code uint32

// The result codes (see cks_policy.h).
const (
	CodeOK              Code = C.CKS_POLICY_OK
	CodeNullArgument    Code = C.CKS_POLICY_NULL_ARGUMENT
	CodeInvalidUTF8     Code = C.CKS_POLICY_INVALID_UTF8
	CodeInvalidSettings Code = C.CKS_POLICY_INVALID_SETTINGS
	CodeInvalidInput    Code = C.CKS_POLICY_INVALID_INPUT
	CodeInvalidContext  Code = C.CKS_POLICY_INVALID_CONTEXT
	CodePanic           Code = C.CKS_POLICY_PANIC
)

func (c Code) String() string { return C.GoString(C.cks_policy_result_name(C.uint32_t(c))) }

// Problem is one thing wrong with settings (or the single reason for another failure), with
// an RFC 6901 pointer into the settings document ("" for the whole input).
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
	// Line is the problem's 1-based line in the settings text, 0 when it is not found there.
	Line int `json:"line,omitempty"`
}

// Error is a failed call: its code and every problem the library listed.
//
// Match a kind with errors.Is(err, ckspolicy.ErrInvalidSettings) and read the problems with
// errors.As(err, &e).
type Error struct {
	Code     Code
	Problems []Problem
}

func (e *Error) Error() string {
	msgs := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		if p.Path == "" {
			msgs = append(msgs, p.Message)
		} else {
			msgs = append(msgs, p.Path+": "+p.Message)
		}
	}
	return fmt.Sprintf("ckspolicy: %s: %s", e.Code, strings.Join(msgs, "; "))
}

// Is matches errors of the same code, so the Err* values work with errors.Is.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Problems == nil
}

// Sentinels for errors.Is.
var (
	ErrInvalidSettings = &Error{Code: CodeInvalidSettings}
	ErrInvalidInput    = &Error{Code: CodeInvalidInput}
	ErrInvalidContext  = &Error{Code: CodeInvalidContext}
	ErrPanic           = &Error{Code: CodePanic}
	// ErrClosed is returned by calls on a closed Policy.
	ErrClosed = errors.New("ckspolicy: policy is closed")
)

// Policy is compiled settings, ready to judge many requests from many goroutines.
type Policy struct {
	mu  sync.RWMutex // calls hold it shared, Close exclusively: no call outlives the handle
	ptr *C.cks_policy
}

// New compiles settings (JSON or YAML; empty for the CKS defaults). Invalid settings return an
// *Error with code CodeInvalidSettings listing every problem.
func New(settings []byte) (*Policy, error) {
	var ptr *C.cks_policy
	var cerr C.cks_policy_buffer
	rc := C.cks_policy_new(bytesPtr(settings), C.size_t(len(settings)), &ptr, &cerr)
	runtime.KeepAlive(settings)
	if rc != C.CKS_POLICY_OK {
		return nil, takeError(rc, &cerr)
	}
	p := &Policy{ptr: ptr}
	runtime.SetFinalizer(p, (*Policy).Close)
	return p, nil
}

// Close releases the policy. It is idempotent, waits for calls in flight, and is also run by
// a finalizer as a backstop; calls after Close return ErrClosed.
func (p *Policy) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ptr != nil {
		C.cks_policy_free(p.ptr)
		p.ptr = nil
		runtime.SetFinalizer(p, nil)
	}
	return nil
}

// ClusterContext is cluster state for rules that need it.
type ClusterContext struct {
	// Namespaces maps a namespace name to its labels (for control-plane-namespace).
	Namespaces map[string]map[string]string `json:"namespaces,omitempty"`
	// Digests maps a normalized `repo:tag` to a digest the caller resolved (for pin-digests).
	Digests map[string]string `json:"digests,omitempty"`
}

// Option adjusts one call.
type Option func(*options) error

type options struct{ context []byte }

// WithClusterContext supplies namespace labels and resolved digests.
func WithClusterContext(c ClusterContext) Option {
	return func(o *options) error {
		b, err := json.Marshal(c)
		o.context = b
		return err
	}
}

// WithContextJSON supplies the cluster context as JSON
// (`{"namespaces":{…},"digests":{…}}`).
func WithContextJSON(b []byte) Option {
	return func(o *options) error { o.context = b; return nil }
}

func collect(opts []Option) (options, error) {
	var o options
	for _, f := range opts {
		if err := f(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// EvaluateJSON judges manifest text (YAML or JSON, one or many documents, kind: List, or an
// AdmissionReview) and returns the report JSON, byte for byte what `cks-policy check --format
// json` prints. source is echoed in every result ("" means none: null). Unreadable documents
// are input-invalid findings, not errors. ctx is checked before the call (a call is not
// interruptible once started).
func (p *Policy) EvaluateJSON(ctx context.Context, source string, input []byte, opts ...Option) ([]byte, error) {
	return p.judgeText(ctx, false, source, input, opts)
}

// AuditJSON judges manifest text as existing cluster state, byte for byte what `cks-policy
// audit --format json` prints (what `kubectl get -A -o yaml` prints goes in): change rules do
// not fire, nothing is patched, and mutations are reported as what CKS admission would have
// added. Arguments and errors are those of EvaluateJSON.
func (p *Policy) AuditJSON(ctx context.Context, source string, input []byte, opts ...Option) ([]byte, error) {
	return p.judgeText(ctx, true, source, input, opts)
}

// Audit is AuditJSON decoded into a Report (Report.Raw keeps the JSON).
func (p *Policy) Audit(ctx context.Context, source string, input []byte, opts ...Option) (*Report, error) {
	raw, err := p.AuditJSON(ctx, source, input, opts...)
	if err != nil {
		return nil, err
	}
	r := &Report{Raw: raw}
	if err := json.Unmarshal(raw, r); err != nil {
		return nil, fmt.Errorf("ckspolicy: decoding report: %w", err)
	}
	return r, nil
}

func (p *Policy) judgeText(ctx context.Context, audit bool, source string, input []byte, opts []Option) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o, err := collect(opts)
	if err != nil {
		return nil, err
	}
	if strings.IndexByte(source, 0) >= 0 {
		return nil, errors.New("ckspolicy: source must not contain NUL bytes")
	}
	var csource *C.char
	if source != "" {
		buf := make([]byte, len(source)+1) // NUL-terminated, on the Go heap: no C.free call
		copy(buf, source)
		csource = (*C.char)(unsafe.Pointer(&buf[0]))
		defer runtime.KeepAlive(buf)
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.ptr == nil {
		return nil, ErrClosed
	}
	var out, cerr C.cks_policy_buffer
	var rc C.cks_policy_result
	if audit {
		rc = C.cks_policy_audit(p.ptr, csource, bytesPtr(input), C.size_t(len(input)),
			bytesPtr(o.context), C.size_t(len(o.context)), &out, &cerr)
	} else {
		rc = C.cks_policy_evaluate(p.ptr, csource, bytesPtr(input), C.size_t(len(input)),
			bytesPtr(o.context), C.size_t(len(o.context)), &out, &cerr)
	}
	runtime.KeepAlive(input)
	runtime.KeepAlive(o.context)
	if rc != C.CKS_POLICY_OK {
		return nil, takeError(rc, &cerr)
	}
	return takeBytes(&out), nil
}

// Evaluate is EvaluateJSON decoded into a Report (Report.Raw keeps the JSON).
func (p *Policy) Evaluate(ctx context.Context, source string, input []byte, opts ...Option) (*Report, error) {
	raw, err := p.EvaluateJSON(ctx, source, input, opts...)
	if err != nil {
		return nil, err
	}
	r := &Report{Raw: raw}
	if err := json.Unmarshal(raw, r); err != nil {
		return nil, fmt.Errorf("ckspolicy: decoding report: %w", err)
	}
	return r, nil
}

// Review judges an admission.k8s.io/v1 AdmissionReview (or bare AdmissionRequest) and returns
// the AdmissionReview response JSON a webhook sends back (same uid; errors deny, warnings
// become warnings, the patch is a base64 JSONPatch). Bytes that are not a request at all
// return an *Error with CodeInvalidInput.
func (p *Policy) Review(ctx context.Context, review []byte, opts ...Option) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o, err := collect(opts)
	if err != nil {
		return nil, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.ptr == nil {
		return nil, ErrClosed
	}
	var out, cerr C.cks_policy_buffer
	rc := C.cks_policy_review(p.ptr, bytesPtr(review), C.size_t(len(review)),
		bytesPtr(o.context), C.size_t(len(o.context)), &out, &cerr)
	runtime.KeepAlive(review)
	runtime.KeepAlive(o.context)
	if rc != C.CKS_POLICY_OK {
		return nil, takeError(rc, &cerr)
	}
	return takeBytes(&out), nil
}

// FitsJSON says which nodes can take the pod and why the others cannot, as the JSON of
// `cks-policy fits --format json`. nodes is a multi-document file or a kind: List.
func (p *Policy) FitsJSON(ctx context.Context, pod, nodes []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.ptr == nil {
		return nil, ErrClosed
	}
	var out, cerr C.cks_policy_buffer
	rc := C.cks_policy_fits(p.ptr, bytesPtr(pod), C.size_t(len(pod)),
		bytesPtr(nodes), C.size_t(len(nodes)), &out, &cerr)
	runtime.KeepAlive(pod)
	runtime.KeepAlive(nodes)
	if rc != C.CKS_POLICY_OK {
		return nil, takeError(rc, &cerr)
	}
	return takeBytes(&out), nil
}

// FitsWithPodsJSON is FitsJSON counting the requests of pods already running (what
// `kubectl get pods -A -o yaml` prints) against the node in each pod's spec.nodeName, as
// `cks-policy fits --pods` does; Succeeded and Failed pods do not count.
func (p *Policy) FitsWithPodsJSON(ctx context.Context, pod, nodes, pods []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.ptr == nil {
		return nil, ErrClosed
	}
	var out, cerr C.cks_policy_buffer
	rc := C.cks_policy_fits_with_pods(p.ptr, bytesPtr(pod), C.size_t(len(pod)),
		bytesPtr(nodes), C.size_t(len(nodes)), bytesPtr(pods), C.size_t(len(pods)), &out, &cerr)
	runtime.KeepAlive(pod)
	runtime.KeepAlive(nodes)
	runtime.KeepAlive(pods)
	if rc != C.CKS_POLICY_OK {
		return nil, takeError(rc, &cerr)
	}
	return takeBytes(&out), nil
}

// Fits is FitsJSON decoded.
func (p *Policy) Fits(ctx context.Context, pod, nodes []byte) (*FitsReport, error) {
	raw, err := p.FitsJSON(ctx, pod, nodes)
	if err != nil {
		return nil, err
	}
	return decodeFits(raw)
}

// FitsWithPods is FitsWithPodsJSON decoded.
func (p *Policy) FitsWithPods(ctx context.Context, pod, nodes, pods []byte) (*FitsReport, error) {
	raw, err := p.FitsWithPodsJSON(ctx, pod, nodes, pods)
	if err != nil {
		return nil, err
	}
	return decodeFits(raw)
}

func decodeFits(raw []byte) (*FitsReport, error) {
	r := &FitsReport{Raw: raw}
	if err := json.Unmarshal(raw, r); err != nil {
		return nil, fmt.Errorf("ckspolicy: decoding fits report: %w", err)
	}
	return r, nil
}

// Rules returns the rule catalogue in run order.
func Rules() ([]Rule, error) {
	var out C.cks_policy_buffer
	if rc := C.cks_policy_rules(&out); rc != C.CKS_POLICY_OK {
		return nil, &Error{Code: Code(rc)}
	}
	var rules []Rule
	if err := json.Unmarshal(takeBytes(&out), &rules); err != nil {
		return nil, err
	}
	return rules, nil
}

// SettingsSchema returns the JSON Schema of the settings.
func SettingsSchema() ([]byte, error) {
	var out C.cks_policy_buffer
	if rc := C.cks_policy_settings_schema(&out); rc != C.CKS_POLICY_OK {
		return nil, &Error{Code: Code(rc)}
	}
	return takeBytes(&out), nil
}

// bytesPtr passes a Go byte slice to C without copying (it holds no Go pointers, and the
// library does not keep it past the call). An empty slice is (NULL, 0).
func bytesPtr(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(b)))
}

// takeBytes copies a library buffer into Go memory and frees it.
func takeBytes(b *C.cks_policy_buffer) []byte {
	out := C.GoBytes(unsafe.Pointer(b.data), C.int(b.len))
	C.cks_policy_buffer_free(b)
	return out
}

func takeError(rc C.cks_policy_result, b *C.cks_policy_buffer) error {
	e := &Error{Code: Code(rc)}
	if b.data != nil {
		var body struct {
			Problems []Problem `json:"problems"`
		}
		if err := json.Unmarshal(takeBytes(b), &body); err == nil {
			e.Problems = body.Problems
		}
	}
	if e.Problems == nil {
		e.Problems = []Problem{}
	}
	return e
}
