#!/usr/bin/env bash
# Conformance: every service under the thread model.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/conform.sh"
conform_model thread
