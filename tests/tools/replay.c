/*
 * replay.c - replay a recorded qubesd conformance transcript against a
 * running daemon and compare every response with the recording.
 *
 * usage: replay --socket-dir DIR [--base DIR] [--timeout SECONDS] [-q]
 *            SCENARIO_DIR
 *
 * SCENARIO_DIR/calls.txt (printable ASCII, LF line endings) has these
 * lines: "# text" comments (the last one before a request names it in a
 * failure report), blank lines, "@socket admin|internal|misc" (where the
 * following requests go: qubesd.sock, qubesd.internal.sock,
 * qubesd.misc.sock; default admin), "> BYTES" (a request), each followed
 * on the next line by "< BYTES" (the exact response; "< " or "<" alone is
 * a silent close) or "<~ REGEX".  BYTES: printable ASCII except "\" is
 * itself; escapes \0 (always one NUL), \n, \t, \\ and \xNN.  The whole
 * file is checked before anything is sent; a malformed transcript is an
 * error (exit 2, "file:line: ...").
 *
 * Every exchange, in file order, is one connection: send the request,
 * shutdown(SHUT_WR), read until EOF.  A server that closes the connection
 * while the request is still being sent (oversized requests) gives
 * whatever was received as its response.  Each exchange has --timeout
 * seconds (default 10) in all, connect included.
 *
 * "<~" patterns are Python re syntax matched against the whole response,
 * each byte one character (as if decoded from Latin-1).  They run with
 * PCRE2 in 8-bit non-UTF mode with Unicode properties (so \d, \w, \s see
 * the Latin-1 characters as Python does), "\Z" translated to PCRE2's
 * "\z".  "@BASE@" in an expectation is the --base directory (quoted inside
 * patterns); without --base it matches any absolute path.
 *
 * Output: one FAIL block per mismatch (escaped as above, long fields
 * truncated), then "<scenario>: N passed, M failed" (left out with -q).
 * Exit 0 if every exchange matched, 1 if any did not, 2 on usage or
 * transcript errors.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcre2.h>

#include "ioall.h"
#include "log.h"
#include "strbuf.h"

#define MAX_CALLS	(64u * 1024u * 1024u)	/* calls.txt size limit */
#define MAX_RESPONSE	(64u * 1024u * 1024u)	/* response size limit */
#define SHOW_MAX	2000			/* chars per shown field */
#define DIFF_BEFORE	40			/* context before a diff */
#define DIFF_WINDOW	240			/* bytes shown around it */
#define BASE_MARK	"@BASE@"
#define BASE_MARK_LEN	(sizeof(BASE_MARK) - 1)
/* What "@BASE@" stands for when no --base was given (as the reference). */
#define ANY_PATH	"/[^\\x00\\n]*?"

enum sockid {
	SOCK_ADMIN,
	SOCK_INTERNAL,
	SOCK_MISC,
	SOCK_COUNT
};

static const struct {
	const char	*name;
	const char	*file;
} sockets[SOCK_COUNT] = {
	{ "admin",	"qubesd.sock" },
	{ "internal",	"qubesd.internal.sock" },
	{ "misc",	"qubesd.misc.sock" },
};

struct exchange {
	size_t		 lineno;	/* line of the request */
	enum sockid	 sock;
	char		*comment;	/* the "# ..." before it, or NULL */
	char		*req;
	size_t		 reqlen;
	int		 is_regex;	/* "<~" line */
	/* "<": bytes, @BASE@ replaced when --base; "<~": the pattern */
	char		*exp;
	size_t		 explen;
	/* "<~", or "<" holding @BASE@ without --base */
	pcre2_code	*re;
};

struct scenario {
	const char	*path;		/* path of calls.txt */
	char		*name;		/* last component of SCENARIO_DIR */
	struct exchange	*ex;
	size_t		 nex;
	size_t		 alloc;
};

/* Global so that every allocation stays reachable on an early exit. */
static struct scenario	 scen;
static const char	*basedir;	/* absolute, no trailing '/'; or NULL */
static size_t		 basedir_len;

static void	usage(void) __attribute__((noreturn));
static void	formaterr(const char *, size_t, const char *, ...)
		    PRINTF_LIKE(3, 4) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr, "usage: replay --socket-dir DIR [--base DIR] "
	    "[--timeout SECONDS] [-q] SCENARIO_DIR\n");
	exit(2);
}

static void
formaterr(const char *path, size_t lineno, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	if (lineno)
		fprintf(stderr, "replay: %s:%zu: ", path, lineno);
	else
		fprintf(stderr, "replay: %s: ", path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void
nomem(void)
{
	fprintf(stderr, "replay: out of memory\n");
	exit(2);
}

static void
sb_check(const struct strbuf *sb)
{
	if (!sb_ok(sb))
		nomem();
}

/* ------------------------------------------------------------ notation */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * calls.txt byte notation -> bytes (appended to out).  Returns 0, or -1
 * with *why set and *col the 1-based column of the offending character.
 */
static int
unescape(const char *s, size_t n, struct strbuf *out, const char **why,
    size_t *col)
{
	size_t i = 0;
	int hi, lo;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		*col = i + 1;
		if (c != '\\') {
			if (c < 0x20 || c > 0x7e) {
				*why = "unescaped control character (write"
				    " \\t, \\xNN)";
				return -1;
			}
			sb_addc(out, (char)c);
			i++;
			continue;
		}
		if (i + 1 >= n) {
			*why = "dangling backslash";
			return -1;
		}
		switch (s[i + 1]) {
		case '0':
			sb_addc(out, '\0');
			i += 2;
			break;
		case 'n':
			sb_addc(out, '\n');
			i += 2;
			break;
		case 't':
			sb_addc(out, '\t');
			i += 2;
			break;
		case '\\':
			sb_addc(out, '\\');
			i += 2;
			break;
		case 'x':
			if (i + 3 >= n || (hi = hexval(s[i + 2])) < 0 ||
			    (lo = hexval(s[i + 3])) < 0) {
				*why = "bad \\x escape (two hex digits needed)";
				return -1;
			}
			sb_addc(out, (char)(hi << 4 | lo));
			i += 4;
			break;
		default:
			*why = "unknown escape (only \\0 \\n \\t \\\\ \\xNN)";
			return -1;
		}
	}
	sb_check(out);
	return 0;
}

/*
 * bytes -> calls.txt notation, at most about max characters; the rest is
 * summarised.  A space ending the data is written \x20.
 */
static void
sb_add_escaped(struct strbuf *sb, const void *data, size_t len, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = data;
	size_t i, start = sb->len;

	for (i = 0; i < len; i++) {
		if (sb->len - start >= max) {
			sb_addf(sb, " ...[%zu more bytes, %zu in all]",
			    len - i, len);
			break;
		}
		if (p[i] == '\0')
			sb_adds(sb, "\\0");
		else if (p[i] == '\n')
			sb_adds(sb, "\\n");
		else if (p[i] == '\t')
			sb_adds(sb, "\\t");
		else if (p[i] == '\\')
			sb_adds(sb, "\\\\");
		else if (p[i] == ' ' && i + 1 == len)
			sb_adds(sb, "\\x20");
		else if (p[i] >= 0x20 && p[i] <= 0x7e)
			sb_addc(sb, (char)p[i]);
		else {
			char e[4] = { '\\', 'x', hex[p[i] >> 4],
			    hex[p[i] & 15] };

			sb_add(sb, e, sizeof(e));
		}
	}
	sb_check(sb);
}

/* Bytes -> a PCRE2 pattern matching exactly them. */
static void
sb_add_requote(struct strbuf *sb, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = p[i];

		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || c == '_')
			sb_addc(sb, (char)c);
		else if (c >= 0x20 && c <= 0x7e) {
			/* backslash + non-alphanumeric is always literal */
			sb_addc(sb, '\\');
			sb_addc(sb, (char)c);
		} else
			sb_addf(sb, "\\x%02x", c);
	}
	sb_check(sb);
}

/* ------------------------------------------------------------ patterns */

/*
 * Python re source -> PCRE2 source: "@BASE@" becomes the quoted base dir
 * (or ANY_PATH), "\Z" (end of string in Python) becomes "\z".
 */
static void
python_to_pcre2(const char *src, size_t len, struct strbuf *out)
{
	size_t i = 0;

	while (i < len) {
		if (src[i] == '\\' && i + 1 < len) {
			sb_addc(out, '\\');
			sb_addc(out, src[i + 1] == 'Z' ? 'z' : src[i + 1]);
			i += 2;
		} else if (len - i >= BASE_MARK_LEN &&
		    memcmp(src + i, BASE_MARK, BASE_MARK_LEN) == 0) {
			if (basedir != NULL)
				sb_add_requote(out, basedir, basedir_len);
			else
				sb_adds(out, ANY_PATH);
			i += BASE_MARK_LEN;
		} else
			sb_addc(out, src[i++]);
	}
	sb_check(out);
}

/* An exact expectation containing @BASE@, without --base. */
static void
exact_to_pcre2(const char *exp, size_t len, struct strbuf *out)
{
	const char *p = exp, *end = exp + len, *m;

	while ((m = memmem(p, (size_t)(end - p), BASE_MARK,
	    BASE_MARK_LEN)) != NULL) {
		sb_add_requote(out, p, (size_t)(m - p));
		sb_adds(out, ANY_PATH);
		p = m + BASE_MARK_LEN;
	}
	sb_add_requote(out, p, (size_t)(end - p));
	sb_check(out);
}

static pcre2_code *
compile_pattern(const struct strbuf *src, const char *path, size_t lineno)
{
	pcre2_compile_context *cc;
	pcre2_code *re;
	PCRE2_SIZE erroff;
	PCRE2_UCHAR msg[256];
	int errcode;

	cc = pcre2_compile_context_create(NULL);
	if (cc == NULL)
		nomem();
	pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
	pcre2_set_bsr(cc, PCRE2_BSR_UNICODE);
	re = pcre2_compile((PCRE2_SPTR)(src->buf ? src->buf : ""), src->len,
	    PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UCP | PCRE2_NEVER_UTF |
	    PCRE2_NEVER_BACKSLASH_C, &errcode, &erroff, cc);
	pcre2_compile_context_free(cc);
	if (re == NULL) {
		pcre2_get_error_message(errcode, msg, sizeof(msg));
		formaterr(path, lineno, "bad regex (at offset %zu of the "
		    "translated pattern): %s", (size_t)erroff, (char *)msg);
	}
	return re;
}

/* ------------------------------------------------------------ parsing */

static struct exchange *
new_exchange(void)
{
	struct exchange *e, *n;

	if (scen.nex == scen.alloc) {
		size_t na = scen.alloc ? scen.alloc * 2 : 64;

		n = reallocarray(scen.ex, na, sizeof(*n));
		if (n == NULL)
			nomem();
		scen.ex = n;
		scen.alloc = na;
	}
	e = &scen.ex[scen.nex++];
	memset(e, 0, sizeof(*e));
	return e;
}

static int
is_blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

static char *
memdupz(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		nomem();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static void
set_expectation(struct exchange *e, const char *line, size_t n,
    size_t lineno)
{
	struct strbuf sb, tmp;
	const char *why;
	size_t col, off;
	char *m;

	sb_init(&sb, 0);
	if (n >= 3 && memcmp(line, "<~ ", 3) == 0) {
		e->is_regex = 1;
		e->explen = n - 3;
		e->exp = memdupz(line + 3, n - 3);
		python_to_pcre2(e->exp, e->explen, &sb);
		e->re = compile_pattern(&sb, scen.path, lineno);
		sb_free(&sb);
		return;
	}
	if (n == 1 || (n >= 2 && line[1] == ' ')) {
		if (n > 2 && unescape(line + 2, n - 2, &sb, &why, &col) < 0)
			formaterr(scen.path, lineno, "column %zu: %s",
			    col + 2, why);
		if (basedir != NULL && sb.len > 0) {
			/* replace every @BASE@ in the bytes */
			sb_init(&tmp, 0);
			off = 0;
			while ((m = memmem(sb.buf + off, sb.len - off,
			    BASE_MARK, BASE_MARK_LEN)) != NULL) {
				sb_add(&tmp, sb.buf + off,
				    (size_t)(m - (sb.buf + off)));
				sb_add(&tmp, basedir, basedir_len);
				off = (size_t)(m - sb.buf) + BASE_MARK_LEN;
			}
			sb_add(&tmp, sb.buf + off, sb.len - off);
			sb_check(&tmp);
			sb_free(&sb);
			sb = tmp;
		} else if (sb.len > 0 && memmem(sb.buf, sb.len, BASE_MARK,
		    BASE_MARK_LEN) != NULL) {
			sb_init(&tmp, 0);
			exact_to_pcre2(sb.buf, sb.len, &tmp);
			e->re = compile_pattern(&tmp, scen.path, lineno);
			sb_free(&tmp);
		}
		e->explen = sb.len;
		e->exp = sb_steal(&sb);
		if (e->exp == NULL)
			nomem();
		return;
	}
	formaterr(scen.path, lineno, "expected a \"< \" or \"<~ \" line "
	    "after the request");
}

static void
parse_calls(void)
{
	struct exchange *pending = NULL;
	struct strbuf sb;
	char *text, *comment = NULL;
	const char *line, *end, *nl, *why;
	size_t len, n, i, pos, lineno, col;
	enum sockid cur = SOCK_ADMIN;
	int fd;

	fd = open(scen.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		formaterr(scen.path, 0, "%s", strerror(errno));
	if (read_all_bounded(fd, MAX_CALLS, &text, &len) < 0)
		formaterr(scen.path, 0, "%s", errno == E2BIG ?
		    "file too large" : strerror(errno));
	close(fd);

	/* Only LF, TAB and printable ASCII. */
	for (i = 0, lineno = 1; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '\n')
			lineno++;
		else if (c == '\r')
			formaterr(scen.path, lineno, "CR in line (LF line "
			    "endings only)");
		else if (c != '\t' && (c < 0x20 || c > 0x7e))
			formaterr(scen.path, lineno, "byte 0x%02x: the file "
			    "must be printable ASCII", c);
	}

	end = text + len;
	for (pos = 0, lineno = 1; pos < len; pos += n + 1, lineno++) {
		line = text + pos;
		nl = memchr(line, '\n', (size_t)(end - line));
		n = nl != NULL ? (size_t)(nl - line) : (size_t)(end - line);

		if (pending != NULL) {
			if (line[0] != '<')
				formaterr(scen.path, lineno, "expected a "
				    "\"< \" or \"<~ \" line after the "
				    "request");
			set_expectation(pending, line, n, lineno);
			pending = NULL;
			free(comment);
			comment = NULL;
			continue;
		}
		if (is_blank(line, n))
			continue;
		if (line[0] == '#') {
			for (i = 0; i < n && (line[i] == '#' ||
			    line[i] == ' ' || line[i] == '\t'); i++)
				;
			while (n > i && (line[n - 1] == ' ' ||
			    line[n - 1] == '\t'))
				n--;
			if (n > i) {
				free(comment);
				comment = memdupz(line + i, n - i);
			}
			continue;
		}
		if (n >= 7 && memcmp(line, "@socket", 7) == 0) {
			for (i = 7; i < n && (line[i] == ' ' ||
			    line[i] == '\t'); i++)
				;
			while (n > i && (line[n - 1] == ' ' ||
			    line[n - 1] == '\t'))
				n--;
			for (cur = 0; cur < SOCK_COUNT; cur++)
				if (strlen(sockets[cur].name) == n - i &&
				    memcmp(sockets[cur].name, line + i,
				    n - i) == 0)
					break;
			if (cur == SOCK_COUNT || i == 7)
				formaterr(scen.path, lineno, "unknown socket "
				    "(admin, internal or misc)");
			continue;
		}
		if (line[0] == '>' && (n == 1 || line[1] == ' ')) {
			pending = new_exchange();
			pending->lineno = lineno;
			pending->sock = cur;
			pending->comment = comment;
			comment = NULL;
			sb_init(&sb, 0);
			if (n > 2 && unescape(line + 2, n - 2, &sb, &why,
			    &col) < 0)
				formaterr(scen.path, lineno, "column %zu: %s",
				    col + 2, why);
			pending->reqlen = sb.len;
			pending->req = sb_steal(&sb);
			if (pending->req == NULL)
				nomem();
			continue;
		}
		if (line[0] == '<')
			formaterr(scen.path, lineno, "response line without "
			    "a request");
		formaterr(scen.path, lineno, "unrecognised line");
	}
	if (pending != NULL)
		formaterr(scen.path, pending->lineno, "request without a "
		    "response line");
	free(comment);
	free(text);
}

static void
free_scenario(void)
{
	size_t i;

	for (i = 0; i < scen.nex; i++) {
		free(scen.ex[i].comment);
		free(scen.ex[i].req);
		free(scen.ex[i].exp);
		pcre2_code_free(scen.ex[i].re);
	}
	free(scen.ex);
	free(scen.name);
	scen.ex = NULL;
	scen.nex = scen.alloc = 0;
}

/* ------------------------------------------------------------ wire */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * One exchange: connect to path, send req, shut down the sending side,
 * read until EOF.  Returns 0 with the response in *untrusted_resp, or -1
 * with err filled in (the bytes received so far stay in *untrusted_resp).
 */
static int
do_exchange(const char *path, const char *req, size_t reqlen,
    long long timeout_ms, struct strbuf *untrusted_resp, char *err,
    size_t errlen)
{
	struct sockaddr_un sun;
	struct pollfd pfd;
	struct timeval tv;
	char untrusted_buf[65536];
	long long deadline, left;
	size_t off = 0, chunk;
	ssize_t w, r;
	int fd, flags, sending = 1, rc = -1;

	deadline = now_ms() + timeout_ms;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);	/* length checked */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* bounds a blocking connect when the backlog is full */
	tv.tv_sec = (time_t)(timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		snprintf(err, errlen, "connect %s: %s", path,
		    errno == EAGAIN ? "timed out" : strerror(errno));
		goto out;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		goto out;
	}
	if (reqlen == 0) {
		(void)shutdown(fd, SHUT_WR);
		sending = 0;
	}
	for (;;) {
		left = deadline - now_ms();
		if (left <= 0) {
			snprintf(err, errlen, "timeout after %.3gs%s",
			    (double)timeout_ms / 1000.0, sending ?
			    " while sending the request" : "");
			goto out;
		}
		pfd.fd = fd;
		pfd.events = POLLIN | (sending ? POLLOUT : 0);
		pfd.revents = 0;
		if (poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			goto out;
		}
		if (sending &&
		    (pfd.revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
			chunk = reqlen - off;
			if (chunk > 65536)
				chunk = 65536;
			w = send(fd, req + off, chunk, MSG_NOSIGNAL);
			if (w >= 0) {
				off += (size_t)w;
				if (off == reqlen) {
					(void)shutdown(fd, SHUT_WR);
					sending = 0;
				}
			} else if (errno == EPIPE || errno == ECONNRESET) {
				/* server gave up early: read what it sent */
				sending = 0;
			} else if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				snprintf(err, errlen, "send: %s",
				    strerror(errno));
				goto out;
			}
		}
		if ((pfd.revents & (POLLIN | POLLERR | POLLHUP)) == 0)
			continue;
		r = recv(fd, untrusted_buf, sizeof(untrusted_buf), 0);
		if (r > 0) {
			if (sb_add(untrusted_resp, untrusted_buf,
			    (size_t)r) < 0) {
				snprintf(err, errlen, "response longer than "
				    "%zu bytes", untrusted_resp->cap);
				goto out;
			}
			continue;
		}
		if (r == 0)
			break;
		if (errno == ECONNRESET)	/* an abort may show up so */
			break;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			continue;
		snprintf(err, errlen, "recv: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/* ------------------------------------------------------------ compare */

static int
matches(const struct exchange *e, const struct strbuf *untrusted_resp,
    char *err, size_t errlen)
{
	pcre2_match_data *md;
	PCRE2_UCHAR msg[256];
	int rc;

	if (e->re == NULL)
		return untrusted_resp->len == e->explen &&
		    (e->explen == 0 ||
		    memcmp(untrusted_resp->buf, e->exp, e->explen) == 0);
	md = pcre2_match_data_create_from_pattern(e->re, NULL);
	if (md == NULL)
		nomem();
	rc = pcre2_match(e->re, (PCRE2_SPTR)(untrusted_resp->buf ?
	    untrusted_resp->buf : ""), untrusted_resp->len, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	if (rc >= 0)
		return 1;
	if (rc != PCRE2_ERROR_NOMATCH) {
		pcre2_get_error_message(rc, msg, sizeof(msg));
		snprintf(err, errlen, "regex match error: %s", (char *)msg);
	}
	return 0;
}

static void
report(const struct exchange *e, const struct strbuf *untrusted_resp,
    const char *err)
{
	struct strbuf sb;
	const char *untrusted_got;
	size_t i, n, ws, untrusted_len = untrusted_resp->len;

	untrusted_got = untrusted_resp->buf ? untrusted_resp->buf : "";
	sb_init(&sb, 0);
	sb_addf(&sb, "FAIL %s/calls.txt:%zu", scen.name, e->lineno);
	if (e->comment != NULL)
		sb_addf(&sb, ": %s", e->comment);
	sb_addf(&sb, "\n  socket:   %s\n  request:  ", sockets[e->sock].name);
	sb_add_escaped(&sb, e->req, e->reqlen, SHOW_MAX);
	sb_adds(&sb, "\n  expected: ");
	if (e->is_regex) {
		sb_adds(&sb, "(regex) ");
		if (e->explen > SHOW_MAX) {
			sb_add(&sb, e->exp, SHOW_MAX);
			sb_addf(&sb, " ...[%zu more chars]",
			    e->explen - SHOW_MAX);
		} else
			sb_add(&sb, e->exp, e->explen);
	} else
		sb_add_escaped(&sb, e->exp, e->explen, SHOW_MAX);
	sb_adds(&sb, "\n  got:      ");
	sb_add_escaped(&sb, untrusted_got, untrusted_len, SHOW_MAX);
	if (err[0] != '\0')
		sb_addf(&sb, "   [%s]", err);
	sb_addc(&sb, '\n');
	if (!e->is_regex && e->re == NULL && err[0] == '\0') {
		n = untrusted_len < e->explen ? untrusted_len : e->explen;
		for (i = 0; i < n && untrusted_got[i] == e->exp[i]; i++)
			;
		sb_addf(&sb, "  first difference at byte %zu (expected %zu "
		    "bytes, got %zu)\n", i, e->explen, untrusted_len);
		if (i > SHOW_MAX / 4 * 3) {
			/* likely beyond what was shown above */
			ws = i - DIFF_BEFORE;
			sb_addf(&sb, "  expected from byte %zu: ", ws);
			sb_add_escaped(&sb, e->exp + ws, e->explen - ws >
			    DIFF_WINDOW ? DIFF_WINDOW : e->explen - ws,
			    SHOW_MAX);
			sb_addf(&sb, "\n  got from byte %zu:      ", ws);
			sb_add_escaped(&sb, untrusted_got + ws,
			    untrusted_len - ws > DIFF_WINDOW ? DIFF_WINDOW :
			    untrusted_len - ws, SHOW_MAX);
			sb_addc(&sb, '\n');
		}
	}
	sb_check(&sb);
	fwrite(sb.buf, 1, sb.len, stdout);
	fflush(stdout);
	sb_free(&sb);
}

/* ------------------------------------------------------------ main */

static char *
absolute_dir(const char *dir)
{
	struct strbuf sb;
	char cwd[4096];

	sb_init(&sb, 0);
	if (dir[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			fprintf(stderr, "replay: getcwd: %s\n",
			    strerror(errno));
			exit(2);
		}
		sb_adds(&sb, cwd);
		if (sb.len == 0 || sb.buf[sb.len - 1] != '/')
			sb_addc(&sb, '/');
	}
	sb_adds(&sb, dir);
	sb_check(&sb);
	while (sb.len > 1 && sb.buf[sb.len - 1] == '/')
		sb.buf[--sb.len] = '\0';
	return sb_steal(&sb);
}

static char *
scenario_name(const char *dir)
{
	size_t n = strlen(dir), s;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	for (s = n; s > 0 && dir[s - 1] != '/'; s--)
		;
	if (s == n)		/* "/" */
		return memdupz(dir, n);
	return memdupz(dir + s, n - s);
}

int
main(int argc, char *argv[])
{
	struct strbuf untrusted_resp, sb;
	struct sockaddr_un sun;
	const char *sockdir = NULL, *base_arg = NULL, *dir = NULL;
	const char *opt, *val;
	char *calls, *base = NULL, *sockpath[SOCK_COUNT], *endp;
	char err[512];
	size_t i, passed = 0, failed = 0, k;
	double secs = 10.0;
	long long timeout_ms;
	int quiet = 0, j;

	for (j = 1; j < argc; j++) {
		opt = argv[j];
		if (strcmp(opt, "--") == 0) {
			j++;
			break;
		}
		if (strcmp(opt, "-q") == 0 || strcmp(opt, "--quiet") == 0) {
			quiet = 1;
			continue;
		}
		if (strncmp(opt, "--", 2) != 0)
			break;
		if ((val = strchr(opt, '=')) != NULL) {
			k = (size_t)(val - opt);
			val++;
		} else {
			k = strlen(opt);
			if (j + 1 >= argc)
				usage();
			val = argv[++j];
		}
		if (k == 12 && strncmp(opt, "--socket-dir", k) == 0)
			sockdir = val;
		else if (k == 6 && strncmp(opt, "--base", k) == 0)
			base_arg = val;
		else if (k == 9 && strncmp(opt, "--timeout", k) == 0) {
			errno = 0;
			secs = strtod(val, &endp);
			if (errno != 0 || endp == val || *endp != '\0' ||
			    !isfinite(secs) || secs <= 0 || secs > 86400) {
				fprintf(stderr, "replay: bad --timeout %s\n",
				    val);
				exit(2);
			}
		} else
			usage();
	}
	if (j != argc - 1 || sockdir == NULL || argv[j][0] == '\0')
		usage();
	dir = argv[j];
	timeout_ms = (long long)(secs * 1000.0);
	if (timeout_ms < 1)
		timeout_ms = 1;

	if (base_arg != NULL) {
		base = absolute_dir(base_arg);
		basedir = base;
		basedir_len = strlen(base);
	}
	sb_init(&sb, 0);
	sb_addf(&sb, "%s/calls.txt", dir);
	sb_check(&sb);
	calls = sb_steal(&sb);
	scen.path = calls;
	scen.name = scenario_name(dir);
	parse_calls();

	for (k = 0; k < SOCK_COUNT; k++) {
		sb_init(&sb, 0);
		sb_addf(&sb, "%s/%s", sockdir, sockets[k].file);
		sb_check(&sb);
		if (sb.len >= sizeof(sun.sun_path)) {
			fprintf(stderr, "replay: socket path too long: %s\n",
			    sb.buf);
			exit(2);
		}
		sockpath[k] = sb_steal(&sb);
	}

	signal(SIGPIPE, SIG_IGN);
	sb_init(&untrusted_resp, MAX_RESPONSE);
	for (i = 0; i < scen.nex; i++) {
		const struct exchange *e = &scen.ex[i];

		sb_reset(&untrusted_resp);
		err[0] = '\0';
		if (do_exchange(sockpath[e->sock], e->req, e->reqlen,
		    timeout_ms, &untrusted_resp, err, sizeof(err)) == 0 &&
		    matches(e, &untrusted_resp, err, sizeof(err))) {
			passed++;
			continue;
		}
		failed++;
		report(e, &untrusted_resp, err);
	}
	if (!quiet)
		printf("%s: %zu passed, %zu failed\n", scen.name, passed,
		    failed);
	fflush(stdout);

	sb_free(&untrusted_resp);
	for (k = 0; k < SOCK_COUNT; k++)
		free(sockpath[k]);
	free_scenario();
	free(calls);
	free(base);
	return failed ? 1 : 0;
}
