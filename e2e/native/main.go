// The native-policy differential test: the upstream validating admission policy plugin
// (k8s.io/apiserver/pkg/admission/plugin/policy/validating, the code kube-apiserver runs)
// evaluates the policies `cks-policy vap` emits over every golden vector, and its verdict per
// expressible rule must equal the core's expected output (fixtures/cases/*/expected.json).
//
// Usage: go run . -cks PATH/cks-policy -cases fixtures/cases [-rules broad-toleration,...]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/initializer"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/util/compatibility"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/apiserver/pkg/warning"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) AddWarning(_, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, text)
}

// A request to judge: one document of a vector.
type doc struct {
	index     int
	op        admission.Operation
	object    map[string]interface{}
	oldObject map[string]interface{}
	namespace string
	user      user.DefaultInfo
	// The settings set whose policies judge it (the label setLabel on object and oldObject).
	set string
}

// denyBindings are the merged bindings whose emitted action is Deny.
var denyBindings = map[string]bool{}

// bindingOf reads the binding's name from a warning of the validating plugin
// ("Validation failed for ValidatingAdmissionPolicy '…' with binding '…': message").
var bindingOf = regexp.MustCompile(`with binding '([^']+)': `)

// setLabel selects, in the merged plugins, the bindings of one vector's settings.
const setLabel = "cks-policy-differential/settings"

// mergeSets puts the policies of every settings set into one list of each API: a policy
// identical in two sets is kept once, and each set's bindings gain an objectSelector on setLabel.
func mergeSets(sets [][]map[string]interface{}) (validating, mutating []map[string]interface{}) {
	byContent := map[string]string{}
	for i, manifests := range sets {
		set := fmt.Sprintf("s%d", i)
		renamed := map[string]string{}
		for _, m := range manifests {
			kind, _ := m["kind"].(string)
			if kind != "ValidatingAdmissionPolicy" && kind != "MutatingAdmissionPolicy" {
				continue
			}
			spec, _ := json.Marshal(m["spec"])
			key := kind + string(spec)
			name, ok := byContent[key]
			if !ok {
				name = fmt.Sprintf("p%d", len(byContent))
				byContent[key] = name
				c := deepCopy(m)
				c["metadata"].(map[string]interface{})["name"] = name
				if kind == "ValidatingAdmissionPolicy" {
					validating = append(validating, c)
				} else {
					mutating = append(mutating, c)
				}
			}
			md, _ := m["metadata"].(map[string]interface{})
			old, _ := md["name"].(string)
			renamed[kind+"/"+old] = name
		}
		for _, m := range manifests {
			kind, _ := m["kind"].(string)
			if kind != "ValidatingAdmissionPolicyBinding" && kind != "MutatingAdmissionPolicyBinding" {
				continue
			}
			c := deepCopy(m)
			spec := c["spec"].(map[string]interface{})
			policyKind := strings.TrimSuffix(kind, "Binding")
			policy, _ := spec["policyName"].(string)
			spec["policyName"] = renamed[policyKind+"/"+policy]
			md := c["metadata"].(map[string]interface{})
			md["name"] = fmt.Sprintf("%s-%s", set, md["name"])
			mr, _ := spec["matchResources"].(map[string]interface{})
			if mr == nil {
				mr = map[string]interface{}{}
				spec["matchResources"] = mr
			}
			mr["objectSelector"] = map[string]interface{}{"matchLabels": map[string]interface{}{setLabel: set}}
			if kind == "ValidatingAdmissionPolicyBinding" {
				// The plugin stops at the first denial: every binding warns here, and a
				// warning from a Deny binding counts as a denial (so every rule is seen).
				actions, _ := spec["validationActions"].([]interface{})
				for _, a := range actions {
					if a == "Deny" {
						denyBindings[md["name"].(string)] = true
					}
				}
				spec["validationActions"] = []interface{}{"Warn"}
				validating = append(validating, c)
			} else {
				mutating = append(mutating, c)
			}
		}
	}
	return validating, mutating
}

// labelled returns a copy of obj carrying setLabel=set, or nil when its labels are not a map.
func labelled(obj map[string]interface{}, set string) map[string]interface{} {
	if obj == nil {
		return nil
	}
	c := deepCopy(obj)
	md, ok := c["metadata"].(map[string]interface{})
	if !ok {
		if c["metadata"] != nil {
			return nil
		}
		md = map[string]interface{}{}
		c["metadata"] = md
	}
	labels, ok := md["labels"].(map[string]interface{})
	if !ok {
		if md["labels"] != nil {
			return nil
		}
		labels = map[string]interface{}{}
		md["labels"] = labels
	}
	labels[setLabel] = set
	return c
}

// plural mirrors policy-core/src/answer/native/mod.rs `plural` (the resource the policies match).
func plural(kind string) string {
	l := strings.ToLower(kind)
	if strings.HasSuffix(l, "y") && !strings.ContainsAny(l[len(l)-2:len(l)-1], "aeiou") {
		return l[:len(l)-1] + "ies"
	}
	if strings.HasSuffix(l, "s") || strings.HasSuffix(l, "x") || strings.HasSuffix(l, "ch") {
		return l + "es"
	}
	return l + "s"
}

// clusterScoped are the kinds of the vectors that have no namespace.
var clusterScoped = map[string]bool{
	"Node": true, "Namespace": true, "NodePool": true, "ClusterWorkflowTemplate": true,
	"ResourceFlavor": true, "ClusterServingRuntime": true, "ValidatingWebhookConfiguration": true,
	"MutatingWebhookConfiguration": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"CustomResourceDefinition": true, "ClusterTrainingRuntime": true, "ClusterQueue": true,
	"DeviceClass": true, "PriorityClass": true,
}

func readDocs(path string) ([]doc, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	var docs []doc
	for i := 0; ; i++ {
		var m map[string]interface{}
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		if m == nil {
			i--
			continue
		}
		d := doc{index: i, op: admission.Create}
		if m["kind"] == "AdmissionReview" {
			req, _ := m["request"].(map[string]interface{})
			if req == nil {
				continue
			}
			d.op = admission.Operation(fmt.Sprint(req["operation"]))
			d.object, _ = req["object"].(map[string]interface{})
			d.oldObject, _ = req["oldObject"].(map[string]interface{})
			d.namespace, _ = req["namespace"].(string)
			if ui, ok := req["userInfo"].(map[string]interface{}); ok {
				d.user.Name, _ = ui["username"].(string)
				if gs, ok := ui["groups"].([]interface{}); ok {
					for _, g := range gs {
						d.user.Groups = append(d.user.Groups, fmt.Sprint(g))
					}
				}
			}
		} else {
			d.object = m
		}
		obj := d.object
		if obj == nil {
			obj = d.oldObject
		}
		if obj == nil {
			continue
		}
		if d.namespace == "" {
			if md, ok := obj["metadata"].(map[string]interface{}); ok {
				d.namespace, _ = md["namespace"].(string)
			}
		}
		kind, _ := obj["kind"].(string)
		if d.namespace == "" && !clusterScoped[kind] {
			d.namespace = "default"
		}
		docs = append(docs, d)
	}
	return docs, nil
}

type expected struct {
	Results []struct {
		Document int       `json:"document"`
		Kind     string    `json:"kind"`
		Patch    []patchOp `json:"patch"`
		Findings []struct {
			Rule       string          `json:"rule"`
			Severity   string          `json:"severity"`
			Suppressed json.RawMessage `json:"suppressed"`
		} `json:"findings"`
	} `json:"results"`
}

// The plugin, loaded with one set of emitted policies.
type harness struct {
	plugin     *validating.Plugin
	stop       chan struct{}
	client     *fake.Clientset
	namespaces map[string]bool
}

func newHarness(manifests []map[string]interface{}, namespaces map[string]bool) (*harness, error) {
	var objs []runtime.Object
	for _, m := range manifests {
		b, _ := json.Marshal(m)
		switch m["kind"] {
		case "ValidatingAdmissionPolicy":
			p := &admissionregistrationv1.ValidatingAdmissionPolicy{}
			if err := json.Unmarshal(b, p); err != nil {
				return nil, err
			}
			// The API server's defaulting (pkg/apis/admissionregistration/v1/defaults.go).
			mc := p.Spec.MatchConstraints
			if mc.NamespaceSelector == nil {
				mc.NamespaceSelector = &metav1.LabelSelector{}
			}
			if mc.ObjectSelector == nil {
				mc.ObjectSelector = &metav1.LabelSelector{}
			}
			eq := admissionregistrationv1.Equivalent
			mc.MatchPolicy = &eq
			for i := range mc.ResourceRules {
				s := admissionregistrationv1.AllScopes
				mc.ResourceRules[i].Scope = &s
			}
			objs = append(objs, p)
		case "ValidatingAdmissionPolicyBinding":
			bd := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
			if err := json.Unmarshal(b, bd); err != nil {
				return nil, err
			}
			mr := bd.Spec.MatchResources
			if mr == nil {
				mr = &admissionregistrationv1.MatchResources{}
				bd.Spec.MatchResources = mr
			}
			if mr.NamespaceSelector == nil {
				mr.NamespaceSelector = &metav1.LabelSelector{}
			}
			if mr.ObjectSelector == nil {
				mr.ObjectSelector = &metav1.LabelSelector{}
			}
			eq := admissionregistrationv1.Equivalent
			mr.MatchPolicy = &eq
			objs = append(objs, bd)
		}
	}
	for ns := range namespaces {
		labels := map[string]string{"kubernetes.io/metadata.name": ns}
		objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}})
	}
	client := fake.NewSimpleClientset(objs...)
	dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())
	factory := informers.NewSharedInformerFactory(client, 0)
	stop := make(chan struct{})
	mapper := meta.NewDefaultRESTMapper(nil)
	p := validating.NewPlugin(nil)
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
	return &harness{plugin: p, stop: stop, client: client, namespaces: map[string]bool{}}, nil
}

// judge returns the plugin's error (a denial) and warnings for one document.
func (h *harness) judge(d doc) (error, []string) {
	obj := d.object
	if obj == nil {
		obj = d.oldObject
	}
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	gv, _ := schema.ParseGroupVersion(apiVersion)
	gvk := gv.WithKind(kind)
	gvr := gv.WithResource(plural(kind))
	name := ""
	if md, ok := obj["metadata"].(map[string]interface{}); ok {
		name, _ = md["name"].(string)
	}
	var object, old runtime.Object
	if d.object != nil {
		object = &unstructured.Unstructured{Object: d.object}
	}
	if d.oldObject != nil {
		old = &unstructured.Unstructured{Object: d.oldObject}
	}
	var opts runtime.Object
	switch d.op {
	case admission.Create:
		opts = &metav1.CreateOptions{}
	case admission.Update:
		opts = &metav1.UpdateOptions{}
	case admission.Delete:
		opts = &metav1.DeleteOptions{}
	}
	u := d.user
	attrs := admission.NewAttributesRecord(object, old, gvk, d.namespace, name, gvr, "", d.op, opts, false, &u)
	rec := &recorder{}
	ctx := warning.WithWarningRecorder(context.Background(), rec)
	scheme := runtime.NewScheme()
	err := h.plugin.Validate(ctx, attrs, admission.NewObjectInterfacesFromScheme(scheme))
	return err, rec.msgs
}

func emit(cks, settings, version string) ([]map[string]interface{}, string, error) {
	args := []string{"vap", "--kubernetes-version", version}
	if settings != "" {
		args = append(args, "--settings", settings)
	}
	cmd := exec.Command(cks, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, "", fmt.Errorf("cks-policy vap: %v: %s", err, stderr.String())
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	var ms []map[string]interface{}
	for {
		var m map[string]interface{}
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, "", err
		}
		if m != nil {
			ms = append(ms, m)
		}
	}
	return ms, string(out), nil
}

func main() {
	cks := flag.String("cks", "cks-policy", "the cks-policy binary")
	cases := flag.String("cases", "fixtures/cases", "golden vectors")
	rulesFlag := flag.String("rules", "", "comma-separated expressible rules (default: from `cks-policy rules --format json`)")
	cost := flag.Bool("cost", false, "measure the CEL cost of the emitted expressions instead (cost.go)")
	costSettings := flag.String("cost-settings", "", "settings for -cost")
	flag.Parse()
	if *cost {
		os.Exit(runCost(*cks, *costSettings))
	}

	rules := map[string]bool{}
	if *rulesFlag != "" {
		for _, r := range strings.Split(*rulesFlag, ",") {
			rules[r] = true
		}
	} else {
		out, err := exec.Command(*cks, "rules", "--format", "json").Output()
		if err != nil {
			fmt.Fprintln(os.Stderr, "cks-policy rules:", err)
			os.Exit(2)
		}
		var list []struct {
			ID     string `json:"id"`
			Kind   string `json:"kind"`
			Native struct {
				Expressible bool `json:"expressible"`
			} `json:"native"`
		}
		if err := json.Unmarshal(out, &list); err != nil {
			fmt.Fprintln(os.Stderr, "cks-policy rules:", err)
			os.Exit(2)
		}
		for _, r := range list {
			// A mutation is compared by its patch (mutating.go), not by a verdict.
			if r.Native.Expressible && r.Kind != "mutate" {
				rules[r.ID] = true
			}
		}
	}
	var allRules []string
	if out, err := exec.Command(*cks, "rules", "--format", "json").Output(); err == nil {
		var list []struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(out, &list)
		for _, r := range list {
			allRules = append(allRules, r.ID)
		}
	}
	var ruleList []string
	for r := range rules {
		ruleList = append(ruleList, r)
	}
	sort.Strings(ruleList)

	dirs, _ := filepath.Glob(filepath.Join(*cases, "*"))
	sort.Strings(dirs)
	var differences []string
	compared, vectors, docsCompared, positives := 0, 0, 0, 0
	skipped := map[string]int{}
	skippedMutation := map[string]int{}
	patchesCompared, patchesApplied := 0, 0
	// First pass: read every vector, and emit the policies once per distinct settings file.
	type vector struct {
		dir  string
		docs []doc
		exp  expected
		set  string
		// Settings `exceptions.annotations: always` (true): admission honours the annotation.
		annotationsInAdmission bool
		// A context.json: digests a host resolved for the request, which `pin-digests` pins
		// and the image rules then count as pinned; native policies cannot know them.
		hostDigests bool
	}
	var vecs []vector
	sets := map[string]string{} // settings text -> set label
	var setManifests [][]map[string]interface{}
	for _, dir := range dirs {
		input := filepath.Join(dir, "input.yaml")
		if _, err := os.Stat(input); err != nil {
			input = filepath.Join(dir, "input.json")
		}
		docs, err := readDocs(input)
		if err != nil {
			skipped["input not decodable by the Kubernetes YAML reader (the API server never sees it)"]++
			continue
		}
		var exp expected
		raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
		if err != nil || json.Unmarshal(raw, &exp) != nil {
			fmt.Fprintln(os.Stderr, "cannot read", dir, "expected.json")
			os.Exit(2)
		}
		settings := filepath.Join(dir, "settings.json")
		stext, err := os.ReadFile(settings)
		if err != nil {
			settings, stext = "", nil
		}
		set, ok := sets[string(stext)]
		if !ok {
			// 1.36: the ValidatingAdmissionPolicies are those of every version; the
			// MutatingAdmissionPolicy is emitted from 1.36 on.
			manifests, _, err := emit(*cks, settings, "1.36")
			if err != nil {
				differences = append(differences, fmt.Sprintf("%s: %v", filepath.Base(dir), err))
				continue
			}
			set = fmt.Sprintf("s%d", len(setManifests))
			sets[string(stext)] = set
			setManifests = append(setManifests, manifests)
		}
		var st struct {
			Exceptions struct {
				Annotations interface{} `json:"annotations"`
			} `json:"exceptions"`
		}
		_ = json.Unmarshal(stext, &st)
		always := st.Exceptions.Annotations == "always" || st.Exceptions.Annotations == true
		_, ctxErr := os.Stat(filepath.Join(dir, "context.json"))
		vecs = append(vecs, vector{dir: dir, docs: docs, exp: exp, set: set, annotationsInAdmission: always,
			hostDigests: ctxErr == nil})
	}
	// One plugin of each kind holds every settings set's policies once (identical policies
	// shared), each set's bindings selecting the objects labelled with the set.
	validatingManifests, mutatingManifests := mergeSets(setManifests)
	h, err := newHarness(validatingManifests, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "validating plugin:", err)
		os.Exit(2)
	}
	mh, err := newMutatingHarness(mutatingManifests)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutating plugin:", err)
		os.Exit(2)
	}
	for _, vec := range vecs {
		v := vec
		dir, docs, exp := v.dir, v.docs, v.exp
		notCompared := map[int]map[string]bool{}
		for _, d := range docs {
			notCompared[d.index] = map[string]bool{}
		}
		if os.Getenv("NATIVE_VERBOSE") != "" {
			fmt.Fprintln(os.Stderr, "vector", filepath.Base(dir))
		}
		for i := range docs {
			docs[i].set = vec.set
			ensureNamespace(h.client, h.namespaces, docs[i].namespace)
			ensureNamespace(mh.client, mh.namespaces, docs[i].namespace)
		}
		vectors++
		for _, d := range docs {
			// The core's result(s) for this document.
			var want = map[string]string{}
			var wantPatch []patchOp
			invalid, removed := false, false
			n := 0
			for _, r := range exp.Results {
				if r.Document != d.index {
					continue
				}
				n++
				for _, op := range r.Patch {
					// `cpu-compute-toleration` patches a Pod's own tolerations, and no other
					// rule does (`sunk-daemonset-tolerations` patches DaemonSet templates).
					if r.Kind == "Pod" && (op.Path == "/spec/tolerations" || op.Path == "/spec/tolerations/-") {
						wantPatch = append(wantPatch, op)
					}
				}
				for _, f := range r.Findings {
					if f.Rule == "input-invalid" {
						invalid = true
					}
					if f.Rule == "api-version-removed" {
						removed = true
					}
				}
				for _, f := range r.Findings {
					if !rules[f.Rule] {
						continue
					}
					var sup struct {
						By string `json:"by"`
					}
					_ = json.Unmarshal(f.Suppressed, &sup)
					if sup.By == "annotation" {
						if v.annotationsInAdmission {
							// Native policies do not read the annotation (README).
							notCompared[d.index][f.Rule] = true
							skipped["rule verdicts: a rule silenced by the exceptions annotation where admission honours it (`exceptions.annotations: always`), which native policies do not read"]++
							continue
						}
						// The core honours the annotation only for files (`exceptions.annotations:
						// files`, the default): in admission the finding stands.
						sup.By = ""
					}
					v := "warn"
					if f.Severity == "error" && sup.By == "" {
						v = "deny"
					}
					if want[f.Rule] != "deny" {
						want[f.Rule] = v
					}
				}
			}
			if n != 1 {
				skipped["a document the core reads as other than one object (a List, or unreadable)"]++
				continue
			}
			obj, old := labelled(d.object, d.set), labelled(d.oldObject, d.set)
			if (obj == nil) != (d.object == nil) || (old == nil) != (d.oldObject == nil) {
				skipped["metadata or labels not a map (the API server refuses it)"]++
				continue
			}
			d.object, d.oldObject = obj, old
			if kind, _ := d.object["kind"].(string); d.object != nil && strings.HasSuffix(kind, "List") {
				skipped["a `kind: List` document (the API server never receives one)"]++
				continue
			}
			// The mutation: the plugin's object equals the input with the core's patch applied.
			if invalid {
				// The core patches nothing it finds invalid; the API server refuses such a
				// request before admission (a container `name: false`, a review without uid).
				skippedMutation["an input-invalid document (the API server refuses it before admission)"]++
			} else {
				patchesCompared++
				if len(wantPatch) > 0 {
					patchesApplied++
				}
			}
			if diff := mh.compare(d, wantPatch); !invalid && diff != "" {
				differences = append(differences, fmt.Sprintf("%s doc %d (%s): cpu-compute-toleration: %s",
					filepath.Base(dir), d.index, d.op, diff))
			}
			err, warnings := h.judge(d)
			docsCompared++
			for _, rule := range ruleList {
				if notCompared[d.index][rule] {
					continue
				}
				if removed {
					skipped["rule verdicts: on a removed apiVersion (the API server refuses it before admission)"]++
					continue
				}
				if v.hostDigests && strings.HasPrefix(rule, "image-") && rule != "image-reference-invalid" {
					skipped["rule verdicts: an image rule on digests a host resolved for the request (context.json), which native policies cannot know"]++
					continue
				}
				if kind, _ := d.object["kind"].(string); kind == "AppWrapper" {
					skipped["rule verdicts: on an AppWrapper (its pods are embedded objects of any kind, which the native policies do not walk)"]++
					continue
				}
				got := ""
				for _, w := range warnings {
					if !strings.Contains(w, rule+":") {
						continue
					}
					m := bindingOf.FindStringSubmatch(w)
					if m != nil && denyBindings[m[1]] {
						got = "deny"
					} else if got == "" {
						got = "warn"
					}
				}
				compared++
				if want[rule] != "" {
					positives++
				}
				if got != want[rule] {
					msg := ""
					if err != nil {
						msg = err.Error()
					}
					differences = append(differences, fmt.Sprintf("%s doc %d (%s): %s: core %q, plugin %q %s %v",
						filepath.Base(dir), d.index, d.op, rule, want[rule], got, msg, warnings))
				}
			}
			// Every binding warns here: an error, or a warning naming no rule (an expression
			// that failed to evaluate), is a failure.
			if err != nil {
				differences = append(differences, fmt.Sprintf("%s doc %d: plugin error: %v", filepath.Base(dir), d.index, err))
			}
			for _, w := range warnings {
				named := false
				for _, rule := range allRules {
					named = named || strings.Contains(w, rule+": ")
				}
				if !named {
					differences = append(differences, fmt.Sprintf("%s doc %d: plugin warning: %s", filepath.Base(dir), d.index, w))
				}
			}
		}
	}
	fmt.Printf("native differential: rules %v; %d vectors, %d documents, %d rule verdicts compared (%d where the core reports the rule); mutation (cpu-compute-toleration, MutatingAdmissionPolicy): %d documents compared (%d where the core patches); %d differences\n",
		ruleList, vectors, docsCompared, compared, positives, patchesCompared, patchesApplied, len(differences))
	for why, n := range skipped {
		if strings.HasPrefix(why, "rule verdicts: ") {
			fmt.Printf("  not compared: %d rule verdicts: %s\n", n, strings.TrimPrefix(why, "rule verdicts: "))
		} else {
			fmt.Printf("  not compared: %d documents: %s\n", n, why)
		}
	}
	for why, n := range skippedMutation {
		fmt.Printf("  mutation not compared: %d documents: %s\n", n, why)
	}
	for _, d := range differences {
		fmt.Println("  DIFFERENCE:", d)
	}
	if len(differences) > 0 {
		os.Exit(1)
	}
}
