/*
 * request - the requests the unit tests decide.  See request.h.
 */
#include "request.h"

/* request_rcpt - RCPT TO:recipient after MAIL FROM:sender from client */
struct request
request_rcpt(const char *client, const char *sender, const char *recipient)
{
	struct request r = {
	    .stage = STAGE_RCPT,
	    .client_name = client,
	    .client_addr = "192.0.2.7",
	    .helo = client,
	    .auth = NULL,
	    .sender = sender,
	    .recipient = recipient,
	};

	return r;
}
