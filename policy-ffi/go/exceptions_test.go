package ckspolicy_test

import (
	"bytes"
	"context"
	"testing"

	ckspolicy "github.com/cks-policy/cks-policy/policy-ffi/go"
)

const exceptedDeployment = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"vendor","namespace":"apps",
"annotations":{"cks-policy.example.invalid/exceptions":"image-mutable-tag: vendor image"}},
"spec":{"template":{"spec":{"containers":[{"name":"vendor","image":"nginx:latest"}]}}}}`

// A manifest's exception annotation silences the rule it names: the finding is still reported,
// typed as Suppressed, and does not deny or count (issue 13, item 2).
func TestExceptionAnnotationIsTyped(t *testing.T) {
	p, err := ckspolicy.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r, err := p.Evaluate(context.Background(), "vendor.json", []byte(exceptedDeployment))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Results[0].Allowed || r.Summary.Errors != 0 || r.Summary.Suppressed != 1 {
		t.Fatalf("unexpected report: %s", r.Raw)
	}
	var found bool
	for _, f := range r.Results[0].Findings {
		if f.Rule == "image-mutable-tag" {
			found = true
			if f.Suppressed == nil || f.Suppressed.By != "annotation" || f.Suppressed.Reason != "vendor image" {
				t.Fatalf("unexpected suppression: %+v", f.Suppressed)
			}
		} else if f.Suppressed != nil {
			t.Fatalf("%s should not be suppressed: %+v", f.Rule, f)
		}
	}
	if !found {
		t.Fatalf("the silenced finding was dropped: %s", r.Raw)
	}
}

// In admission the object cannot exempt itself unless settings say exceptions.annotations.
func TestExceptionAnnotationInAdmissionNeedsSettings(t *testing.T) {
	review := []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1",
"operation":"CREATE","userInfo":{"username":"alice"},"namespace":"apps","object":` + exceptedDeployment + `}}`)
	for _, c := range []struct {
		settings string
		allowed  bool
	}{{"", false}, {`{"exceptions":{"annotations":true}}`, true}} {
		p, err := ckspolicy.New([]byte(c.settings))
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.Review(context.Background(), review)
		p.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := []byte(`"allowed":false`)
		if c.allowed {
			want = []byte(`"allowed":true`)
		}
		if !bytes.Contains(out, want) {
			t.Fatalf("settings %q: unexpected response: %s", c.settings, out)
		}
	}
}
