/*
 * volimport.c - pieces of the streaming import service; see volimport.h.
 *
 * The copy reproduces
 *	dd bs=128K of=PATH count=SIZE iflag=count_bytes,fullblock
 *	    conv=sparse,notrunc,nocreat,fdatasync
 * of the reference script plus its two checks (bytes copied, one byte
 * more), with the byte accounting done here instead of parsing dd's
 * statistics: no shell, no dd, no sudo.
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "frame.h"
#include "ioall.h"
#include "validate.h"
#include "volimport.h"

int
volimport_line_byte(struct volimport_line *l, unsigned char c)
{
	if (l->bad || l->seen >= VOLIMPORT_LINE_MAX)
		return -1;
	l->seen++;
	if (c == '\n') {
		l->buf[l->len] = '\0';
		return 1;
	}
	/* the '\n' must come within VOLIMPORT_LINE_MAX bytes; a refusal
	 * is final */
	if (c < 0x20 || c > 0x7e || l->seen == VOLIMPORT_LINE_MAX) {
		l->bad = 1;
		return -1;
	}
	l->buf[l->len++] = (char)c;
	return 0;
}

int
volimport_read_line(int fd, struct volimport_line *l)
{
	unsigned char c;
	ssize_t n;
	int rc;

	memset(l, 0, sizeof(*l));
	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = ENODATA;
			return -1;
		}
		rc = volimport_line_byte(l, c);
		if (rc == 1)
			return 0;
		if (rc < 0) {
			errno = EINVAL;
			return -1;
		}
	}
}

int
volimport_parse_begin(const unsigned char *untrusted_body, size_t len,
    uint64_t *size, char *path, size_t pathlen)
{
	const unsigned char *sp, *untrusted_path;
	size_t nlen, plen, i;

	/* sanitize start */
	sp = memchr(untrusted_body, ' ', len);
	if (sp == NULL)
		return -1;
	nlen = (size_t)(sp - untrusted_body);
	if (parse_size((const char *)untrusted_body, nlen, size) < 0)
		return -1;
	untrusted_path = sp + 1;
	plen = len - nlen - 1;
	if (plen == 0 || plen >= pathlen || untrusted_path[0] != '/')
		return -1;
	for (i = 0; i < plen; i++)
		if (untrusted_path[i] <= 0x20 || untrusted_path[i] == 0x7f)
			return -1;
	/* sanitize end */
	memcpy(path, untrusted_path, plen);
	path[plen] = '\0';
	return 0;
}

static void
fail(struct volimport_result *res, const char *step, int err)
{
	res->outcome = VOLIMPORT_COPY_ERROR;
	res->step = step;
	res->err = err;
}

static int
stopped(const volatile sig_atomic_t *stop)
{
	return stop != NULL && *stop;
}

/*
 * Read up to want bytes, as many as the input has (iflag=fullblock).
 * Returns the count (< want only at end of input) or -1.
 */
static ssize_t
read_full(int fd, unsigned char *buf, size_t want,
    const volatile sig_atomic_t *stop)
{
	size_t got = 0;
	ssize_t n;

	while (got < want) {
		n = read(fd, buf + got, want - got);
		if (n < 0 && errno == EINTR) {
			if (stopped(stop))
				return -1;
			continue;
		}
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int
all_zero(const unsigned char *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

void
volimport_copy_fd(int in, int out, uint64_t size,
    const volatile sig_atomic_t *stop, struct volimport_result *res)
{
	unsigned char *buf, extra;
	struct stat st;
	uint64_t left;
	size_t want;
	ssize_t n;
	int seeked = 0;

	memset(res, 0, sizeof(*res));
	buf = malloc(VOLIMPORT_BLOCK);
	if (buf == NULL) {
		fail(res, "malloc", errno);
		return;
	}
	while (res->copied < size) {
		if (stopped(stop)) {
			fail(res, "interrupted", EINTR);
			goto out;
		}
		left = size - res->copied;
		want = left < VOLIMPORT_BLOCK ? (size_t)left : VOLIMPORT_BLOCK;
		n = read_full(in, buf, want, stop);
		if (n < 0) {
			fail(res, "read", errno);
			goto out;
		}
		if (n == 0)
			break;
		/* conv=sparse: the target is zero-filled already */
		if (all_zero(buf, (size_t)n)) {
			if (lseek(out, (off_t)n, SEEK_CUR) < 0) {
				fail(res, "seek", errno);
				goto out;
			}
			seeked = 1;
		} else {
			if (write_all(out, buf, (size_t)n) < 0) {
				fail(res, "write", errno);
				goto out;
			}
			seeked = 0;
		}
		res->copied += (uint64_t)n;
		if ((size_t)n < want)
			break;
	}
	if (stopped(stop)) {
		fail(res, "interrupted", EINTR);
		goto out;
	}
	/* as dd: a file that ends in a seeked-over block gets its length */
	if (seeked && fstat(out, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size < res->copied &&
	    ftruncate(out, (off_t)res->copied) < 0) {
		fail(res, "truncate", errno);
		goto out;
	}
	if (fdatasync(out) < 0) {
		fail(res, "fdatasync", errno);
		goto out;
	}
	if (res->copied < size) {
		res->outcome = VOLIMPORT_SHORT;
		goto out;
	}
	/* one byte more (or a failing read) is too much data */
	do {
		n = read(in, &extra, 1);
	} while (n < 0 && errno == EINTR && !stopped(stop));
	if (stopped(stop))
		fail(res, "interrupted", EINTR);
	else if (n != 0)
		res->outcome = VOLIMPORT_LONG;
out:
	free(buf);
}

void
volimport_copy_path(int in, const char *path, uint64_t size,
    const volatile sig_atomic_t *stop, struct volimport_result *res)
{
	int fd, save;

	memset(res, 0, sizeof(*res));
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		fail(res, "open", errno);
		return;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		save = errno;
		close(fd);
		fail(res, "lock (another import into the same target?)",
		    save);
		return;
	}
	volimport_copy_fd(in, fd, size, stop, res);
	if (close(fd) < 0 && res->outcome != VOLIMPORT_COPY_ERROR)
		fail(res, "close", errno);
}

size_t
volimport_status(const struct volimport_result *res, uint64_t size,
    char *buf, size_t len)
{
	int n;

	switch (res->outcome) {
	case VOLIMPORT_OK:
		n = snprintf(buf, len, "ok");
		break;
	case VOLIMPORT_COPY_ERROR:
		n = snprintf(buf, len, "fail\nerror copying data");
		break;
	case VOLIMPORT_SHORT:
		n = snprintf(buf, len, "fail\nnot enough data (copied %"
		    PRIu64 " bytes, expected %" PRIu64 " bytes)",
		    res->copied, size);
		break;
	case VOLIMPORT_LONG:
		n = snprintf(buf, len, "fail\ntoo much data (expected %"
		    PRIu64 " bytes)", size);
		break;
	default:
		n = -1;
		break;
	}
	if (n < 0 || (size_t)n >= len)
		return 0;
	return (size_t)n;
}

int
volimport_call(const char *path, const char *method, const char *arg,
    const char *src, const char *dest, const void *payload, size_t plen,
    struct strbuf *reply)
{
	struct strbuf req;
	char buf[16384];
	ssize_t n;
	int fd, moved, save, rc = -1;

	sb_init(&req, API_REQUEST_MAX);
	frame_build_request(&req, method, arg, src, dest, payload, plen);
	if (!sb_ok(&req)) {
		sb_free(&req);
		errno = E2BIG;
		return -1;
	}
	fd = unix_connect(path);
	if (fd < 0) {
		save = errno;
		sb_free(&req);
		errno = save;
		return -1;
	}
	/* with fd 0-2 closed the socket must not stand in for them */
	if (fd <= STDERR_FILENO) {
		moved = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
		save = errno;
		close(fd);
		if (moved < 0) {
			sb_free(&req);
			errno = save;
			return -1;
		}
		fd = moved;
	}
	/* a broker that closes early answers nothing: read that below */
	if (write_all(fd, req.buf, req.len) < 0 && errno != EPIPE &&
	    errno != ECONNRESET)
		goto out;
	if (shutdown(fd, SHUT_WR) < 0 && errno != ENOTCONN)
		goto out;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ECONNRESET)
			break;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (reply->len + (size_t)n > VOLIMPORT_REPLY_MAX ||
		    sb_add(reply, buf, (size_t)n) < 0) {
			errno = E2BIG;
			goto out;
		}
	}
	rc = 0;
out:
	save = errno;
	close(fd);
	sb_free(&req);
	errno = save;
	return rc;
}
