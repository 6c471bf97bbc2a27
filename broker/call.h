/*
 * call.h - one Admin API call as the handlers see it, and its reply.
 *
 * The dispatcher builds a struct call after the generic steps of
 * protocol.md 4.1 (framing, source and destination lookup, method lookup,
 * no-payload check) and hands it to the handler together with an empty
 * reply.  A handler returns:
 *
 *	API_OK      r->out holds the content after "0\0"
 *	API_ERROR   r->exc / r->msg hold a QubesException-style error
 *	API_REFUSE  silent close (PermissionDenied / ProtocolError analogue)
 *
 * Handlers never touch sockets and never save directly: a write calls
 * persist_commit() last, which saves qubes.xml and then releases the
 * queued events (STYLE rule 17).
 */
#ifndef CALL_H
#define CALL_H

#include <stddef.h>

#include "api.h"
#include "strbuf.h"

struct vm;

/* Largest reply content we build (GetAll of a big system is far less). */
#define API_REPLY_MAX	(16u * 1024u * 1024u)

enum api_status {
	API_OK,
	API_ERROR,
	API_REFUSE,
	API_STREAM,	/* r->out holds the first EVENT record; the
			   connection becomes an event subscriber */
	API_DEFER,	/* reply_defer() was called: a worker thread
			   finishes the call and replies (worker.h) */
};

struct call {
	const struct api_method	*m;
	const char		*method;
	const char		*arg;
	struct vm		*src;
	struct vm		*dest;
	const unsigned char	*untrusted_payload;
	size_t			 payload_len;
};

struct job;

struct reply {
	struct strbuf	 out;
	const char	*exc;		/* exception class name */
	struct strbuf	 msg;		/* exception message */
	const char	*why;		/* refusal reason (log only) */
	struct job	*job;		/* API_DEFER */
	int		 stats;		/* API_STREAM of admin.vm.Stats */
};

/*
 * A deferred call: fn runs on a worker thread with the model lock held
 * (it drops the lock around blocking work) and returns API_OK, API_ERROR
 * or API_REFUSE with the reply filled, as a handler does.  The qubes are
 * named, not pointed to: they may go while the call waits.
 */
typedef int (*job_fn)(struct job *j, struct reply *r);
struct job {
	job_fn		 fn;
	char		 method[128];
	char		 src[64];
	char		 dest[64];
	int		 flags;		/* the handler's parsed argument */
	void		*conn;		/* control.c's connection */
};

void	reply_init(struct reply *r);
void	reply_free(struct reply *r);
/* Set an exception; returns API_ERROR. */
int	reply_error(struct reply *r, const char *exc, const char *fmt, ...)
	    PRINTF_LIKE(3, 4);
/* Refuse (silent close); `why` is logged; returns API_REFUSE. */
int	reply_refuse(struct reply *r, const char *why);

/* Hand the rest of the call to a worker; returns API_DEFER. */
int	reply_defer(struct reply *r, const struct call *c, job_fn fn,
	    int flags);

typedef int (*api_handler)(struct call *c, struct reply *r);

#endif
