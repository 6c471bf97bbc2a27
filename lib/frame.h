/*
 * frame.h - qubesd 4.2 wire framing (protocol.md sections 2 and 3).
 *
 * Request:  <method>[+<arg>] SP <src> SP <dest-type> SP <dest> \0 <payload>
 * Replies:  0\0<content>                       OK
 *           1\0<subject>\0<event>\0(k\0v\0)*\0  EVENT
 *           2\0<type>\0<traceback>\0<message>\0 EXCEPTION
 *
 * frame_parse_request() works on pointer + length of untrusted bytes.  It
 * only checks the framing; ASCII and name checks are the dispatcher's,
 * because their order relative to the qube lookups is observable.  On
 * success the header fields are fresh NUL-terminated copies (they cannot
 * contain NUL, being before the first one) and payload points into the
 * caller's buffer, which must outlive the request.
 */
#ifndef FRAME_H
#define FRAME_H

#include <stddef.h>

#include "strbuf.h"

struct frame_request {
	char			*method;
	char			*arg;
	char			*src;
	char			*dest;
	const unsigned char	*payload;	/* borrowed */
	size_t			 payload_len;
};

/*
 * Parse one request.  Returns 0, or -1 with *why set to a static reason
 * ("no NUL", "too few fields", "bad destination type", "out of memory").
 */
int	frame_parse_request(const unsigned char *untrusted_buf, size_t len,
	    struct frame_request *req, const char **why);
/* Free the copies; NULL-safe, accepts a zeroed struct. */
void	frame_request_free(struct frame_request *req);

/* Encode a request as a client sends it: always "method+arg ... name dest". */
int	frame_build_request(struct strbuf *sb, const char *method,
	    const char *arg, const char *src, const char *dest,
	    const void *payload, size_t payload_len);

/* Reply encoders; append to sb. */
int	frame_reply_ok(struct strbuf *sb, const void *content, size_t len);
int	frame_reply_exception(struct strbuf *sb, const char *type,
	    const char *message);
/* kv holds 2*nkv strings: key, value, key, value... */
int	frame_reply_event(struct strbuf *sb, const char *subject,
	    const char *event, const char *const *kv, size_t nkv);

/* True if every byte of [p, p+len) is 7-bit ASCII. */
int	frame_is_ascii(const void *p, size_t len);

#endif
