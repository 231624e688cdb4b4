package ckspolicy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"testing"

	ckspolicy "github.com/cks-policy/cks-policy/policy-ffi/go"
)

// repoRoot walks up from the test directory to the folder holding fixtures/cases.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if st, err := os.Stat(filepath.Join(dir, "fixtures", "cases")); err == nil && st.IsDir() {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("fixtures/cases not found above the test directory")
		}
		dir = parent
	}
}

type fixtureCase struct {
	name, inputName          string
	input, settings, context []byte
	expected                 []byte // minified expected.json, nil when absent
}

func readOr(path string, fallback []byte) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return fallback
	}
	return b
}

func fixtureCases(t testing.TB) []fixtureCase {
	t.Helper()
	root := filepath.Join(repoRoot(t), "fixtures", "cases")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var cases []fixtureCase
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		c := fixtureCase{name: e.Name()}
		for _, n := range []string{"input.yaml", "input.json"} {
			if b, err := os.ReadFile(filepath.Join(dir, n)); err == nil {
				c.inputName, c.input = n, b
				break
			}
		}
		if c.inputName == "" {
			t.Fatalf("%s has no input.yaml or input.json", dir)
		}
		c.settings = readOr(filepath.Join(dir, "settings.json"), []byte("{}"))
		c.context = readOr(filepath.Join(dir, "context.json"), []byte("{}"))
		if pretty, err := os.ReadFile(filepath.Join(dir, "expected.json")); err == nil {
			var buf bytes.Buffer
			if err := json.Compact(&buf, pretty); err != nil {
				t.Fatalf("%s/expected.json: %v", dir, err)
			}
			c.expected = buf.Bytes()
		}
		cases = append(cases, c)
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].name < cases[j].name })
	if len(cases) == 0 {
		t.Fatal("no fixture cases")
	}
	return cases
}

func TestFixtures(t *testing.T) {
	ctx := context.Background()
	for _, c := range fixtureCases(t) {
		if c.expected == nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			p, err := ckspolicy.New(c.settings)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			got, err := p.EvaluateJSON(ctx, c.inputName, c.input, ckspolicy.WithContextJSON(c.context))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, c.expected) {
				t.Fatalf("report differs\n got: %s\nwant: %s", got, c.expected)
			}
			// The typed report agrees with the raw one.
			r, err := p.Evaluate(ctx, c.inputName, c.input, ckspolicy.WithContextJSON(c.context))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(r.Raw, got) || r.Summary.Documents != len(r.Results) {
				t.Fatalf("typed report disagrees: %+v", r.Summary)
			}
			if s := r.Summary; s.Passed+s.Warned+s.Denied+s.Invalid != s.Documents {
				t.Fatalf("outcomes do not add up to the documents: %+v", s)
			}
		})
	}
}

// fixtures/fits/<name>/{pod.yaml,nodes.yaml,settings.json?,expected.json}, byte for byte.
// A case's pods.yaml (pods already running) goes through FitsWithPodsJSON.
func TestFitsFixtures(t *testing.T) {
	root := filepath.Join(repoRoot(t), "fixtures", "fits")
	dirs, _ := filepath.Glob(filepath.Join(root, "*", "expected.json"))
	if len(dirs) == 0 {
		t.Fatal("no fits fixtures")
	}
	for _, exp := range dirs {
		dir := filepath.Dir(exp)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			p, err := ckspolicy.New(readOr(filepath.Join(dir, "settings.json"), nil))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			pod, nodes := readOr(filepath.Join(dir, "pod.yaml"), nil), readOr(filepath.Join(dir, "nodes.yaml"), nil)
			var got []byte
			if pods, perr := os.ReadFile(filepath.Join(dir, "pods.yaml")); perr == nil {
				got, err = p.FitsWithPodsJSON(context.Background(), pod, nodes, pods)
			} else {
				got, err = p.FitsJSON(context.Background(), pod, nodes)
			}
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := json.Compact(&want, readOr(exp, nil)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("fits differs\n got: %s\nwant: %s", got, want.Bytes())
			}
		})
	}
}

const pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - {name: web, image: nginx}\n"

func TestEvaluateTyped(t *testing.T) {
	p, err := ckspolicy.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r, err := p.Evaluate(context.Background(), "pod.yaml", []byte(pod))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Results) != 1 || r.Results[0].Allowed || *r.Results[0].Source != "pod.yaml" || *r.Results[0].Kind != "Pod" {
		t.Fatalf("unexpected report: %s", r.Raw)
	}
	found := false
	for _, f := range r.Results[0].Findings {
		if f.Rule == "image-mutable-tag" && f.Severity == ckspolicy.SeverityError && f.Path == "/spec/containers/0/image" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no image-mutable-tag finding: %s", r.Raw)
	}
	// No source: null.
	r, err = p.Evaluate(context.Background(), "", []byte(pod))
	if err != nil || r.Results[0].Source != nil {
		t.Fatalf("source should be null: %v %s", err, r.Raw)
	}
}

func TestInvalidSettingsListsEveryProblem(t *testing.T) {
	_, err := ckspolicy.New([]byte(`{"mdoe":"enforce","images":{"allow":["[bad"]}}`))
	if !errors.Is(err, ckspolicy.ErrInvalidSettings) {
		t.Fatalf("want ErrInvalidSettings, got %v", err)
	}
	var e *ckspolicy.Error
	if !errors.As(err, &e) || len(e.Problems) != 2 {
		t.Fatalf("want 2 problems, got %#v", err)
	}
	if e.Problems[0].Path != "/mdoe" || e.Problems[1].Path != "/images/allow/0" {
		t.Fatalf("problem paths: %+v", e.Problems)
	}
	if e.Code != ckspolicy.CodeInvalidSettings || e.Code.String() != "CKS_POLICY_INVALID_SETTINGS" {
		t.Fatalf("code: %v", e.Code)
	}
}

func TestErrors(t *testing.T) {
	p, err := ckspolicy.New([]byte("mode: warn\n"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.Review(ctx, []byte("[1]")); !errors.Is(err, ckspolicy.ErrInvalidInput) {
		t.Fatalf("review of junk: %v", err)
	}
	if _, err := p.EvaluateJSON(ctx, "x", []byte(pod), ckspolicy.WithContextJSON([]byte(`{"nope":1}`))); !errors.Is(err, ckspolicy.ErrInvalidContext) {
		t.Fatalf("bad context: %v", err)
	}
	if _, err := p.EvaluateJSON(ctx, "a\x00b", []byte(pod)); err == nil {
		t.Fatal("a source with a NUL byte must be refused")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.EvaluateJSON(cancelled, "x", []byte(pod)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	p.Close()
	p.Close() // idempotent
	if _, err := p.EvaluateJSON(ctx, "x", []byte(pod)); !errors.Is(err, ckspolicy.ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	if _, err := p.Review(ctx, []byte("{}")); !errors.Is(err, ckspolicy.ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

func TestReviewFitsRulesVersion(t *testing.T) {
	p, err := ckspolicy.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	review := []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"go-uid","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","userInfo":{"username":"alice"},"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}`)
	out, err := p.Review(context.Background(), review, ckspolicy.WithClusterContext(ckspolicy.ClusterContext{Namespaces: map[string]map[string]string{"default": {}}}))
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Response struct {
			UID     string `json:"uid"`
			Allowed bool   `json:"allowed"`
		} `json:"response"`
	}
	if err := json.Unmarshal(out, &resp); err != nil || resp.Response.UID != "go-uid" || resp.Response.Allowed {
		t.Fatalf("review: %v %s", err, out)
	}
	nodes := []byte("apiVersion: v1\nkind: Node\nmetadata: {name: cpu-1}\nspec:\n  taints:\n  - {key: is_cpu_compute, effect: NoSchedule}\n" +
		"---\napiVersion: v1\nkind: Node\nmetadata: {name: db-1}\nspec:\n  taints:\n  - {key: dedicated, value: db, effect: NoSchedule}\n")
	fits, err := p.Fits(context.Background(), []byte(pod), nodes)
	if err != nil {
		t.Fatal(err)
	}
	// Judged as admitted: the is_cpu_compute toleration admission adds lets it onto cpu-1.
	if fits.Pod != "web" || len(fits.Nodes) != 2 || fits.Nodes[0].Name != "cpu-1" || !fits.Nodes[0].Fits ||
		fits.Nodes[1].Fits || fits.Nodes[1].Reasons[0].Kind != "taint" || len(fits.AdmissionPatch) != 1 {
		t.Fatalf("fits: %s", fits.Raw)
	}
	configMap := []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
	if _, err := p.Fits(context.Background(), []byte(pod), configMap); !errors.Is(err, ckspolicy.ErrInvalidInput) {
		t.Fatalf("fits on a ConfigMap: %v", err)
	}
	rules, err := ckspolicy.Rules()
	if err != nil || len(rules) == 0 || rules[0].ID != "input-invalid" {
		t.Fatalf("rules: %v %+v", err, rules)
	}
	if schema, err := ckspolicy.SettingsSchema(); err != nil || !json.Valid(schema) {
		t.Fatalf("schema: %v", err)
	}
	if ckspolicy.Version() != ckspolicy.HeaderVersion {
		t.Fatalf("library %s, header %s", ckspolicy.Version(), ckspolicy.HeaderVersion)
	}
}

// Many goroutines share one handle (run under -race): every answer equals the serial one.
func TestConcurrentSharedHandle(t *testing.T) {
	cases := fixtureCases(t)
	p, err := ckspolicy.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	want := make([][]byte, len(cases))
	for i, c := range cases {
		if want[i], err = p.EvaluateJSON(ctx, c.inputName, c.input); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := 0; k < 20; k++ {
				i := (g*7 + k) % len(cases)
				got, err := p.EvaluateJSON(ctx, cases[i].inputName, cases[i].input)
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, want[i]) {
					errs <- errors.New(cases[i].name + ": differs under concurrency")
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Close while calls run: it waits for calls in flight; later calls see ErrClosed.
func TestCloseRacesWithCalls(t *testing.T) {
	p, err := ckspolicy.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 50; k++ {
				_, err := p.EvaluateJSON(context.Background(), "x", []byte(pod))
				if err != nil && !errors.Is(err, ckspolicy.ErrClosed) {
					t.Error(err)
					return
				}
			}
		}()
	}
	p.Close()
	wg.Wait()
}

// A newer engine may add fields at any level of a report; the Go types keep the ones they
// know (encoding/json ignores unknown keys) and read preexisting (ratcheting) findings. The
// Python package's test_reports_with_unknown_fields_are_read is the same case.
func TestReportWithUnknownFields(t *testing.T) {
	raw := []byte(`{"summary":{"documents":1,"errors":1,"warnings":0,"infos":0,"later":1},
		"results":[{"source":"pod.yaml","document":0,"kind":"Pod","namespace":null,"name":"web","allowed":false,
		"findings":[{"rule":"image-mutable-tag","severity":"error","path":"/spec/containers/0/image",
		"message":"m","preexisting":true,"someFutureField":{"x":[1]}}],
		"patch":[{"op":"add","path":"/spec/tolerations","value":[],"later":1}],"later":{"x":1}}],
		"later":[1]}`)
	var r ckspolicy.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	if r.Summary != (ckspolicy.Summary{Documents: 1, Errors: 1}) || len(r.Results) != 1 {
		t.Fatalf("unexpected report: %+v", r)
	}
	res := r.Results[0]
	if *res.Source != "pod.yaml" || *res.Kind != "Pod" || *res.Name != "web" || res.Allowed {
		t.Fatalf("unexpected result: %+v", res)
	}
	f := res.Findings[0]
	if !f.Preexisting || f.Rule != "image-mutable-tag" || f.Severity != ckspolicy.SeverityError {
		t.Fatalf("unexpected finding: %+v", f)
	}
	if len(res.Patch) != 1 || res.Patch[0].Op != "add" || string(res.Patch[0].Value) != "[]" {
		t.Fatalf("unexpected patch: %+v", res.Patch)
	}

	var fits ckspolicy.FitsReport
	if err := json.Unmarshal([]byte(`{"pod":"web","later":1,"nodes":[{"name":"n1","fits":false,
		"later":1,"reasons":[{"kind":"taint","message":"m","later":1}]}]}`), &fits); err != nil {
		t.Fatal(err)
	}
	if fits.Pod != "web" || len(fits.Nodes) != 1 || fits.Nodes[0].Reasons[0].Kind != "taint" {
		t.Fatalf("unexpected fits: %+v", fits)
	}
}

// The same through a report the library produced, with a field added at every level.
func TestRealReportWithUnknownFields(t *testing.T) {
	p, err := ckspolicy.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	raw, err := p.EvaluateJSON(context.Background(), "pod.yaml",
		[]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: web, image: nginx}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	v["later"] = 1
	v["summary"].(map[string]any)["later"] = 1
	for _, r := range v["results"].([]any) {
		r := r.(map[string]any)
		r["later"] = 1
		for _, key := range []string{"findings", "patch"} {
			items := r[key].([]any)
			if len(items) == 0 {
				t.Fatalf("the report has no %s to extend: %s", key, raw)
			}
			for _, it := range items {
				it.(map[string]any)["later"] = 1
			}
		}
	}
	extended, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var plain, ext ckspolicy.Report
	if err := json.Unmarshal(raw, &plain); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(extended, &ext); err != nil {
		t.Fatal(err)
	}
	// Patch values are raw JSON, re-encoded (keys sorted) by the map round trip: compare them
	// as values, then the rest field by field.
	for i := range plain.Results {
		for j := range plain.Results[i].Patch {
			var a, b any
			_ = json.Unmarshal(plain.Results[i].Patch[j].Value, &a)
			_ = json.Unmarshal(ext.Results[i].Patch[j].Value, &b)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("patch %d value differs: %s vs %s", j, plain.Results[i].Patch[j].Value, ext.Results[i].Patch[j].Value)
			}
			plain.Results[i].Patch[j].Value, ext.Results[i].Patch[j].Value = nil, nil
		}
	}
	if !reflect.DeepEqual(plain, ext) {
		t.Fatalf("unknown fields changed the decoded report:\n%+v\n%+v", plain, ext)
	}
}

// An UPDATE that only relabels a Deployment with an old violation is allowed (ratcheting).
func TestUpdateRatchetsPreexistingViolations(t *testing.T) {
	p, err := ckspolicy.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	dep := func(label string) string {
		return `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"a":"` + label + `"}},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:latest"}]}}}}`
	}
	review := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","operation":"UPDATE","userInfo":{"username":"alice"},"object":` + dep("2") + `,"oldObject":` + dep("1") + `}}`
	out, err := p.Review(context.Background(), []byte(review))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`"allowed":true`)) || !bytes.Contains(out, []byte("predates the update")) {
		t.Fatalf("unexpected response: %s", out)
	}
}

// Audit judges existing cluster state: a healthy node's own CoreWeave labels are no change.
func TestAuditJudgesExistingState(t *testing.T) {
	p, err := ckspolicy.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	node := []byte("apiVersion: v1\nkind: Node\nmetadata:\n  name: g1\n  labels: {node.coreweave.cloud/state: production, node.coreweave.cloud/reserved: org-abc}\n")
	r, err := p.Audit(context.Background(), "nodes.yaml", node)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Results[0].Existing || len(r.Results[0].Findings) != 0 || !r.Results[0].Allowed {
		t.Fatalf("unexpected audit: %s", r.Raw)
	}
	c, err := p.Evaluate(context.Background(), "nodes.yaml", node)
	if err != nil {
		t.Fatal(err)
	}
	if c.Results[0].Allowed {
		t.Fatalf("check should deny the CoreWeave labels: %s", c.Raw)
	}
}
