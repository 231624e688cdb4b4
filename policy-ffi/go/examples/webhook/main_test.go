package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	ckspolicy "github.com/cks-policy/cks-policy/policy-ffi/go"
)

func fixturesDir(t *testing.T) string {
	dir, _ := os.Getwd()
	for {
		d := filepath.Join(dir, "fixtures", "cases")
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
		if parent := filepath.Dir(dir); parent != dir {
			dir = parent
			continue
		}
		t.Fatal("fixtures/cases not found")
	}
}

type reviewResponse struct {
	Kind     string `json:"kind"`
	Response struct {
		UID       string   `json:"uid"`
		Allowed   bool     `json:"allowed"`
		Warnings  []string `json:"warnings"`
		PatchType *string  `json:"patchType"`
		Patch     *string  `json:"patch"`
	} `json:"response"`
}

// Every fixture AdmissionReview goes through the handler over HTTP: /mutate answers exactly
// what Review answers, /validate the same without the patch, and allowed matches expected.json.
func TestHandlerOnFixtureAdmissionReviews(t *testing.T) {
	root := fixturesDir(t)
	inputs, _ := filepath.Glob(filepath.Join(root, "*", "input.json"))
	ran := 0
	for _, in := range inputs {
		body, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		var head struct {
			Kind string `json:"kind"`
		}
		if json.Unmarshal(body, &head) != nil || head.Kind != "AdmissionReview" {
			continue
		}
		dir := filepath.Dir(in)
		settings, _ := os.ReadFile(filepath.Join(dir, "settings.json"))
		if _, err := os.Stat(filepath.Join(dir, "context.json")); err == nil {
			continue // the handler has no cluster context; those cases need one
		}
		var expected struct {
			Results []struct {
				Allowed bool `json:"allowed"`
			} `json:"results"`
		}
		if b, err := os.ReadFile(filepath.Join(dir, "expected.json")); err != nil || json.Unmarshal(b, &expected) != nil || len(expected.Results) != 1 {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			policy, err := ckspolicy.New(settings)
			if err != nil {
				t.Fatal(err)
			}
			defer policy.Close()
			srv := httptest.NewServer(newHandler(policy))
			defer srv.Close()
			want, err := policy.Review(context.Background(), body)
			if err != nil {
				t.Fatal(err)
			}
			for _, path := range []string{"/mutate", "/validate"} {
				res, err := http.Post(srv.URL+path, "application/json", bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				_, _ = buf.ReadFrom(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					t.Fatalf("%s: status %d: %s", path, res.StatusCode, buf.Bytes())
				}
				var got reviewResponse
				if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
					t.Fatal(err)
				}
				if got.Kind != "AdmissionReview" || got.Response.UID == "" {
					t.Fatalf("%s: not a review response: %s", path, buf.Bytes())
				}
				if got.Response.Allowed != expected.Results[0].Allowed {
					t.Fatalf("%s: allowed=%v, expected.json says %v", path, got.Response.Allowed, expected.Results[0].Allowed)
				}
				switch path {
				case "/mutate":
					if !bytes.Equal(buf.Bytes(), want) {
						t.Fatalf("/mutate differs from Review:\n got %s\nwant %s", buf.Bytes(), want)
					}
				case "/validate":
					if got.Response.Patch != nil || got.Response.PatchType != nil {
						t.Fatalf("/validate returned a patch: %s", buf.Bytes())
					}
				}
			}
		})
		ran++
	}
	if ran == 0 {
		t.Fatal("no fixture AdmissionReview exercised the handler")
	}
}

func TestHandlerRejectsJunk(t *testing.T) {
	policy, err := ckspolicy.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer policy.Close()
	srv := httptest.NewServer(newHandler(policy))
	defer srv.Close()
	res, err := http.Post(srv.URL+"/validate", "application/json", bytes.NewReader([]byte("[1]")))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d", res.StatusCode)
	}
	res, err = http.Get(srv.URL + "/mutate")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("status %d", res.StatusCode)
	}
}

// -capture writes each POST body, byte for byte and numbered in arrival order, and the
// handler still answers it.
func TestCaptureWritesEveryRequest(t *testing.T) {
	policy, err := ckspolicy.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer policy.Close()
	dir := t.TempDir()
	srv := httptest.NewServer(withCapture(newHandler(policy), dir))
	defer srv.Close()
	bodies := map[string][]byte{
		"000001-mutate.json":   []byte("[1]"),
		"000002-validate.json": []byte(`{"kind":"AdmissionReview"}`),
	}
	for _, name := range []string{"000001-mutate.json", "000002-validate.json"} {
		p := "/mutate"
		if name == "000002-validate.json" {
			p = "/validate"
		}
		res, err := http.Post(srv.URL+p, "application/json", bytes.NewReader(bodies[name]))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: status %d, want the handler's 400 for a non-review", p, res.StatusCode)
		}
	}
	res, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(bodies) {
		t.Fatalf("captured %d files, want %d (GET is not captured)", len(entries), len(bodies))
	}
	for name, want := range bodies {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s = %q, want %q", name, got, want)
		}
	}
}
