/*
 * request - the requests the unit tests decide, made one way
 * (tests/unit/request.c, linked into every unit test).
 *
 * request_rcpt() is the RCPT stage of an SMTP session from client 192.0.2.7,
 * whose verified name and HELO name are both client, without a SASL login.
 * The strings are borrowed, not copied.
 */
#ifndef TEST_REQUEST_H
#define TEST_REQUEST_H

#include "policy.h"

struct request request_rcpt(const char *client, const char *sender,
                            const char *recipient);

#endif
