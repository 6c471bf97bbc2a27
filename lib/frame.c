/*
 * frame.c - request parsing and reply encoding; matches
 * qubes.api.QubesDaemonProtocol.eof_received / send_* of qubesd 4.2.
 */
#include <stdlib.h>
#include <string.h>

#include "frame.h"

int
frame_is_ascii(const void *p, size_t len)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] & 0x80)
			return 0;
	return 1;
}

static char *
memdupz(const unsigned char *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

void
frame_request_free(struct frame_request *req)
{
	if (req == NULL)
		return;
	free(req->method);
	free(req->arg);
	free(req->src);
	free(req->dest);
	memset(req, 0, sizeof(*req));
}

int
frame_parse_request(const unsigned char *untrusted_buf, size_t len,
    struct frame_request *req, const char **why)
{
	const unsigned char *nul, *f[4], *end, *sp, *plus;
	size_t flen[4];
	int i;

	memset(req, 0, sizeof(*req));
	/* sanitize start */
	nul = memchr(untrusted_buf, '\0', len);
	if (nul == NULL) {
		*why = "no NUL";
		return -1;
	}
	/* split(b' ', 3): three separators, the 4th field keeps the rest */
	f[0] = untrusted_buf;
	end = nul;
	for (i = 0; i < 3; i++) {
		sp = memchr(f[i], ' ', (size_t)(end - f[i]));
		if (sp == NULL) {
			*why = "too few fields";
			return -1;
		}
		flen[i] = (size_t)(sp - f[i]);
		f[i + 1] = sp + 1;
	}
	flen[3] = (size_t)(end - f[3]);

	/* "keyword adminvm" is "name dom0"; any other type is an error */
	if (flen[2] == 7 && memcmp(f[2], "keyword", 7) == 0 &&
	    flen[3] == 7 && memcmp(f[3], "adminvm", 7) == 0) {
		f[3] = (const unsigned char *)"dom0";
		flen[3] = 4;
	} else if (!(flen[2] == 4 && memcmp(f[2], "name", 4) == 0)) {
		*why = "bad destination type";
		return -1;
	}
	plus = memchr(f[0], '+', flen[0]);
	/* sanitize end */

	if (plus != NULL) {
		req->method = memdupz(f[0], (size_t)(plus - f[0]));
		req->arg = memdupz(plus + 1,
		    flen[0] - (size_t)(plus - f[0]) - 1);
	} else {
		req->method = memdupz(f[0], flen[0]);
		req->arg = memdupz(f[0], 0);
	}
	req->src = memdupz(f[1], flen[1]);
	req->dest = memdupz(f[3], flen[3]);
	if (!req->method || !req->arg || !req->src || !req->dest) {
		frame_request_free(req);
		*why = "out of memory";
		return -1;
	}
	req->payload = nul + 1;
	req->payload_len = len - (size_t)(nul + 1 - untrusted_buf);
	return 0;
}

int
frame_build_request(struct strbuf *sb, const char *method, const char *arg,
    const char *src, const char *dest, const void *payload,
    size_t payload_len)
{
	sb_addf(sb, "%s+%s %s name %s", method, arg ? arg : "", src, dest);
	sb_addc(sb, '\0');
	return sb_add(sb, payload, payload_len);
}

int
frame_reply_ok(struct strbuf *sb, const void *content, size_t len)
{
	sb_add(sb, "0\0", 2);
	return sb_add(sb, content, len);
}

int
frame_reply_exception(struct strbuf *sb, const char *type, const char *message)
{
	sb_add(sb, "2\0", 2);
	sb_add(sb, type, strlen(type) + 1);
	sb_addc(sb, '\0');		/* empty traceback */
	return sb_add(sb, message, strlen(message) + 1);
}

int
frame_reply_event(struct strbuf *sb, const char *subject, const char *event,
    const char *const *kv, size_t nkv)
{
	size_t i;

	sb_add(sb, "1\0", 2);
	sb_add(sb, subject ? subject : "", strlen(subject ? subject : "") + 1);
	sb_add(sb, event, strlen(event) + 1);
	for (i = 0; i < 2 * nkv; i++)
		sb_add(sb, kv[i], strlen(kv[i]) + 1);
	return sb_addc(sb, '\0');
}
