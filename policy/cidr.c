/*
 * cidr - the canonical text of an address or network.  See cidr.h.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>

#include "cidr.h"

/*
 * put_uint - decimal digits of n at p; returns the end
 *
 * The client's 24 (IPv4) or 112 (IPv6) network keys are built for every
 * decision: formatting them by hand instead of with snprintf() (which
 * inet_ntop() uses for IPv4 too) is a third of the engine's time saved.
 */
static char *
put_uint(char *p, unsigned n)
{
	char d[10];
	size_t i = 0;

	do
		d[i++] = (char)('0' + n % 10);
	while ((n /= 10) != 0);
	while (i > 0)
		*p++ = d[--i];
	return p;
}

/* mask - clear every bit after the first bits of an address */
static void
mask(unsigned char *ip, int af, unsigned bits)
{
	size_t size = af == AF_INET ? 4 : 16, i;

	for (i = 0; i < size; i++) {
		unsigned keep = bits >= 8 * (i + 1) ? 8
		                : bits > 8 * i      ? bits - 8 * (unsigned)i
		                                    : 0;

		ip[i] = (unsigned char)(ip[i] & (0xff00u >> keep));
	}
}

/*
 * cidr_text - "ADDRESS" (bits < 0) or "NETWORK/BITS", host bits cleared
 *
 * IPv4 is written by hand, IPv6 by inet_ntop(): both give inet_ntop()'s
 * text.
 */
char *
cidr_text(int af, const unsigned char *ip, int bits, char *out)
{
	unsigned char net[sizeof(struct in6_addr)];
	int i;

	if (af != AF_INET && af != AF_INET6)
		return NULL;
	memcpy(net, ip, af == AF_INET ? 4 : 16);
	if (bits >= 0)
		mask(net, af, (unsigned)bits);
	if (af == AF_INET6) {
		if (inet_ntop(af, net, out, INET6_ADDRSTRLEN) == NULL)
			return NULL;
		out += strlen(out);
	} else {
		for (i = 0; i < 4; i++) {
			if (i > 0)
				*out++ = '.';
			out = put_uint(out, net[i]);
		}
	}
	if (bits >= 0) {
		*out++ = '/';
		out = put_uint(out, (unsigned)bits);
	}
	*out = '\0';
	return out;
}
