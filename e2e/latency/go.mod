module cks-policy.e2e/latency

go 1.22
