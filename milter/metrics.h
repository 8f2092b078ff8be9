/*
 * metrics - the HTTP server of the Prometheus metrics endpoint.
 *
 * metrics_start() listens on spec, inet:PORT@HOST or inet6:PORT@HOST
 * (libmilter's syntax, sockspec.h), and serves it from a thread of its own
 * until metrics_stop().  HOST must be a numeric address (inet_pton(3): no
 * name lookups); none (inet:9491) means the loopback address, 127.0.0.1 or
 * ::1, never every interface.  Any other address, a non-loopback one or a
 * wildcard, is listened on only because the configuration names it: that is
 * the rule, as the endpoint has no authentication.  PORT 0 takes a free
 * port (for tests), which metrics_port() tells.  On error metrics_start()
 * returns NULL with the reason in err, e.g. "metrics: cannot listen on
 * 127.0.0.1 port 9491: Address already in use".
 *
 * The thread answers GET /metrics and HEAD /metrics with 200, the body
 * render(arg, &len) returns (a malloc'd buffer of len bytes, which the
 * server frees; NULL gives 500), and Content-Type text/plain;
 * version=0.0.4; charset=utf-8; another path with 404, another method on
 * /metrics with 405 and "Allow: GET, HEAD", a request head httpreq_parse()
 * refuses with its status, and one not complete within
 * METRICS_CLIENT_TIMEOUT_MS with 408 if the socket takes it.  Every answer
 * says "Connection: close" and the connection is closed after it: one
 * request per connection.  render() is called on the server thread only,
 * once per 200 answer, so it must be safe to call from that thread while
 * the others run.
 *
 * metrics_stop() wakes the thread, joins it and closes every socket; NULL
 * is a no-op.  The functions are not thread-safe for the same struct
 * metrics: start and stop it from one thread.  Nothing here logs, exits or
 * aborts; SIGPIPE is avoided with MSG_NOSIGNAL (send(2)), and the thread
 * blocks every signal.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>

#define METRICS_CLIENTS_MAX 16 /* connections served at once */
#define METRICS_CLIENT_TIMEOUT_MS                                              \
	5000               /* to send the head and read the answer */
#define METRICS_BACKLOG 64 /* listen(2) */

struct metrics;

/* A malloc'd body of *len bytes, or NULL for 500; the server frees it. */
typedef char *(*metrics_render_fn)(void *arg, size_t *len);

struct metrics *metrics_start(const char *spec, metrics_render_fn render,
                              void *arg, char *err, size_t errlen);
int metrics_port(const struct metrics *);
void metrics_stop(struct metrics *);

#endif
