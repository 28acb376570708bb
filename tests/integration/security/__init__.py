"""Adversarial tests: a hostile colleague or local process against the running product."""
