/*
 * ctl_audit - the audit trail of redmilterctl's changes and "history".
 * See ctl_audit.h; the format is redmilterctl(8)'s, AUDIT TRAIL.
 *
 * Public: ctl_audit_apply(), ctl_audit_take_note(), ctl_audit_history(),
 * ctl_audit_note_check(), ctl_audit_user(), ctl_audit_quote(),
 * ctl_audit_prev_id(), ctl_audit_line(), ctl_audit_match().
 *
 * The script's KEYS: the stream, then the key of each write; its ARGV:
 * the user, the command, the note ("": none), "1" to skip a set that
 * changes nothing, then five per write: table, key, mode, value, TTL.
 * Redis's clock makes the entry's ID, which is its time.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_audit.h"
#include "ctl_hits.h"
#include "rule.h"
#include "schema.h"
#include "table.h"
#include "str.h"
#include "xmalloc.h"

#define HISTORY_DEFAULT 100LL /* entries history prints without -n */
#define HISTORY_MAX 100000000LL
#define HISTORY_BATCH 1000 /* entries of one XREVRANGE */
#define QUOTE_MAX 4096     /* bytes of a value history shows */
#define RUN_OPS 1000       /* writes of one run of the script */

static const char script_body[] =
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    "local user, cmd, note = ARGV[1], ARGV[2], ARGV[3]\n"
    "local skip = ARGV[4] == '1'\n"
    "local st = redis.call('TYPE', KEYS[1]).ok\n"
    "if st ~= 'stream' and st ~= 'none' then\n"
    "  return redis.error_reply(KEYS[1] .. ' holds a ' .. st ..\n"
    "                           ', not the audit stream')\n"
    "end\n"
    "local changed = 0\n"
    "for i = 1, (#ARGV - 4) / 5 do\n"
    "  local k, b = KEYS[i + 1], 4 + (i - 1) * 5\n"
    "  local mode, val, ttl = ARGV[b + 3], ARGV[b + 4], ARGV[b + 5]\n"
    "  local old = redis.pcall('GET', k)\n"
    "  if type(old) == 'table' then old = false end\n"
    "  local noted = true\n"
    "  if mode == 'set' then\n"
    "    if skip and old == val and ttl == '0' and\n"
    "        redis.call('PTTL', k) == -1 then\n"
    "      noted = false\n"
    "    elseif ttl ~= '0' then\n"
    "      redis.call('SET', k, val, 'EX', ttl)\n"
    "    else\n"
    "      redis.call('SET', k, val)\n"
    "    end\n"
    "  else\n"
    "    noted = redis.call('DEL', k) > 0 or mode == 'reset'\n"
    "    noted = noted and mode ~= 'purge'\n"
    "  end\n"
    "  if noted then\n"
    "    local e = {'user', user, 'cmd', cmd, 'table', ARGV[b + 1],\n"
    "               'key', ARGV[b + 2]}\n"
    "    if old then e[#e + 1] = 'old'; e[#e + 1] = old end\n"
    "    if mode == 'set' then\n"
    "      e[#e + 1] = 'new'; e[#e + 1] = val\n"
    "      e[#e + 1] = 'ttl'; e[#e + 1] = ttl\n"
    "    end\n"
    "    if note ~= '' then e[#e + 1] = 'note'; e[#e + 1] = note end\n"
    "    redis.call('XADD', KEYS[1], 'MAXLEN', '~', '" CTL_AUDIT_MAX "',\n"
    "               '*', unpack(e))\n"
    "    changed = changed + 1\n"
    "  end\n"
    "end\n"
    "return {changed}\n";

static struct store_script_text script = STORE_SCRIPT_TEXT(script_body);

/* ctl_audit_user - who runs us: SUDO_USER, getuid()'s name or number */
void
ctl_audit_user(char *buf, size_t len)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd pw, *res = NULL;
	char pwbuf[4096];
	uid_t uid = getuid();

	if (sudo != NULL && *sudo != '\0') {
		(void)str_copy(buf, sudo, len);
		return;
	}
	if (getpwuid_r(uid, &pw, pwbuf, sizeof pwbuf, &res) == 0 &&
	    res != NULL && res->pw_name != NULL && *res->pw_name != '\0') {
		(void)str_copy(buf, res->pw_name, len);
		return;
	}
	(void)snprintf(buf, len, "%lu", (unsigned long)uid);
}

/* op_args - the five ARGV of one write into args, its TTL text into ttl */
static void
op_args(const struct ctl_audit_op *op, const char **args, char *ttl,
        size_t ttllen)
{
	(void)snprintf(ttl, ttllen, "%lld", op->ttl > 0 ? op->ttl : 0);
	args[0] = op->table;
	args[1] = op->rkey;
	args[2] = op->mode;
	args[3] = op->val != NULL ? op->val : "";
	args[4] = ttl;
}

/*
 * fill_run - run r of ctl_audit_apply(): the stream and its writes' keys
 * from keys[first + r], the four head ARGV then five per write from
 * args[5 * first + 4 * r] (first: its first write's index)
 */
static void
fill_run(struct store_eval_run *run, const char *const *head,
         const struct ctl_audit_op *ops, size_t n, size_t r, const char **keys,
         const char **args, char (*ttl)[24])
{
	size_t first = r * RUN_OPS, left = n - first, m, j;
	const char **k = keys + first + r, **a = args + 5 * first + 4 * r;

	m = left < RUN_OPS ? left : RUN_OPS;
	k[0] = keys[0];
	for (j = 0; j < 4; j++)
		a[j] = head[j];
	/* cppcheck-suppress knownConditionTrueFalse ; m >= 1 for r < nruns */
	for (j = 0; j < m; j++) {
		k[1 + j] = ops[first + j].key;
		op_args(&ops[first + j], a + 4 + 5 * j, ttl[first + j],
		        sizeof ttl[first + j]);
	}
	run->keys = k;
	run->nkeys = 1 + m;
	run->args = a;
	run->nargs = 4 + 5 * m;
}

/*
 * ctl_audit_apply - the writes and their entries: one run of the script
 * for every RUN_OPS of them, all the runs in one transaction, so that no
 * single run keeps Redis busy for long (store_eval_all())
 */
int
ctl_audit_apply(struct ctl *c, const char *cmd, const struct ctl_audit_op *ops,
                size_t n, int flags, size_t *changed, char *err, size_t errlen)
{
	struct store_script sc = {script_body, store_script_sha(&script), 0};
	size_t nruns = (n + RUN_OPS - 1) / RUN_OPS, r;
	char user[CTL_AUDIT_USER_SIZE], (*ttl)[24];
	const char *head[4];
	struct store_eval_run *runs;
	const char **keys, **args;
	long long *out;
	enum store_status rc;

	*changed = 0;
	if (n == 0)
		return CTL_OK;
	ctl_audit_user(user, sizeof user);
	keys = xcalloc(n + nruns, sizeof *keys);
	args = xcalloc(5 * n + 4 * nruns, sizeof *args);
	ttl = xcalloc(n, sizeof *ttl);
	runs = xcalloc(nruns, sizeof *runs);
	out = xcalloc(nruns, sizeof *out);
	keys[0] = schema_internal_key(c->conf.prefix, SCHEMA_AUDIT);
	head[0] = user;
	head[1] = cmd;
	head[2] = c->note != NULL ? c->note : "";
	head[3] = flags & CTL_AUDIT_SKIP_SAME ? "1" : "0";
	for (r = 0; r < nruns; r++)
		fill_run(&runs[r], head, ops, n, r, keys, args, ttl);
	rc = store_eval_all(c->store, &sc, runs, nruns, out, err, errlen);
	for (r = 0; rc == STORE_OK && r < nruns; r++)
		*changed += out[r] > 0 ? (size_t)out[r] : 0;
	free((char *)keys[0]);
	free(keys);
	free(args);
	free(ttl);
	free(runs);
	free(out);
	return rc == STORE_OK ? CTL_OK : CTL_STORE;
}

/* ctl_audit_note_check - whether a -m note may be kept; 0, or -1 and why */
int
ctl_audit_note_check(const char *note, char *err, size_t errlen)
{
	size_t len = strlen(note), i;

	if (len > CTL_AUDIT_NOTE_MAX) {
		(void)snprintf(err, errlen, "-m: note longer than %d bytes",
		               CTL_AUDIT_NOTE_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)note[i];

		if (ch < 0x20 || ch == 0x7f) {
			(void)snprintf(err, errlen,
			               "-m: note with a control character");
			return -1;
		}
	}
	return 0;
}

/* ctl_audit_take_note - "-m TEXT" at argv[at] into c->note, removed */
int
ctl_audit_take_note(struct ctl *c, int *argc, char **argv, int at)
{
	char err[128];

	if (at < 0 || at + 1 >= *argc || strcmp(argv[at], "-m") != 0)
		return 0;
	if (ctl_audit_note_check(argv[at + 1], err, sizeof err) != 0) {
		ctl_warn("%s", err);
		return -1;
	}
	c->note = argv[at + 1];
	memmove(argv + at, argv + at + 2,
	        (size_t)(*argc - at - 2) * sizeof *argv);
	*argc -= 2;
	return 0;
}

/* quote_byte - one byte of ctl_audit_quote() into out (room for 4) */
static size_t
quote_byte(unsigned char ch, int bare, char *out)
{
	static const char hex[] = "0123456789abcdef";

	if (ch == '\\' || ch == '"') {
		out[0] = '\\';
		out[1] = (char)ch;
		return 2;
	}
	if (ch == '\t' || ch == '\n' || ch == '\r') {
		out[0] = '\\';
		out[1] = ch == '\t' ? 't' : ch == '\n' ? 'n' : 'r';
		return 2;
	}
	if (ch < 0x20 || ch == 0x7f || (bare && ch == ' ')) {
		out[0] = '\\';
		out[1] = 'x';
		out[2] = hex[ch >> 4];
		out[3] = hex[ch & 0xf];
		return 4;
	}
	out[0] = (char)ch;
	return 1;
}

/* ctl_audit_quote - s escaped, in quotes unless bare; malloc'd */
char *
ctl_audit_quote(const char *s, size_t len, int bare)
{
	char *q = xmalloc(len * 4 + 3);
	size_t n = 0, i;

	if (!bare)
		q[n++] = '"';
	for (i = 0; i < len; i++)
		n += quote_byte((unsigned char)s[i], bare, q + n);
	if (!bare)
		q[n++] = '"';
	q[n] = '\0';
	return q;
}

/* id_part - a decimal of an ID, to *end; -1 for none or too big */
static int
id_part(const char *s, char **end, unsigned long long *v)
{
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, end, 10);
	return errno == 0 ? 0 : -1;
}

/* ctl_audit_prev_id - the stream ID just before id into out; 0, or -1 */
int
ctl_audit_prev_id(const char *id, char *out, size_t len)
{
	unsigned long long ms, seq;
	char *end;
	int n;

	if (id_part(id, &end, &ms) != 0 || *end != '-' ||
	    id_part(end + 1, &end, &seq) != 0 || *end != '\0')
		return -1;
	if (seq > 0)
		n = snprintf(out, len, "%llu-%llu", ms, seq - 1);
	else if (ms > 0)
		n = snprintf(out, len, "%llu-%llu", ms - 1, ~0ULL);
	else
		return -1;
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* field - the value of an entry's field, or NULL (*len its length) */
static const char *
field(const struct store_entry *e, const char *name, size_t *len)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->fv[2 * i].val, name) == 0) {
			*len = e->fv[2 * i + 1].len;
			return e->fv[2 * i + 1].val;
		}
	*len = 0;
	return NULL;
}

/* when - an ID's milliseconds as an ISO 8601 UTC time into buf */
static const char *
when(const char *id, char *buf, size_t len)
{
	unsigned long long ms;
	char *end;

	if (id_part(id, &end, &ms) != 0)
		return "?";
	return ctl_hits_when((long long)(ms / 1000), buf, len);
}

/*
 * put - s (len bytes) escaped onto the line *l (*n long); a value cut at
 * QUOTE_MAX bytes is followed by "..."
 */
static void
put(char **l, size_t *n, const char *pre, const char *s, size_t len, int bare)
{
	char *q = ctl_audit_quote(s, len > QUOTE_MAX ? QUOTE_MAX : len, bare);
	const char *cut = len > QUOTE_MAX ? "..." : "";
	size_t pl = strlen(pre), ql = strlen(q), cl = strlen(cut);

	*l = xrealloc(*l, *n + pl + ql + cl + 1);
	memcpy(*l + *n, pre, pl);
	memcpy(*l + *n + pl, q, ql);
	memcpy(*l + *n + pl + ql, cut, cl + 1);
	*n += pl + ql + cl;
	free(q);
}

/*
 * ctl_audit_line - "TIME USER CMD TABLE KEY [old=".."] [new=".."] [ttl=N]
 * [note=".."]"; the first five bare ("-" when absent), the rest quoted
 */
char *
ctl_audit_line(const struct store_entry *e)
{
	static const char *const bare[] = {"user", "cmd", "table", "key"};
	static const char *const quoted[] = {"old", "new", "ttl", "note"};
	char t[CTL_HITS_WHEN_SIZE], pre[16];
	const char *v;
	char *l = xstrdup(when(e->id, t, sizeof t));
	size_t n = strlen(l), len, i;

	for (i = 0; i < sizeof bare / sizeof bare[0]; i++) {
		v = field(e, bare[i], &len);
		put(&l, &n, " ", v != NULL && len > 0 ? v : "-",
		    v != NULL && len > 0 ? len : 1, 1);
	}
	for (i = 0; i < sizeof quoted / sizeof quoted[0]; i++) {
		if ((v = field(e, quoted[i], &len)) == NULL)
			continue;
		(void)snprintf(pre, sizeof pre, " %s=", quoted[i]);
		put(&l, &n, pre, v, len, strcmp(quoted[i], "ttl") == 0);
	}
	return l;
}

/* ctl_audit_match - is the entry of table and key (NULL: any) */
int
ctl_audit_match(const struct store_entry *e, const char *table, const char *key)
{
	const char *v;
	size_t len;

	if (table != NULL &&
	    ((v = field(e, "table", &len)) == NULL || strcmp(v, table) != 0))
		return 0;
	if (key != NULL &&
	    ((v = field(e, "key", &len)) == NULL || strcmp(v, key) != 0))
		return 0;
	return 1;
}

/*
 * history_args - [-n N] [TABLE [KEY]]: the table's name and the key,
 * folded as get folds it (greylist's key as given); CTL_OK or a warning
 */
static int
history_args(int argc, char **argv, long long *max, const char **table,
             char *key, size_t keylen, int *haskey)
{
	char err[256];
	int t;

	if (argc >= 2 && strcmp(argv[0], "-n") == 0) {
		if (ctl_hits_number(argv[1], 1, HISTORY_MAX, max) != 0) {
			ctl_warn("history: -n needs a number from 1, not '%s'",
			         argv[1]);
			return CTL_INVALID;
		}
		argc -= 2;
		argv += 2;
	}
	if (argc > 2 || (argc > 0 && strcmp(argv[0], "-n") == 0)) {
		ctl_warn("usage: history [-n N] [TABLE [KEY]]");
		return CTL_INVALID;
	}
	*table = argc > 0 ? argv[0] : NULL;
	*haskey = argc > 1;
	if (argc == 0)
		return CTL_OK;
	if ((t = table_from_name(argv[0])) < 0) {
		if (strcmp(argv[0], "greylist") != 0) {
			ctl_warn("unknown table '%s'", argv[0]);
			return CTL_INVALID;
		}
		if (argc > 1 && str_copy(key, argv[1], keylen) >= keylen) {
			ctl_warn("history: key too long");
			return CTL_INVALID;
		}
	} else if (argc > 1 && rule_key_check((enum table)t, argv[1], key,
	                                      keylen, err, sizeof err) != 0) {
		ctl_warn("%s %s: %s", argv[0], argv[1], err);
		return CTL_INVALID;
	}
	return CTL_OK;
}

/* print_batch - the matching entries of a batch, at most *left of them */
static void
print_batch(const struct store_entry *e, size_t n, const char *table,
            const char *key, long long *left)
{
	size_t i = 0;
	char *l;

	while (i<n && * left> 0) {
		if (ctl_audit_match(&e[i], table, key)) {
			l = ctl_audit_line(&e[i]);
			printf("%s\n", l);
			free(l);
			(*left)--;
		}
		i++;
	}
}

/* walk - read the stream newest first, printing up to max matches */
static int
walk(struct ctl *c, const char *table, const char *key, long long max)
{
	char *stream = schema_internal_key(c->conf.prefix, SCHEMA_AUDIT);
	char end[CTL_AUDIT_ID_SIZE] = "+", err[512];
	struct store_entry *e;
	size_t n;
	int rc = CTL_OK;

	/* Bounded: every batch moves end down, and the stream ends. */
	while (max > 0) {
		if (store_xrevrange(c->store, stream, end, HISTORY_BATCH, &e,
		                    &n, err, sizeof err) != STORE_OK) {
			ctl_warn("%s", err);
			rc = CTL_STORE;
			break;
		}
		print_batch(e, n, table, key, &max);
		if (n < HISTORY_BATCH ||
		    ctl_audit_prev_id(e[n - 1].id, end, sizeof end) != 0)
			max = 0;
		store_entries_free(e, n);
	}
	free(stream);
	return rc;
}

/* ctl_audit_history - "history [-n N] [TABLE [KEY]]", newest first */
int
ctl_audit_history(struct ctl *c, int argc, char **argv)
{
	char key[RULE_KEY_MAX + 1];
	long long max = HISTORY_DEFAULT;
	const char *table;
	int haskey, rc;

	rc = history_args(argc, argv, &max, &table, key, sizeof key, &haskey);
	if (rc != CTL_OK)
		return rc;
	if (ctl_store(c) == NULL)
		return CTL_STORE;
	rc = walk(c, table, haskey ? key : NULL, max);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_warn("write error: %s", strerror(errno));
		rc = rc == CTL_OK ? CTL_INVALID : rc;
	}
	return rc;
}
