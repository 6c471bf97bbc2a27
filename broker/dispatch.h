/*
 * dispatch.h - one request, from raw bytes to reply bytes
 * (protocol.md 4.1).
 *
 * dispatch_request() never fails loudly: it returns 0 with the reply bytes
 * in *out (which may be empty: a silent close) and logs one line per
 * request.
 */
#ifndef DISPATCH_H
#define DISPATCH_H

#include <stddef.h>

#include "api.h"
#include "call.h"
#include "strbuf.h"

/* Filled when the call turns the connection into an event stream. */
struct dispatch_stream {
	int	 on;
	char	 src[64];	/* caller */
	char	 dest[64];	/* "dom0": every event; else that qube's */
	int	 stats;		/* an admin.vm.Stats stream */
	struct job *job;	/* API_DEFER: the caller runs it */
};

void	dispatch_request(enum api_sock sock, const unsigned char *untrusted_buf,
	    size_t len, struct strbuf *out, struct dispatch_stream *stream);

/* Frame the reply of a finished deferred call into out. */
void	dispatch_job_reply(const struct job *j, int rc, struct reply *r,
	    struct strbuf *out);

/* Handler for a method name; NULL if this implementation has none. */
api_handler handler_lookup(const char *name);
/* Every registered handler name (for consistency tests). */
const char *handler_name(size_t i);

#endif
