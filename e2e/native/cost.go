// The cost half of the differential (`-cost`): every expression `cks-policy vap` emits
// (validations and matchConditions) compiled in the admission plugins' own CEL environment
// (k8s.io/apiserver/pkg/admission/plugin/cel `createEnvForOpts`: `object`, `oldObject` dyn,
// `request` and `namespaceObject` typed, the base environment of
// k8s.io/apiserver/pkg/cel/environment with strict cost), then
//   - its estimated cost (cel-go `checker.Cost` with the Kubernetes library's cost estimator),
//     with every list and map bounded to 100 entries and every string to 256 characters, as
//     no dyn input has a size the estimator could know;
//   - its runtime cost (the cost tracking the API server evaluates with) on a Pod of 100
//     containers with 100 env vars each and 100 tolerations, and on a Deployment holding that
//     pod, on CREATE and on an UPDATE (oldObject the same object).
//
// It fails when an expression's runtime cost exceeds the per-call limit
// (k8s.io/apiserver/pkg/apis/cel `PerCallLimit`, 1,000,000) or a policy's conditions and
// validations together exceed the per-evaluation budget (`RuntimeCELCostBudget`, 10,000,000,
// which the validating plugin charges per policy: `validating/validator.go`).
package main

import (
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"

	"k8s.io/apimachinery/pkg/util/version"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	apiservercel "k8s.io/apiserver/pkg/cel"
	"k8s.io/apiserver/pkg/cel/environment"
	"k8s.io/apiserver/pkg/cel/library"
)

// boundedSizes bounds every dyn list, map and string for the estimator.
type boundedSizes struct{}

func (boundedSizes) EstimateSize(element checker.AstNode) *checker.SizeEstimate {
	if element.Path() == nil {
		return nil
	}
	max := uint64(100)
	if t := element.Type(); t != nil && t.String() == "string" {
		max = 256
	}
	return &checker.SizeEstimate{Min: 0, Max: max}
}

func (boundedSizes) EstimateCallCost(function, overloadID string, target *checker.AstNode, args []checker.AstNode) *checker.CallEstimate {
	return nil
}

func costEnv() (*cel.Env, error) {
	requestType := plugincel.BuildRequestType()
	namespaceType := plugincel.BuildNamespaceType()
	base := environment.MustBaseEnvSet(version.MajorMinor(1, 35))
	ext, err := base.Extend(environment.VersionedOptions{
		IntroducedVersion: version.MajorMinor(1, 0),
		EnvOptions: []cel.EnvOption{
			cel.Variable("object", cel.DynType),
			cel.Variable("oldObject", cel.DynType),
			cel.Variable("namespaceObject", namespaceType.CelType()),
			cel.Variable("request", requestType.CelType()),
		},
		DeclTypes: []*apiservercel.DeclType{namespaceType, requestType},
	}, environment.StrictCostOpt)
	if err != nil {
		return nil, err
	}
	return ext.Env(environment.NewExpressions)
}

func bigPod() map[string]interface{} {
	var containers, tolerations []interface{}
	for i := 0; i < 100; i++ {
		var env []interface{}
		for j := 0; j < 100; j++ {
			env = append(env, map[string]interface{}{"name": fmt.Sprintf("V%d", j), "value": "xxxxxxxxxxxxxxxx"})
		}
		containers = append(containers, map[string]interface{}{
			"name": fmt.Sprintf("c%d", i), "image": "registry.example.com/team/app:1.0", "env": env,
			"resources": map[string]interface{}{"limits": map[string]interface{}{"cpu": "1", "memory": "1Gi"}},
		})
		tolerations = append(tolerations, map[string]interface{}{
			"key": fmt.Sprintf("example.com/t%d", i), "operator": "Exists", "effect": "NoSchedule"})
	}
	return map[string]interface{}{"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]interface{}{"name": "big", "namespace": "default"},
		"spec":     map[string]interface{}{"containers": containers, "tolerations": tolerations}}
}

type costRow struct {
	policy, what  string
	estimate      uint64
	create, updat uint64
}

// runCost measures the policies emitted with the default settings (and `settings` when given).
func runCost(cks, settings string) int {
	manifests, _, err := emit(cks, settings, "1.37")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	env, err := costEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "CEL environment:", err)
		return 2
	}
	pod := bigPod()
	deployment := map[string]interface{}{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]interface{}{"name": "big", "namespace": "default"},
		"spec": map[string]interface{}{"template": map[string]interface{}{
			"metadata": map[string]interface{}{"labels": map[string]interface{}{"app": "big"}},
			"spec":     pod["spec"]}}}
	request := func(op string, resource string) map[string]interface{} {
		return map[string]interface{}{"operation": op, "namespace": "default", "name": "big",
			"resource": map[string]interface{}{"group": "", "version": "v1", "resource": resource},
			"userInfo": map[string]interface{}{"username": "alice", "groups": []interface{}{"dev"}}}
	}
	var rows []costRow
	failures := 0
	var maxEstimate, maxRuntime, maxPolicy uint64
	unbounded := 0
	for _, m := range manifests {
		kind, _ := m["kind"].(string)
		if kind != "ValidatingAdmissionPolicy" && kind != "MutatingAdmissionPolicy" {
			continue
		}
		name := m["metadata"].(map[string]interface{})["name"].(string)
		spec := m["spec"].(map[string]interface{})
		var exprs []struct{ what, text string }
		// A MutatingAdmissionPolicy's conditions (its JSON Patch runs in the patch
		// environment, measured on the real server by run.sh).
		for _, key := range []string{"matchConditions", "validations"} {
			list, _ := spec[key].([]interface{})
			for i, v := range list {
				e, _ := v.(map[string]interface{})["expression"].(string)
				exprs = append(exprs, struct{ what, text string }{fmt.Sprintf("%s[%d]", key, i), e})
			}
		}
		// The object the policy matches: the Pod, or the Deployment for every other kind (a
		// pod template at spec.template; kinds with other shapes see no pods in it).
		obj := deployment
		resource := "deployments"
		if rules, _ := spec["matchConstraints"].(map[string]interface{})["resourceRules"].([]interface{}); len(rules) > 0 {
			if rs, _ := rules[0].(map[string]interface{})["resources"].([]interface{}); len(rs) > 0 && rs[0] == "pods" {
				obj, resource = pod, "pods"
			}
		}
		var policyCreate, policyUpdate uint64
		for _, e := range exprs {
			ast, iss := env.Compile(e.text)
			if iss != nil && iss.Err() != nil {
				fmt.Printf("  FAILED: %s %s does not compile: %v\n", name, e.what, iss.Err())
				failures++
				continue
			}
			est, err := env.EstimateCost(ast, &library.CostEstimator{SizeEstimator: boundedSizes{}})
			if err != nil {
				fmt.Printf("  FAILED: %s %s: cost estimate: %v\n", name, e.what, err)
				failures++
				continue
			}
			prog, err := env.Program(ast, cel.CostTracking(&library.CostEstimator{}))
			if err != nil {
				fmt.Printf("  FAILED: %s %s: %v\n", name, e.what, err)
				failures++
				continue
			}
			run := func(op string, old interface{}) uint64 {
				vars := map[string]interface{}{"object": obj, "oldObject": old,
					"request": request(op, resource), "namespaceObject": nil}
				_, det, err := prog.Eval(vars)
				if err != nil {
					fmt.Printf("  FAILED: %s %s on %s: %v\n", name, e.what, op, err)
					failures++
					return 0
				}
				if det == nil || det.ActualCost() == nil {
					return 0
				}
				return *det.ActualCost()
			}
			c, u := run("CREATE", nil), run("UPDATE", obj)
			policyCreate += c
			policyUpdate += u
			rows = append(rows, costRow{name, e.what, est.Max, c, u})
			if est.Max == math.MaxUint64 {
				unbounded++
			} else if est.Max > maxEstimate {
				maxEstimate = est.Max
			}
			for _, x := range []uint64{c, u} {
				if x > maxRuntime {
					maxRuntime = x
				}
				if x > celconfig.PerCallLimit {
					fmt.Printf("  FAILED: %s %s: runtime cost %d above the per-call limit %d\n", name, e.what, x, celconfig.PerCallLimit)
					failures++
				}
			}
		}
		for _, x := range []uint64{policyCreate, policyUpdate} {
			if x > maxPolicy {
				maxPolicy = x
			}
			if x > celconfig.RuntimeCELCostBudget {
				fmt.Printf("  FAILED: %s: runtime cost %d above the per-policy budget %d\n", name, x, celconfig.RuntimeCELCostBudget)
				failures++
			}
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].updat > rows[j].updat })
	fmt.Printf("native cost: %d expressions; largest estimate (lists ≤ 100, strings ≤ 256) %d, %d without a finite estimate; on a Pod of 100 containers x 100 env vars and 100 tolerations (and a Deployment of it): largest runtime cost of one expression %d (per-call limit %d), of one policy %d (budget %d); %d failures\n",
		len(rows), maxEstimate, unbounded, maxRuntime, celconfig.PerCallLimit, maxPolicy, celconfig.RuntimeCELCostBudget, failures)
	for i, r := range rows {
		if i == 5 {
			break
		}
		fmt.Printf("  %s %s: estimate %d, CREATE %d, UPDATE %d\n", r.policy, r.what, r.estimate, r.create, r.updat)
	}
	if failures > 0 {
		return 1
	}
	return 0
}
