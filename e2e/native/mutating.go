// The mutation half of the differential: the upstream mutating admission policy plugin
// (k8s.io/apiserver/pkg/admission/plugin/policy/mutating, the code kube-apiserver runs) applies
// the MutatingAdmissionPolicy `cks-policy vap --kubernetes-version 1.36` emits, and the object it
// returns must equal the input with the core's patch applied (expected.json `patch`).
//
// In k8s.io/apiserver v0.35.4 the plugin reads admissionregistration.k8s.io/v1beta1 (the API is
// beta and off by default in 1.35; v1 and on by default from 1.36): the emitted v1 objects are
// read as v1beta1, whose fields are the same, and the MutatingAdmissionPolicy feature gate is
// turned on here.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	admissionregistrationv1beta1 "k8s.io/api/admissionregistration/v1beta1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/initializer"
	"k8s.io/apiserver/pkg/admission/plugin/policy/mutating"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/util/compatibility"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/discovery"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/openapi"
	"k8s.io/client-go/openapi/openapitest"
)

// A JSON Patch operation of expected.json.
type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// The fake clientset's discovery has no OpenAPI v3; the plugin's type converter needs the core
// group's schema, which client-go embeds for its tests.
type discoveryWithOpenAPI struct{ *fakediscovery.FakeDiscovery }

func (discoveryWithOpenAPI) OpenAPIV3() openapi.Client { return openapitest.NewEmbeddedFileClient() }

type clientWithOpenAPI struct{ *fake.Clientset }

func (c clientWithOpenAPI) Discovery() discovery.DiscoveryInterface {
	return discoveryWithOpenAPI{c.Clientset.Discovery().(*fakediscovery.FakeDiscovery)}
}

var enableMAP sync.Once

type mutatingHarness struct {
	plugin     *mutating.Plugin
	client     kubernetes.Interface
	namespaces map[string]bool
}

func newMutatingHarness(manifests []map[string]interface{}) (*mutatingHarness, error) {
	var err error
	enableMAP.Do(func() {
		err = utilfeature.DefaultMutableFeatureGate.Set("MutatingAdmissionPolicy=true")
	})
	if err != nil {
		return nil, err
	}
	var objs []runtime.Object
	for _, m := range manifests {
		if m["apiVersion"] != "admissionregistration.k8s.io/v1" {
			return nil, fmt.Errorf("%v: expected admissionregistration.k8s.io/v1", m["kind"])
		}
		b, _ := json.Marshal(m)
		switch m["kind"] {
		case "MutatingAdmissionPolicy":
			p := &admissionregistrationv1beta1.MutatingAdmissionPolicy{}
			if err := json.Unmarshal(b, p); err != nil {
				return nil, err
			}
			// The API server's defaulting (pkg/apis/admissionregistration/v1beta1/defaults.go).
			mc := p.Spec.MatchConstraints
			if mc.NamespaceSelector == nil {
				mc.NamespaceSelector = &metav1.LabelSelector{}
			}
			if mc.ObjectSelector == nil {
				mc.ObjectSelector = &metav1.LabelSelector{}
			}
			eq := admissionregistrationv1beta1.Equivalent
			mc.MatchPolicy = &eq
			for i := range mc.ResourceRules {
				s := admissionregistrationv1beta1.AllScopes
				mc.ResourceRules[i].Scope = &s
			}
			objs = append(objs, p)
		case "MutatingAdmissionPolicyBinding":
			bd := &admissionregistrationv1beta1.MutatingAdmissionPolicyBinding{}
			if err := json.Unmarshal(b, bd); err != nil {
				return nil, err
			}
			mr := bd.Spec.MatchResources
			if mr == nil {
				mr = &admissionregistrationv1beta1.MatchResources{}
				bd.Spec.MatchResources = mr
			}
			if mr.NamespaceSelector == nil {
				mr.NamespaceSelector = &metav1.LabelSelector{}
			}
			if mr.ObjectSelector == nil {
				mr.ObjectSelector = &metav1.LabelSelector{}
			}
			eq := admissionregistrationv1beta1.Equivalent
			mr.MatchPolicy = &eq
			objs = append(objs, bd)
		default:
			return nil, fmt.Errorf("unexpected kind %v", m["kind"])
		}
	}
	client := clientWithOpenAPI{fake.NewSimpleClientset(objs...)}
	dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())
	factory := informers.NewSharedInformerFactory(client, 0)
	stop := make(chan struct{})
	mapper := meta.NewDefaultRESTMapper(nil)
	p := mutating.NewPlugin(nil)
	init := initializer.New(client, dyn, factory, authorizerfactory.NewAlwaysAllowAuthorizer(),
		utilfeature.DefaultFeatureGate, compatibility.DefaultBuildEffectiveVersion(), stop, mapper)
	init.Initialize(p)
	if err := p.ValidateInitialization(); err != nil {
		return nil, err
	}
	factory.Start(stop)
	factory.WaitForCacheSync(stop)
	deadline := time.Now().Add(10 * time.Minute)
	for !p.WaitForReady() {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("plugin not ready")
		}
	}
	return &mutatingHarness{plugin: p, client: client, namespaces: map[string]bool{}}, nil
}

func ensureNamespace(client kubernetes.Interface, seen map[string]bool, name string) {
	if name == "" || seen[name] {
		return
	}
	seen[name] = true
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name,
		Labels: map[string]string{"kubernetes.io/metadata.name": name}}}
	if _, err := client.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		fmt.Fprintln(os.Stderr, "namespace:", err)
		os.Exit(2)
	}
}

// deepCopy copies a decoded JSON value.
func deepCopy(m map[string]interface{}) map[string]interface{} {
	b, _ := json.Marshal(m)
	var out map[string]interface{}
	_ = json.Unmarshal(b, &out)
	return out
}

// applyTolerations applies the core's toleration operations (`add` of `…/tolerations` or
// `…/tolerations/-`; the only ones `cpu-compute-toleration` makes) to obj.
func applyTolerations(obj map[string]interface{}, ops []patchOp) error {
	for _, op := range ops {
		if op.Op != "add" {
			return fmt.Errorf("unexpected op %q at %s", op.Op, op.Path)
		}
		var parent map[string]interface{}
		var field string
		appendOne := false
		switch op.Path {
		case "/spec/tolerations":
			field = "tolerations"
		case "/spec/tolerations/-":
			field, appendOne = "tolerations", true
		default:
			return fmt.Errorf("unexpected path %s", op.Path)
		}
		parent, _ = obj["spec"].(map[string]interface{})
		if parent == nil {
			return fmt.Errorf("no spec for %s", op.Path)
		}
		var v interface{}
		if err := json.Unmarshal(op.Value, &v); err != nil {
			return err
		}
		if appendOne {
			list, ok := parent[field].([]interface{})
			if !ok {
				return fmt.Errorf("%s: not a list", op.Path)
			}
			parent[field] = append(list, v)
		} else {
			parent[field] = v
		}
	}
	return nil
}

// compare runs the plugin on d and returns "" when its object equals the input with want
// applied, else what differs.
func (h *mutatingHarness) compare(d doc, want []patchOp) string {
	if d.object == nil || (d.op != admission.Create && d.op != admission.Update) {
		if len(want) > 0 {
			return fmt.Sprintf("the core patches a %s request the plugin never mutates", d.op)
		}
		return ""
	}
	expected := deepCopy(d.object)
	if err := applyTolerations(expected, want); err != nil {
		return fmt.Sprintf("core patch: %v", err)
	}
	object := &unstructured.Unstructured{Object: deepCopy(d.object)}
	var old runtime.Object
	if d.oldObject != nil {
		old = &unstructured.Unstructured{Object: deepCopy(d.oldObject)}
	}
	apiVersion, _ := d.object["apiVersion"].(string)
	kind, _ := d.object["kind"].(string)
	gv, _ := schema.ParseGroupVersion(apiVersion)
	var opts runtime.Object = &metav1.CreateOptions{}
	if d.op == admission.Update {
		opts = &metav1.UpdateOptions{}
	}
	u := d.user
	attrs := admission.NewAttributesRecord(object, old, gv.WithKind(kind), d.namespace, object.GetName(),
		gv.WithResource(plural(kind)), "", d.op, opts, false, &u)
	var err error
	// The type converter reads the embedded OpenAPI on its first poll: retry while the
	// dispatcher says the kind's schema is not there yet.
	for i := 0; i < 100; i++ {
		err = h.plugin.Admit(context.Background(), attrs, admission.NewObjectInterfacesFromScheme(runtime.NewScheme()))
		if err == nil || !apierrors.IsServiceUnavailable(err) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return fmt.Sprintf("plugin error: %v", err)
	}
	got, _ := json.Marshal(attrs.GetObject().(*unstructured.Unstructured).Object)
	exp, _ := json.Marshal(expected)
	if string(got) != string(exp) {
		return fmt.Sprintf("core patch %s, plugin's object differs:\n    core:   %s\n    plugin: %s", mustJSON(want), exp, got)
	}
	return ""
}

func mustJSON(v interface{}) string {
	b, _ := json.Marshal(v)
	return string(b)
}
