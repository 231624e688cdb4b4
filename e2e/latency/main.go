// Command latency measures admission latency through a real API server (issue 19 item 4):
// N dry-run creates of the same Pod in a namespace whose Pods go through the policy webhook
// and in one whose Pods go through a no-op webhook this program serves, interleaved so both
// see the same machine load; and N AdmissionReviews posted straight to the policy webhook.
// It prints p50/p99 per path as JSON lines. Measured, never asserted. Run by e2e/scenarios.py.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"sort"
	"sync/atomic"
	"time"
)

func main() {
	api := flag.String("api", "", "API server URL")
	ca := flag.String("ca", "", "CA certificate (API server and webhooks)")
	cert := flag.String("cert", "", "client certificate for the API server")
	key := flag.String("key", "", "client key")
	noopAddr := flag.String("noop-addr", "", "address for the no-op webhook")
	noopCert := flag.String("noop-cert", "", "no-op webhook serving certificate")
	noopKey := flag.String("noop-key", "", "no-op webhook serving key")
	podFile := flag.String("pod", "", "Pod JSON created (dry run) in each namespace")
	policyNS := flag.String("policy-ns", "", "namespace whose Pods go through the policy webhook")
	noopNS := flag.String("noop-ns", "", "namespace whose Pods go through the no-op webhook")
	webhook := flag.String("webhook", "", "policy webhook /mutate URL, called directly")
	reviewFile := flag.String("review", "", "AdmissionReview posted to -webhook")
	n := flag.Int("n", 200, "measured requests per path")
	flag.Parse()

	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(*ca)
	if err != nil {
		log.Fatal(err)
	}
	if !pool.AppendCertsFromPEM(caPEM) {
		log.Fatalf("%s: no certificate", *ca)
	}
	client, err := tls.LoadX509KeyPair(*cert, *key)
	if err != nil {
		log.Fatal(err)
	}
	httpc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{client}, MinVersion: tls.VersionTLS12},
	}}
	pod, err := os.ReadFile(*podFile)
	if err != nil {
		log.Fatal(err)
	}
	review, err := os.ReadFile(*reviewFile)
	if err != nil {
		log.Fatal(err)
	}

	var noopCalls atomic.Int64
	ln, err := net.Listen("tcp", *noopAddr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noopCalls.Add(1)
		var in struct {
			Request struct {
				UID string `json:"uid"`
			} `json:"request"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
			"response": map[string]any{"uid": in.Request.UID, "allowed": true},
		})
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.ServeTLS(ln, *noopCert, *noopKey) }()
	defer srv.Close()

	create := func(ns string) func() error {
		url := fmt.Sprintf("%s/api/v1/namespaces/%s/pods?dryRun=All", *api, ns)
		return func() error { return post(httpc, url, pod, http.StatusCreated) }
	}
	direct := func() error { return post(httpc, *webhook, review, http.StatusOK) }

	// Warm up: connections, the server's webhook clients, and the configuration informer
	// (until the no-op webhook has been called, its configuration is not in effect).
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < 20 || noopCalls.Load() == 0; i++ {
		if time.Now().After(deadline) {
			log.Fatal("the no-op webhook was never called")
		}
		for _, f := range []func() error{create(*policyNS), create(*noopNS), direct} {
			if err := f(); err != nil {
				log.Fatal(err)
			}
		}
	}
	paths := []struct {
		name string
		call func() error
		d    []time.Duration
	}{
		{name: "apiserver+policy-webhook", call: create(*policyNS)},
		{name: "apiserver+noop-webhook", call: create(*noopNS)},
		{name: "policy-webhook-direct", call: direct},
	}
	before := noopCalls.Load()
	for i := 0; i < *n; i++ {
		for j := range paths {
			t := time.Now()
			if err := paths[j].call(); err != nil {
				log.Fatal(err)
			}
			paths[j].d = append(paths[j].d, time.Since(t))
		}
	}
	if got := noopCalls.Load() - before; got < int64(*n) {
		log.Fatalf("the no-op webhook got %d of %d measured requests", got, *n)
	}
	for _, p := range paths {
		sort.Slice(p.d, func(a, b int) bool { return p.d[a] < p.d[b] })
		out, _ := json.Marshal(map[string]any{
			"path": p.name, "n": len(p.d),
			"p50_ms": ms(p.d[len(p.d)/2]), "p99_ms": ms(p.d[int(math.Ceil(float64(len(p.d))*0.99))-1]),
		})
		fmt.Println(string(out))
	}
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/10) / 100 }

func post(c *http.Client, url string, body []byte, want int) error {
	res, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		return fmt.Errorf("POST %s: %d %s", url, res.StatusCode, b)
	}
	return nil
}
