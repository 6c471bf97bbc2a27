/*
 * dispatch.c - generic request processing of qubesd 4.2
 * (qubes.api.AbstractQubesAPI + QubesDaemonProtocol.respond).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "events.h"
#include "frame.h"
#include "log.h"
#include "model.h"

void
reply_init(struct reply *r)
{
	memset(r, 0, sizeof(*r));
	sb_init(&r->out, API_REPLY_MAX);
	sb_init(&r->msg, 65536);
}

void
reply_free(struct reply *r)
{
	sb_free(&r->out);
	sb_free(&r->msg);
	free(r->job);
	r->job = NULL;
}

int
reply_defer(struct reply *r, const struct call *c, job_fn fn, int flags)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return reply_refuse(r, "out of memory");
	j->fn = fn;
	j->flags = flags;
	snprintf(j->method, sizeof(j->method), "%s", c->method);
	snprintf(j->src, sizeof(j->src), "%s", c->src->name);
	snprintf(j->dest, sizeof(j->dest), "%s", c->dest->name);
	free(r->job);
	r->job = j;
	return API_DEFER;
}

/* The reply bytes of a finished call (API_OK, API_ERROR, API_REFUSE). */
static void
finish(int rc, struct reply *r, const char *method, struct strbuf *out)
{
	char esc[512];

	switch (rc) {
	case API_OK:
		if (!sb_ok(&r->out)) {
			log_warnx("reply too large for %s", method);
			break;
		}
		frame_reply_ok(out, r->out.buf ? r->out.buf : "", r->out.len);
		break;
	case API_ERROR:
		log_info("%s: %s", r->exc, log_escape(esc, sizeof(esc),
		    r->msg.buf ? r->msg.buf : "", r->msg.len));
		frame_reply_exception(out, r->exc, r->msg.buf ? r->msg.buf :
		    "");
		break;
	default:
		log_info("%s: %s", method, r->why ? r->why : "refused");
		break;
	}
}

void
dispatch_job_reply(const struct job *j, int rc, struct reply *r,
    struct strbuf *out)
{
	finish(rc, r, j->method, out);
}

int
reply_error(struct reply *r, const char *exc, const char *fmt, ...)
{
	va_list ap;

	r->exc = exc;
	sb_reset(&r->msg);
	va_start(ap, fmt);
	sb_vaddf(&r->msg, fmt, ap);
	va_end(ap);
	return API_ERROR;
}

int
reply_refuse(struct reply *r, const char *why)
{
	r->why = why;
	return API_REFUSE;
}

static void
log_call(const char *what, const struct frame_request *req)
{
	char m[128], a[128], s[64], d[64];

	log_info("%s: src=%s meth=%s dest=%s arg=%s len(payload)=%zu", what,
	    log_escape(s, sizeof(s), req->src, strlen(req->src)),
	    log_escape(m, sizeof(m), req->method, strlen(req->method)),
	    log_escape(d, sizeof(d), req->dest, strlen(req->dest)),
	    log_escape(a, sizeof(a), req->arg, strlen(req->arg)),
	    req->payload_len);
}

void
dispatch_request(enum api_sock sock, const unsigned char *untrusted_buf,
    size_t len, struct strbuf *out, struct dispatch_stream *stream)
{
	struct frame_request req;
	struct reply r;
	struct call c;
	const char *why;
	api_handler h;
	unsigned char *payload = NULL;
	int rc;

	if (frame_parse_request(untrusted_buf, len, &req, &why) < 0) {
		log_warnx("framing error (%s)", why);
		return;
	}
	reply_init(&r);
	memset(&c, 0, sizeof(c));
	/* AbstractQubesAPI.__init__: decode and look up src, then dest,
	 * then decode arg and method, then find the method */
	if (!frame_is_ascii(req.src, strlen(req.src))) {
		log_call("non-ASCII source", &req);
		goto done;
	}
	c.src = app_vm(app, req.src);
	if (c.src == NULL) {
		reply_error(&r, "QubesVMNotFoundError", "%s", "");
		sb_add_pyrepr(&r.msg, req.src);
		goto reply_notfound;
	}
	if (!frame_is_ascii(req.dest, strlen(req.dest))) {
		log_call("non-ASCII destination", &req);
		goto done;
	}
	c.dest = app_vm(app, req.dest);
	if (c.dest == NULL) {
		reply_error(&r, "QubesVMNotFoundError", "%s", "");
		sb_add_pyrepr(&r.msg, req.dest);
		goto reply_notfound;
	}
	if (!frame_is_ascii(req.arg, strlen(req.arg)) ||
	    !frame_is_ascii(req.method, strlen(req.method))) {
		log_call("non-ASCII argument or method", &req);
		goto done;
	}
	c.m = api_lookup_sock(req.method, sock);
	h = c.m ? handler_lookup(req.method) : NULL;
	if (c.m == NULL || !c.m->impl || h == NULL) {
		log_call("no such method", &req);
		goto done;
	}
	if (c.m->payload == PL_NONE && req.payload_len > 0) {
		log_call("protocol error (payload on a no-payload call)", &req);
		goto done;
	}
	c.method = req.method;
	c.arg = req.arg;
	/* handlers may rely on a NUL after the payload (it may hold NULs
	 * itself: they use payload_len) */
	payload = malloc(req.payload_len + 1);
	if (payload == NULL)
		goto done;
	memcpy(payload, req.payload, req.payload_len);
	payload[req.payload_len] = '\0';
	c.untrusted_payload = payload;
	c.payload_len = req.payload_len;
	log_call("call", &req);
	rc = h(&c, &r);
	/* a handler that did not commit must not leak queued events */
	if (ev_pending())
		ev_discard();
	if (rc == API_DEFER) {
		if (stream != NULL) {
			stream->job = r.job;	/* the loop runs it */
			r.job = NULL;
			goto done;
		}
		/* no loop (tests): run it here */
		rc = r.job->fn(r.job, &r);
		if (ev_pending())
			ev_commit();
	}
	switch (rc) {
	case API_STREAM:
		if (stream == NULL)
			break;		/* no loop to keep it open */
		stream->on = 1;
		stream->stats = r.stats;
		snprintf(stream->src, sizeof(stream->src), "%s", req.src);
		snprintf(stream->dest, sizeof(stream->dest), "%s", req.dest);
		sb_add(out, r.out.buf, r.out.len);
		break;
	case API_REFUSE:
		log_call(r.why ? r.why : "refused", &req);
		break;
	default:
		finish(rc, &r, req.method, out);
		break;
	}
	goto done;
reply_notfound:
	{
		struct strbuf m;

		sb_init(&m, 0);
		sb_addf(&m, "No such domain: %s", r.msg.buf);
		frame_reply_exception(out, r.exc, m.buf);
		sb_free(&m);
	}
done:
	free(payload);
	reply_free(&r);
	frame_request_free(&req);
}
