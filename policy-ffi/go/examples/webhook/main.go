// Command webhook is a Kubernetes validating and mutating admission webhook backed by
// ckspolicy: POST an AdmissionReview to /validate or /mutate and get the AdmissionReview
// response back.
//
//	webhook -settings settings.yaml -addr :8443 -tls-cert tls.crt -tls-key tls.key
//
// With -capture DIR every request body is also written to DIR (NNNNNN-mutate.json, ...), in
// arrival order: the AdmissionReviews a real API server sends, for tests and golden vectors.
//
// /mutate returns the JSON Patch (patchType JSONPatch); /validate answers the same verdict
// without it, since the API server refuses patches from validating webhooks.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sync/atomic"
	"time"

	ckspolicy "github.com/cks-policy/cks-policy/policy-ffi/go"
)

// maxBody bounds a request body; the policy's own limits.maxBytes applies inside it.
const maxBody = 8 << 20

func main() {
	settingsPath := flag.String("settings", "", "settings file (JSON or YAML); empty for CKS defaults")
	addr := flag.String("addr", ":8443", "listen address")
	cert := flag.String("tls-cert", "", "TLS certificate (the API server requires HTTPS)")
	key := flag.String("tls-key", "", "TLS key")
	capture := flag.String("capture", "", "directory to write every request body to (empty: none)")
	flag.Parse()

	var settings []byte
	if *settingsPath != "" {
		var err error
		if settings, err = os.ReadFile(*settingsPath); err != nil {
			log.Fatal(err)
		}
	}
	policy, err := ckspolicy.New(settings)
	if err != nil {
		log.Fatal(err) // lists every settings problem
	}
	defer policy.Close()

	handler := newHandler(policy)
	if *capture != "" {
		handler = withCapture(handler, *capture)
	}
	srv := &http.Server{Addr: *addr, Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("cks-policy %s webhook listening on %s", ckspolicy.Version(), *addr)
	if *cert != "" {
		err = srv.ListenAndServeTLS(*cert, *key)
	} else {
		err = srv.ListenAndServe()
	}
	if !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// newHandler serves /validate, /mutate and /healthz with one shared policy.
func newHandler(policy *ckspolicy.Policy) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/validate", reviewHandler(policy, false))
	mux.HandleFunc("/mutate", reviewHandler(policy, true))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux
}

func reviewHandler(policy *ckspolicy.Policy, mutating bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST an AdmissionReview", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		out, err := policy.Review(r.Context(), body)
		if err != nil {
			// Not an AdmissionReview at all: there is no uid to answer.
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if !mutating {
			if out, err = withoutPatch(out); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	}
}

// withoutPatch drops patch and patchType from an AdmissionReview response.
func withoutPatch(review []byte) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(review, &doc); err != nil {
		return nil, err
	}
	var resp map[string]json.RawMessage
	if err := json.Unmarshal(doc["response"], &resp); err != nil {
		return nil, err
	}
	if _, ok := resp["patch"]; !ok {
		return review, nil
	}
	delete(resp, "patch")
	delete(resp, "patchType")
	b, err := json.Marshal(resp)
	if err != nil {
		return nil, err
	}
	doc["response"] = b
	return json.Marshal(doc)
}

// withCapture writes every POST body (up to maxBody) to dir as NNNNNN-<last path element>.json,
// numbered in arrival order, before handing the request to next. A file is written under a
// temporary name and renamed, so a reader never sees half of one; a failed write is logged and
// the request still served.
func withCapture(next http.Handler, dir string) http.Handler {
	var seq atomic.Uint64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		name := fmt.Sprintf("%06d-%s.json", seq.Add(1), path.Base(r.URL.Path))
		tmp := filepath.Join(dir, "."+name)
		if err := os.WriteFile(tmp, body, 0o644); err != nil {
			log.Printf("capture: %v", err)
		} else if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			log.Printf("capture: %v", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}
