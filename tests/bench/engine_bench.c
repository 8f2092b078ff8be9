/*
 * engine_bench - CPU time of one decision in the rule engine alone
 *
 * policy_eval() for a RCPT with delay_checks = yes (every table, about 60
 * candidate keys: an IPv4 client with a name, HELO, sender, recipient and
 * pair), on the in-memory store (every key a miss): what the milter
 * spends per recipient besides libmilter and Redis.  The senders and recipients
 * cycle like loadgen's (20 and 2,000).  Not built by make; BENCHMARKS.md
 * gives the command:
 *
 *   make all && cc -O2 -g -Ipolicy -o engine_bench \
 *       tests/bench/engine_bench.c build/cc-std/libpolicy.a -pthread
 *   ./engine_bench [decisions]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "policy.h"
#include "store_mem.h"

int
main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000, i;
	struct store *st = store_mem_new();
	struct policy_conf pc = {.prefix = "redmilter:",
	                         .delims = "+",
	                         .delay_checks = 1,
	                         .grey_bits4 = 24,
	                         .grey_bits6 = 64};
	char snd[64], rcpt[64], err[256];
	struct timespec a, b;

	if (n <= 0) {
		fprintf(stderr, "usage: engine_bench [decisions]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		struct request r = {STAGE_RCPT,   "h5.clients.bench.example",
		                    "198.18.0.6", "h5.clients.bench.example",
		                    NULL,         snd,
		                    rcpt};
		struct verdict v;

		snprintf(snd, sizeof snd, "<%lds@s0.bench.example>", i % 20);
		snprintf(rcpt, sizeof rcpt, "<%ldr@d0.bench.example>",
		         i % 2000);
		if (policy_eval(&pc, &r, st, &v, err, sizeof err) != 0) {
			fprintf(stderr, "engine_bench: %s\n", err);
			return 1;
		}
		verdict_free(&v);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.2f us/decision over %ld decisions\n",
	       ((double)(b.tv_sec - a.tv_sec) * 1e9 +
	        (double)(b.tv_nsec - a.tv_nsec)) /
	           1e3 / (double)n,
	       n);
	st->close(st);
	return 0;
}
