/*
 * fuzz_service.c - libFuzzer target for the invocation checks of the
 * service executables (lib/service.c service_check(),
 * service_check_payload(), and lib/svc_validate.c behind them).
 *
 * Input layout:
 *
 *	byte 0		bits 0-6: family of the executable (index into
 *			families[], modulo); bit 7: an argv[2] is given
 *	byte 1		which values are set: bit i for field i below
 *			(unset = no variable / no argv entry)
 *	then		up to 8 fields separated by 0x1e, in this order:
 *			argv[0], argv[1], QREXEC_SERVICE_FULL_NAME,
 *			QREXEC_SERVICE_ARGUMENT, QREXEC_REMOTE_DOMAIN,
 *			QREXEC_REQUESTED_TARGET_TYPE,
 *			QREXEC_REQUESTED_TARGET,
 *			QREXEC_REQUESTED_TARGET_KEYWORD
 *	rest		after the 8th separator: the payload (any bytes)
 *
 * Fields may hold NUL and any other byte (the real process cannot pass
 * NUL; the checks must still refuse it).  Invariants:
 * - a refusal has a non-empty reason;
 * - an accepted call is a row of this family that service_serves();
 *   basename(argv[0]) is its name; the full name is "name+arg" (or just
 *   the name with an empty argument); argv[1] and QREXEC_SERVICE_ARGUMENT
 *   equal the argument when set; the argument is NUL-free, in the qrexec
 *   set and at most SERVICE_ARG_MAX bytes; source and dest are valid qube
 *   names, the dest is the target name or "dom0" for keyword adminvm,
 *   and "dom0" for DEST_DOM0 rows; payload_max is 0 for PL_NONE, within
 *   the row bound otherwise, and a request carrying payload_max bytes is
 *   at most API_REQUEST_MAX;
 * - an accepted payload fits payload_max; for PL_NONE it is empty; it is
 *   ASCII for every kind but PL_ANY; and the request built from the call
 *   parses back (frame_parse_request) to the same fields and payload.
 *
 * Build and run: sh tests/fuzz/run.sh smoke fuzz_service.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "frame.h"
#include "service.h"
#include "strbuf.h"
#include "validate.h"

#define CHECK(x) do {							\
	if (!(x)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #x);					\
		abort();						\
	}								\
} while (0)

#define SEP	0x1e
#define NFIELDS	8

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const families[] = {
	"vm", "vm_property", "property", "vm_feature", "vm_tag", "label",
	"vm_power", "vm_volume", "internal", "misc", "pool", "nope",
};

static int
same(const struct service_str *s, const char *p, size_t n)
{
	return s->len == n && memcmp(s->ptr, p, n) == 0;
}

static int
qrexec_set(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] == '\0' || strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-", p[i]) == NULL)
			return 0;
	return 1;
}

static void
check_accepted(const struct service_env *e, const char *family,
    const struct service_call *c, const unsigned char *payload,
    size_t plen)
{
	const struct api_method *m = c->m;
	const char *base, *msg, *why;
	struct frame_request req;
	struct strbuf sb;
	size_t nlen, alen, blen;
	unsigned char *big;

	CHECK(m != NULL);
	CHECK(strcmp(m->family, family) == 0);
	CHECK(service_serves(m));
	nlen = strlen(m->name);
	alen = strlen(c->arg);

	/* the call name is the link name and the head of the full name */
	base = e->argv0.ptr;
	for (blen = e->argv0.len; blen > 0; blen--)
		if (e->argv0.ptr[blen - 1] == '/')
			break;
	base += blen;
	CHECK(e->argv0.len - blen == nlen && memcmp(base, m->name, nlen) == 0);
	if (e->full_name.len == nlen) {
		CHECK(memcmp(e->full_name.ptr, m->name, nlen) == 0);
		CHECK(alen == 0);
	} else {
		CHECK(e->full_name.len == nlen + 1 + alen);
		CHECK(memcmp(e->full_name.ptr, m->name, nlen) == 0);
		CHECK(e->full_name.ptr[nlen] == '+');
		CHECK(memcmp(e->full_name.ptr + nlen + 1, c->arg, alen) == 0);
	}
	CHECK(alen <= SERVICE_ARG_MAX && qrexec_set(c->arg, alen));
	if (e->argv1.ptr != NULL)
		CHECK(same(&e->argv1, c->arg, alen));
	if (e->argument.ptr != NULL)
		CHECK(same(&e->argument, c->arg, alen));
	CHECK(e->argc == 1 || e->argc == 2);
	if (m->arg == ARG_EMPTY)
		CHECK(alen == 0);

	/* source and destination */
	CHECK(validate_vm_name(c->src, &msg) == 0);
	CHECK(same(&e->remote_domain, c->src, strlen(c->src)));
	CHECK(validate_vm_name(c->dest, &msg) == 0);
	if (same(&e->target_type, "name", 4)) {
		CHECK(e->target_keyword.ptr == NULL);
		CHECK(same(&e->target, c->dest, strlen(c->dest)));
	} else {
		CHECK(same(&e->target_type, "keyword", 7));
		CHECK(e->target.ptr == NULL);
		CHECK(same(&e->target_keyword, "adminvm", 7));
		CHECK(strcmp(c->dest, "dom0") == 0);
	}
	if (m->dest == DEST_DOM0)
		CHECK(strcmp(c->dest, "dom0") == 0);

	/* the payload bound */
	if (m->payload == PL_NONE) {
		CHECK(c->payload_max == 0);
	} else {
		CHECK(c->payload_max <= m->payload_max);
		big = calloc(c->payload_max ? c->payload_max : 1, 1);
		CHECK(big != NULL);
		sb_init(&sb, 0);
		frame_build_request(&sb, m->name, c->arg, c->src, c->dest,
		    big, c->payload_max);
		CHECK(sb_ok(&sb) && sb.len <= API_REQUEST_MAX);
		sb_free(&sb);
		free(big);
	}

	why = service_check_payload(c, payload, plen);
	if (why != NULL) {
		CHECK(*why != '\0');
		return;
	}
	CHECK(plen <= c->payload_max);
	if (m->payload == PL_NONE)
		CHECK(plen == 0);
	if (m->payload != PL_ANY)
		CHECK(frame_is_ascii(payload, plen));
	CHECK(m->payload != PL_STREAM);

	/* what the broker receives parses back to the same call */
	sb_init(&sb, 0);
	frame_build_request(&sb, m->name, c->arg, c->src, c->dest, payload,
	    plen);
	CHECK(sb_ok(&sb) && sb.len <= API_REQUEST_MAX);
	CHECK(frame_parse_request((const unsigned char *)sb.buf, sb.len, &req,
	    &why) == 0);
	CHECK(strcmp(req.method, m->name) == 0);
	CHECK(strcmp(req.arg, c->arg) == 0);
	CHECK(strcmp(req.src, c->src) == 0);
	CHECK(strcmp(req.dest, c->dest) == 0);
	CHECK(req.payload_len == plen);
	CHECK(plen == 0 || memcmp(req.payload, payload, plen) == 0);
	frame_request_free(&req);
	sb_free(&sb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct service_str *fields[NFIELDS];
	struct service_env e;
	struct service_call call;
	const char *family, *why;
	const uint8_t *p, *end, *sep;
	unsigned char *payload;
	char *copy;
	size_t plen;
	int i, set;

	if (size < 2)
		return 0;
	family = families[(data[0] & 0x7f) %
	    (sizeof(families) / sizeof(families[0]))];
	set = data[1];
	/* a private copy: the checks must not read past any field */
	copy = malloc(size - 2 ? size - 2 : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 2, size - 2);
	p = (const uint8_t *)copy;
	end = p + (size - 2);

	memset(&e, 0, sizeof(e));
	fields[0] = &e.argv0;
	fields[1] = &e.argv1;
	fields[2] = &e.full_name;
	fields[3] = &e.argument;
	fields[4] = &e.remote_domain;
	fields[5] = &e.target_type;
	fields[6] = &e.target;
	fields[7] = &e.target_keyword;
	for (i = 0; i < NFIELDS; i++) {
		sep = memchr(p, SEP, (size_t)(end - p));
		if (sep == NULL)
			sep = end;
		if (set & (1 << i)) {
			fields[i]->ptr = (const char *)p;
			fields[i]->len = (size_t)(sep - p);
		}
		p = sep < end ? sep + 1 : end;
	}
	e.argc = e.argv0.ptr == NULL ? 0 : e.argv1.ptr == NULL ? 1 : 2;
	if (data[0] & 0x80)
		e.argc++;
	plen = (size_t)(end - p);
	payload = malloc(plen ? plen : 1);
	if (payload == NULL) {
		free(copy);
		return 0;
	}
	memcpy(payload, p, plen);

	why = service_check(&e, family, &call);
	if (why != NULL)
		CHECK(*why != '\0');
	else
		check_accepted(&e, family, &call, payload, plen);

	free(payload);
	free(copy);
	return 0;
}
