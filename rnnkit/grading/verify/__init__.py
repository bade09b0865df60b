"""The verification pass: the verifier (outside, decides) and the harness (inside the sandbox)."""
