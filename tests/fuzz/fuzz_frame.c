/*
 * fuzz_frame.c - libFuzzer target for frame_parse_request() (lib/frame.c).
 *
 * The input is one request as a client writes it.  Invariants checked:
 * - a refusal names a reason and leaves the request zeroed; "no NUL" iff
 *   the input has no NUL;
 * - on success every field is NUL-free and lies inside the header (the
 *   bytes before the first NUL), method and argument come from the first
 *   field split at its first '+', method/arg/src hold no space, and the
 *   payload is exactly the input after the first NUL (borrowed, in place);
 * - the request survives a round trip through frame_build_request() and a
 *   second parse, field for field; when the input already used the
 *   canonical form ("method+arg src name dest") the rebuilt bytes equal
 *   the input;
 * - the reply encoders produce records of exactly the expected length.
 *
 * Build and run: sh tests/fuzz/run.sh smoke (or run fuzz_frame).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "strbuf.h"

#define CHECK(x) do {							\
	if (!(x)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #x);					\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* s (NUL-free, terminated) occurs in [lo, hi) of the header at all? */
static int
inside(const char *s, const uint8_t *lo, const uint8_t *hi)
{
	size_t n = strlen(s);

	if (n == 0)
		return 1;
	if ((size_t)(hi - lo) < n)
		return 0;
	return memmem(lo, (size_t)(hi - lo), s, n) != NULL;
}

static void
check_replies(const struct frame_request *req)
{
	const char *kv[2];
	struct strbuf sb;
	size_t ls = strlen(req->src), ld = strlen(req->dest);
	size_t lm = strlen(req->method), la = strlen(req->arg);

	sb_init(&sb, 0);
	CHECK(frame_reply_ok(&sb, req->payload, req->payload_len) == 0);
	CHECK(sb.len == 2 + req->payload_len);
	CHECK(memcmp(sb.buf, "0\0", 2) == 0);
	CHECK(memcmp(sb.buf + 2, req->payload, req->payload_len) == 0);
	sb_reset(&sb);
	CHECK(frame_reply_exception(&sb, req->src, req->dest) == 0);
	CHECK(sb.len == 2 + ls + 1 + 1 + ld + 1);
	CHECK(sb.buf[sb.len - 1] == '\0' && sb.buf[2 + ls + 1] == '\0');
	sb_reset(&sb);
	kv[0] = req->method;
	kv[1] = req->arg;
	CHECK(frame_reply_event(&sb, req->src, req->dest, kv, 1) == 0);
	CHECK(sb.len == 2 + ls + 1 + ld + 1 + lm + 1 + la + 1 + 1);
	CHECK(sb.buf[sb.len - 1] == '\0' && sb.buf[sb.len - 2] == '\0');
	sb_free(&sb);

	/* a small cap refuses instead of overflowing */
	sb_init(&sb, 3);
	if (req->payload_len > 1)
		CHECK(frame_reply_ok(&sb, req->payload, req->payload_len) ==
		    -1);
	sb_free(&sb);
}

static void
check_round_trip(const uint8_t *data, size_t size,
    const struct frame_request *req, size_t hlen)
{
	struct frame_request again;
	struct strbuf sb;
	const uint8_t *sp1, *sp2, *sp3;
	const char *why = NULL;
	int canonical;

	sb_init(&sb, 0);
	CHECK(frame_build_request(&sb, req->method, req->arg, req->src,
	    req->dest, req->payload, req->payload_len) == 0);
	CHECK(frame_parse_request((const unsigned char *)sb.buf, sb.len,
	    &again, &why) == 0);
	CHECK(strcmp(again.method, req->method) == 0);
	CHECK(strcmp(again.arg, req->arg) == 0);
	CHECK(strcmp(again.src, req->src) == 0);
	CHECK(strcmp(again.dest, req->dest) == 0);
	CHECK(again.payload_len == req->payload_len);
	CHECK(memcmp(again.payload, req->payload, req->payload_len) == 0);
	frame_request_free(&again);

	/*
	 * "method+arg src name dest": then the bytes come back unchanged.
	 * Split the header here independently: the first field must hold
	 * a '+' and the third must be "name".
	 */
	sp1 = memchr(data, ' ', hlen);
	sp2 = sp1 ? memchr(sp1 + 1, ' ', hlen - (size_t)(sp1 + 1 - data)) :
	    NULL;
	sp3 = sp2 ? memchr(sp2 + 1, ' ', hlen - (size_t)(sp2 + 1 - data)) :
	    NULL;
	CHECK(sp3 != NULL);		/* the parse succeeded: 4 fields */
	canonical = memchr(data, '+', (size_t)(sp1 - data)) != NULL &&
	    sp3 - sp2 - 1 == 4 && memcmp(sp2 + 1, "name", 4) == 0;
	if (canonical) {
		CHECK(sb.len == size);
		CHECK(memcmp(sb.buf, data, size) == 0);
	}
	sb_free(&sb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_request req;
	const uint8_t *nul, *hend;
	const char *why = NULL;
	size_t hlen;

	nul = size > 0 ? memchr(data, '\0', size) : NULL;
	if (frame_parse_request(data, size, &req, &why) != 0) {
		CHECK(why != NULL);
		CHECK((nul == NULL) == (strcmp(why, "no NUL") == 0));
		CHECK(req.method == NULL && req.arg == NULL &&
		    req.src == NULL && req.dest == NULL);
		CHECK(req.payload == NULL && req.payload_len == 0);
		frame_request_free(&req);
		return 0;
	}
	CHECK(nul != NULL);
	hlen = (size_t)(nul - data);
	hend = nul;

	/* fields: terminated copies of header bytes */
	CHECK(req.method && req.arg && req.src && req.dest);
	CHECK(strlen(req.method) + strlen(req.arg) + strlen(req.src) +
	    strlen(req.dest) <= hlen);
	CHECK(inside(req.method, data, hend));
	CHECK(inside(req.arg, data, hend));
	CHECK(inside(req.src, data, hend));
	CHECK(inside(req.dest, data, hend) || strcmp(req.dest, "dom0") == 0);
	CHECK(strchr(req.method, ' ') == NULL);
	CHECK(strchr(req.method, '+') == NULL);
	CHECK(strchr(req.arg, ' ') == NULL);
	CHECK(strchr(req.src, ' ') == NULL);
	CHECK(memcmp(data, req.method, strlen(req.method)) == 0);

	/* payload: the rest of the input, in place */
	CHECK(req.payload == nul + 1);
	CHECK(req.payload_len == size - hlen - 1);
	CHECK(req.payload >= data && req.payload <= data + size);
	CHECK(req.payload + req.payload_len == data + size);

	check_round_trip(data, size, &req, hlen);
	check_replies(&req);
	frame_request_free(&req);
	CHECK(req.method == NULL);
	return 0;
}
