#!/usr/bin/env bash
# Conformance: every service under the hybrid model, once per event backend.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/conform.sh"
conform_model hybrid
