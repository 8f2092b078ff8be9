/*
 * loadgen - what the files of the load generator share (tests/bench).
 *
 * loadgen.c         main, the options, the run loop (one thread per
 *                   connection slot), the checking of replies, the report;
 *                   the helpers lg_*
 * loadgen_milter.c  the milter protocol client, milter_*: the target,
 *                   packets, OPTNEG, CONNECT, HELO, a transaction, replies
 * loadgen_rules.c   the rule set and the addresses, rules_*: --write-rules,
 *                   --write-postfix, --write-postfwd, the address pools and
 *                   the reply each recipient must get
 * loadgen_edit.c    --edit K: the time from an edit in Redis to the first
 *                   decision that obeys it, edit_run()
 *
 * Internal to loadgen, which is one program: nothing here is installed.
 * lg_opt is set from the command line before any thread starts and is
 * read-only afterwards; a struct worker belongs to its thread.  lg_die()
 * reports a usage or set-up error and exits with status 2.
 */
#ifndef LOADGEN_H
#define LOADGEN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_PACKET (1024 * 1024)
#define MAX_REPLIES 64 /* distinct (command, reply) pairs tracked */
#define MAX_ALLOW 16
#define REPLY_MAX 1024
#define ADDR_MAX 256

/* The commands we time and count replies of. */
enum cmd {
	CMD_OPTNEG,
	CMD_CONNECT,
	CMD_HELO,
	CMD_MAIL,
	CMD_RCPT,
	CMD_EOM,
	CMD_TXN,
	CMD_COUNT
};

/* Latency histogram: log-linear, 32 steps per power of two (~3%). */
#define H_SUB 32
#define H_SUB_BITS 5
#define H_BUCKETS (64 + 40 * H_SUB)

struct hist {
	uint32_t b[H_BUCKETS];
	uint64_t n;
	uint64_t max;
};

struct reply_count {
	enum cmd cmd;
	char text[128];
	uint64_t n;
};

/* What one worker saw. */
struct stats {
	struct hist h[CMD_COUNT];
	struct reply_count rc[MAX_REPLIES];
	size_t nrc;
	uint64_t txns, rcpts, wrong, allowed, io_errors, conns, other;
};

/* The run's settings. */
struct lg_options {
	const char *socket;
	long conc, txns, rcpts;
	int new_conn;
	double duration, timeout;
	long nrules, domains;
	double rcpt_hit, sender_hit;
	long pool_rcpt, pool_sender, pool_client;
	int expect_continue;
	int expect_naive; /* --expect naive: tests/bench/naivemilter's replies
	                   */
	const char *allow[MAX_ALLOW];
	size_t nallow;
	int allow_errors;
	int quiet;
	int variants;
	unsigned long seed;
	int sweep;
	long edits;          /* --edit K: edit to effect, not load */
	const char *redis;   /* --redis 127.0.0.1:PORT[/DB] */
	const char *prefix;  /* --prefix (redmilter:) */
	double edit_timeout; /* --edit-timeout: an edit's bound, s */
};

extern struct lg_options lg_opt;

/* One address to send and the reply its rule makes ("continue": none). */
struct pick {
	char addr[ADDR_MAX];
	const char *reply; /* NULL: no rule */
	const char *naive; /* what naivemilter answers; NULL: continue */
};

/* One connection to the milter, with its buffers. */
struct conn {
	int fd;
	unsigned long pflags; /* what the milter asked for */
	unsigned char *rbuf;
	size_t rlen, roff;
	unsigned char wbuf[4096];
	size_t wlen;
	unsigned char *pkt; /* the last packet read */
	size_t pktlen;
};

/* One connection slot and its thread. */
struct worker {
	pthread_t tid;
	long id;
	uint64_t rng;
	struct stats st;
	struct conn c;
	int open;    /* OPTNEG, CONNECT and HELO done */
	long client; /* the client this connection claims to be */
	char qid[32];
};

/* loadgen.c */
void lg_die(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
uint64_t lg_now_ns(void);
uint64_t lg_mix(uint64_t);
uint64_t lg_rng(uint64_t *);
void lg_hist_add(struct hist *, uint64_t);
void lg_judge(struct worker *, enum cmd, const char *, const char *,
              const char *);

/* loadgen_milter.c */
void milter_resolve_target(const char *);
void milter_conn_close(struct conn *);
int milter_session_open(struct worker *);
void milter_session_close(struct worker *);
int milter_transaction(struct worker *, struct pick *);
int milter_probe(struct worker *, const char *, const char *, char *, size_t);

/* loadgen_edit.c */
int edit_run(void);

/* loadgen_rules.c */
void rules_write(const char *);
void rules_write_postfix(const char *);
void rules_write_postfwd(const char *);
void rules_choose(struct worker *, struct pick *, struct pick *);
const char *rules_expected(const struct pick *, const struct pick *);

#endif
