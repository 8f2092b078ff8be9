/*
 * hash - SipHash-1-3 (Aumasson and Bernstein, "SipHash: a fast short-input
 * PRF", with one compression and three finalization rounds).  See hash.h.
 */
#include <sys/random.h>
#include <endian.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

/* sip_round - one SipRound on the state v[4] */
static void
sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL(v[2], 32);
}

/* le64 - eight bytes as a little-endian word, whatever the host's order */
static uint64_t
le64(const unsigned char *b)
{
	uint64_t w;

	memcpy(&w, b, sizeof w);
	return le64toh(w);
}

/* hash_keyed - SipHash-1-3 of len bytes under key k */
uint64_t
hash_keyed(const struct hash_key *k, const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t v[4], m;
	unsigned char last[8];
	size_t i;

	v[0] = k->k0 ^ 0x736f6d6570736575ULL;
	v[1] = k->k1 ^ 0x646f72616e646f6dULL;
	v[2] = k->k0 ^ 0x6c7967656e657261ULL;
	v[3] = k->k1 ^ 0x7465646279746573ULL;
	for (i = 0; i + 8 <= len; i += 8) {
		m = le64(b + i);
		v[3] ^= m;
		sip_round(v);
		v[0] ^= m;
	}
	memset(last, 0, sizeof last);
	memcpy(last, b + i, len - i);
	last[7] = (unsigned char)len;
	m = le64(last);
	v[3] ^= m;
	sip_round(v);
	v[0] ^= m;
	v[2] ^= 0xff;
	sip_round(v);
	sip_round(v);
	sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* hash_key_new - a random key; the clock and pid if getrandom(2) fails */
void
hash_key_new(struct hash_key *k)
{
	struct timespec ts;

	if (getrandom(k, sizeof *k, 0) == (ssize_t)sizeof *k)
		return;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	k->k0 =
	    (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)ts.tv_sec;
	k->k1 =
	    (uint64_t)getpid() * 0xc4ceb9fe1a85ec53ULL ^ (uint64_t)ts.tv_nsec;
}
