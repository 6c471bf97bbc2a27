/*
 * log.c - logging to stderr with program name, pid and function.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static const char *log_prog = "qubes";
static int log_level = LOG_INFO;
static int log_quiet;

void
log_init(const char *prog, int debug)
{
	log_prog = prog;
	log_level = debug ? LOG_DEBUG : LOG_INFO;
}

void
log_set_quiet(int quiet)
{
	log_quiet = quiet;
}

static void
log_vmsg(const char *func, int with_errno, int saved, const char *fmt,
    va_list ap)
{
	char buf[2048];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (with_errno)
		fprintf(stderr, "%s[%ld]: %s: %s: %s\n", log_prog,
		    (long)getpid(), func, buf, strerror(saved));
	else
		fprintf(stderr, "%s[%ld]: %s: %s\n", log_prog,
		    (long)getpid(), func, buf);
}

void
log_msg(int level, const char *func, int with_errno, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (level > log_level || (log_quiet && level > LOG_WARN)) {
		errno = saved;
		return;
	}
	va_start(ap, fmt);
	log_vmsg(func, with_errno, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
fatal_msg(const char *func, int with_errno, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(func, with_errno, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

const char *
log_escape(char *dst, size_t dstlen, const void *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = src;
	size_t i, o = 0;

	if (dstlen == 0)
		return "";
	for (i = 0; i < len; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\') {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = (char)s[i];
		} else {
			if (o + 4 >= dstlen)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[s[i] >> 4];
			dst[o++] = hex[s[i] & 15];
		}
	}
	dst[o] = '\0';
	return dst;
}
