package ckspolicy_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	ckspolicy "github.com/cks-policy/cks-policy/policy-ffi/go"
)

// benchInputs finds shared/bench-inputs (beside the repository, or CKS_BENCH_INPUTS).
func benchInputs(b *testing.B) []string {
	dir := os.Getenv("CKS_BENCH_INPUTS")
	if dir == "" {
		dir = filepath.Join(repoRoot(b), "..", "shared", "bench-inputs")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		b.Skip("no bench inputs at " + dir)
	}
	return files
}

func benchCall(b *testing.B, call func(p *ckspolicy.Policy, input []byte) error) {
	p, err := ckspolicy.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	for _, f := range benchInputs(b) {
		input, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Base(f), func(b *testing.B) {
			b.SetBytes(int64(len(input)))
			for i := 0; i < b.N; i++ {
				if err := call(p, input); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The native figures come from `cargo run --example bench` on the same inputs in the same run
// (policy-ffi/bench.sh); the difference is the Go binding's per-call overhead.
func BenchmarkReview(b *testing.B) {
	benchCall(b, func(p *ckspolicy.Policy, input []byte) error {
		_, err := p.Review(context.Background(), input)
		return err
	})
}

func BenchmarkEvaluateJSON(b *testing.B) {
	benchCall(b, func(p *ckspolicy.Policy, input []byte) error {
		_, err := p.EvaluateJSON(context.Background(), "input.json", input)
		return err
	})
}

func BenchmarkEvaluateTyped(b *testing.B) {
	benchCall(b, func(p *ckspolicy.Policy, input []byte) error {
		_, err := p.Evaluate(context.Background(), "input.json", input)
		return err
	})
}

// BenchmarkEvaluateEmpty measures the binding's per-call overhead: the core does almost no
// work on an empty input (compare with `native evaluate (empty)`).
func BenchmarkEvaluateEmpty(b *testing.B) {
	p, err := ckspolicy.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		if _, err := p.EvaluateJSON(ctx, "input.json", nil); err != nil {
			b.Fatal(err)
		}
	}
}
