#!/bin/bash
# store_redis.sh - the Redis store (policy/store_redis.c) against a real
# redis-server: runs the Check program built from store_redis.c, whose test
# cases are reported as TAP lines.
# shellcheck source-path=SCRIPTDIR source=lib/redis.sh
. "$(dirname "$0")/lib/redis.sh"

run_check_program store_redis
