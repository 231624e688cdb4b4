module github.com/cks-policy/cks-policy/policy-ffi/go

go 1.22
