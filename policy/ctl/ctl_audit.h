/*
 * ctl_audit - the audit trail of redmilterctl's changes (ctl_audit.c):
 * the stream <prefix>_audit, written in the same script as the change,
 * and "history", which prints it (redmilterctl(8), AUDIT TRAIL).
 *
 * ctl_audit_apply() carries out n writes (struct ctl_audit_op) with a Lua
 * script that, for each, reads the old value, writes (SET, with EX for a
 * TTL, or DEL) and appends the entry with XADD MAXLEN ~ CTL_AUDIT_MAX: a
 * change never lands without its entry, nor an entry without its change.
 * One run of the script takes 1,000 writes at most, and all the runs go
 * in one MULTI/EXEC (store_eval_all()): atomic, and no run long enough
 * for Redis to answer other clients BUSY.  It returns CTL_OK with
 * *changed (the writes that changed something and have an entry), or
 * CTL_STORE with err set (nothing was written, or, for a connection lost
 * after EXEC was sent, the outcome is unknown).
 * A "del" of no key changes nothing and has no entry; with
 * CTL_AUDIT_SKIP_SAME a "set" of the value and the expiry the key already
 * had neither (import); a "reset" always has one.
 *
 * ctl_audit_take_note() takes "-m TEXT" at argv[at] (as take_ttl() does
 * -t) into c->note, borrowed from argv; ctl_audit_history() is the
 * command.  The rest is pure: ctl_audit_note_check() says whether a note
 * may be kept (at most CTL_AUDIT_NOTE_MAX bytes, no control characters);
 * ctl_audit_user() writes who runs us (SUDO_USER, else getuid()'s name,
 * else the number) into buf; ctl_audit_quote() writes s escaped (\\, \",
 * \t, \n, \r, \xHH for other control bytes and DEL; bare: a space as \x20
 * too, and no quotes around it), malloc'd; ctl_audit_prev_id() writes the
 * stream ID just before id (-1: none, or id is no ID); ctl_audit_line()
 * one entry as history prints it, malloc'd; ctl_audit_match() whether an
 * entry is of table (NULL: any) and key (NULL: any).  Not thread-safe:
 * the store is redmilterctl's one.
 */
#ifndef CTL_AUDIT_H
#define CTL_AUDIT_H

#include <stddef.h>

#include "ctl.h"
#include "schema.h"
#include "store.h"

#define CTL_AUDIT_MAX SCHEMA_AUDIT_MAX
#define CTL_AUDIT_NOTE_MAX 1000
#define CTL_AUDIT_ID_SIZE 48 /* "18446744073709551615-18446744073709551615" */
#define CTL_AUDIT_USER_SIZE 256
#define CTL_AUDIT_SKIP_SAME 1

/* One write of ctl_audit_apply() and what its entry says of it. */
struct ctl_audit_op {
	const char *key;   /* the Redis key */
	const char *mode;  /* "set", "del" or "reset" (a del always noted) */
	const char *val;   /* set: the new value */
	long long ttl;     /* set: seconds, 0: none */
	const char *table; /* the entry's table and key */
	const char *rkey;
};

int ctl_audit_apply(struct ctl *, const char *cmd, const struct ctl_audit_op *,
                    size_t n, int flags, size_t *changed, char *err,
                    size_t errlen);
int ctl_audit_take_note(struct ctl *, int *argc, char **argv, int at);
int ctl_audit_history(struct ctl *, int argc, char **argv);

int ctl_audit_note_check(const char *note, char *err, size_t errlen);
void ctl_audit_user(char *buf, size_t len);
char *ctl_audit_quote(const char *s, size_t len, int bare);
int ctl_audit_prev_id(const char *id, char *out, size_t len);
char *ctl_audit_line(const struct store_entry *);
int ctl_audit_match(const struct store_entry *, const char *table,
                    const char *key);

#endif
