//! Helpers for the end-to-end tests: the real-engine harness and snapshot inspection.
