/*
 * strbuf.h - a growable byte buffer with a hard cap.
 *
 * The buffer is always NUL-terminated (the NUL is not counted in len), so
 * sb->buf can be used as a C string when the content has no NUL.  Every
 * append fails (returns -1, sets sb->err) once the content would exceed
 * sb->cap; after an error every later append is a no-op, so callers may
 * append freely and check sb->err (or sb_ok()) once at the end.
 *
 * Ownership: sb_init() borrows nothing; sb_free() releases the storage;
 * sb_steal() hands the storage to the caller (who frees it) and resets
 * the buffer.
 */
#ifndef STRBUF_H
#define STRBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "log.h"

#define SB_DEFAULT_CAP	(64u * 1024u * 1024u)

struct strbuf {
	char	*buf;
	size_t	 len;
	size_t	 alloc;
	size_t	 cap;
	int	 err;
};

void	sb_init(struct strbuf *sb, size_t cap);
void	sb_free(struct strbuf *sb);
void	sb_reset(struct strbuf *sb);
char	*sb_steal(struct strbuf *sb);
int	sb_add(struct strbuf *sb, const void *data, size_t len);
int	sb_adds(struct strbuf *sb, const char *s);
int	sb_addc(struct strbuf *sb, char c);
int	sb_addf(struct strbuf *sb, const char *fmt, ...) PRINTF_LIKE(2, 3);
int	sb_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Python repr() of an ASCII string (protocol.md 11). */
int	sb_add_pyrepr(struct strbuf *sb, const char *s);
int	sb_add_pyrepr_n(struct strbuf *sb, const char *s, size_t len);
static inline int sb_ok(const struct strbuf *sb) { return !sb->err; }

#endif
