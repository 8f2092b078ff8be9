#!/bin/bash
# counter.sh - the limit counters (policy/counter.c) against a real
# redis-server: runs the Check program built from counter.c, whose test
# cases are reported as TAP lines.
# shellcheck source-path=SCRIPTDIR source=lib/redis.sh
. "$(dirname "$0")/lib/redis.sh"

run_check_program counter
