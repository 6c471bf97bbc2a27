/*
 * strbuf.c - bounded growable buffer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

void
sb_init(struct strbuf *sb, size_t cap)
{
	sb->buf = NULL;
	sb->len = 0;
	sb->alloc = 0;
	sb->cap = cap ? cap : SB_DEFAULT_CAP;
	sb->err = 0;
}

void
sb_free(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
	sb->err = 0;
}

void
sb_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->err = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

char *
sb_steal(struct strbuf *sb)
{
	char *p = sb->buf;

	if (p == NULL)
		p = calloc(1, 1);
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
	return p;
}

static int
sb_grow(struct strbuf *sb, size_t extra)
{
	size_t need, nalloc;
	char *p;

	if (sb->err)
		return -1;
	if (extra > sb->cap || sb->len > sb->cap - extra) {
		sb->err = E2BIG;
		return -1;
	}
	need = sb->len + extra + 1;
	if (need <= sb->alloc)
		return 0;
	nalloc = sb->alloc ? sb->alloc : 64;
	while (nalloc < need)
		nalloc *= 2;
	p = realloc(sb->buf, nalloc);
	if (p == NULL) {
		sb->err = ENOMEM;
		return -1;
	}
	sb->buf = p;
	sb->alloc = nalloc;
	return 0;
}

int
sb_add(struct strbuf *sb, const void *data, size_t len)
{
	if (sb_grow(sb, len) < 0)
		return -1;
	if (len)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
	return 0;
}

int
sb_adds(struct strbuf *sb, const char *s)
{
	return sb_add(sb, s, strlen(s));
}

int
sb_addc(struct strbuf *sb, char c)
{
	return sb_add(sb, &c, 1);
}

int
sb_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		sb->err = EINVAL;
		return -1;
	}
	if (sb_grow(sb, (size_t)n) < 0)
		return -1;
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

int
sb_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = sb_vaddf(sb, fmt, ap);
	va_end(ap);
	return r;
}

int
sb_add_pyrepr(struct strbuf *sb, const char *s)
{
	return sb_add_pyrepr_n(sb, s, strlen(s));
}

int
sb_add_pyrepr_n(struct strbuf *sb, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char q = '\'';
	const unsigned char *p, *end = (const unsigned char *)s + len;

	if (memchr(s, '\'', len) != NULL && memchr(s, '"', len) == NULL)
		q = '"';
	sb_addc(sb, q);
	for (p = (const unsigned char *)s; p < end; p++) {
		if (*p == '\\' || *p == (unsigned char)q) {
			sb_addc(sb, '\\');
			sb_addc(sb, (char)*p);
		} else if (*p == '\n') {
			sb_adds(sb, "\\n");
		} else if (*p == '\r') {
			sb_adds(sb, "\\r");
		} else if (*p == '\t') {
			sb_adds(sb, "\\t");
		} else if (*p < 0x20 || *p >= 0x7f) {
			char e[4] = { '\\', 'x', hex[*p >> 4], hex[*p & 15] };
			sb_add(sb, e, 4);
		} else {
			sb_addc(sb, (char)*p);
		}
	}
	return sb_addc(sb, q);
}
