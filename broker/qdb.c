/*
 * qdb.c - QubesDB client (see qdb.h for the protocol and the rules).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qdb.h"
#include "util.h"

struct qdb {
	int		 fd;
	long long	 deadline;	/* monotonic ms */
	const char	*err;
};

/* The daemon's header is a C struct; make sure our offsets are its. */
struct qdb_hdr_layout {
	uint8_t		type;
	char		path[QDB_MAX_PATH];
	uint32_t	data_len;
};
_Static_assert(sizeof(struct qdb_hdr_layout) == QDB_HDR_SIZE,
    "qdb header size");
_Static_assert(offsetof(struct qdb_hdr_layout, path) == QDB_OFF_PATH,
    "qdb path offset");
_Static_assert(offsetof(struct qdb_hdr_layout, data_len) == QDB_OFF_LEN,
    "qdb data_len offset");

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- pure helpers */

int
qdb_path_valid(const char *p, size_t len)
{
	size_t i;
	char ch;

	if (len >= QDB_MAX_PATH)
		return 0;
	for (i = 0; i < len; i++) {
		ch = p[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9'))
			continue;
		switch (ch) {
		case '-':
			if (i == 0)
				return 0;	/* no leading dash */
			break;
		case '_':
		case '/':
		case '.':
		case ':':
		case '@':
			break;
		default:
			return 0;
		}
	}
	return 1;
}

int
qdb_hdr_encode(unsigned char out[QDB_HDR_SIZE], unsigned type,
    const char *path, uint32_t data_len)
{
	size_t n = strlen(path);

	if (type >= QDB_MSG_COUNT || !qdb_path_valid(path, n))
		return -1;
	memset(out, 0, QDB_HDR_SIZE);
	out[0] = (unsigned char)type;
	memcpy(out + QDB_OFF_PATH, path, n);
	memcpy(out + QDB_OFF_LEN, &data_len, sizeof(data_len));
	return 0;
}

int
qdb_hdr_decode(const unsigned char *untrusted_buf, size_t len,
    struct qdb_hdr *out, const char **why)
{
	const unsigned char *nul;
	uint32_t untrusted_len;
	size_t plen;

	/* sanitize start */
	if (len != QDB_HDR_SIZE) {
		*why = "short header";
		return -1;
	}
	if (untrusted_buf[0] < QDB_RESP_OK ||
	    untrusted_buf[0] >= QDB_MSG_COUNT) {
		*why = "not a response type";
		return -1;
	}
	nul = memchr(untrusted_buf + QDB_OFF_PATH, '\0', QDB_MAX_PATH);
	if (nul == NULL) {
		*why = "path not terminated";
		return -1;
	}
	plen = (size_t)(nul - (untrusted_buf + QDB_OFF_PATH));
	if (!qdb_path_valid((const char *)untrusted_buf + QDB_OFF_PATH, plen)) {
		*why = "invalid path";
		return -1;
	}
	memcpy(&untrusted_len, untrusted_buf + QDB_OFF_LEN,
	    sizeof(untrusted_len));
	if (untrusted_len >= QDB_MAX_DATA) {
		*why = "data too long";
		return -1;
	}
	/* sanitize end */
	out->type = untrusted_buf[0];
	memcpy(out->path, untrusted_buf + QDB_OFF_PATH, plen);
	out->path[plen] = '\0';
	out->data_len = untrusted_len;
	return 0;
}

void
qdb_entries_free(struct qdb_entries *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n; i++) {
		free(e->v[i].path);
		free(e->v[i].value);
	}
	free(e->v);
	memset(e, 0, sizeof(*e));
}

/* ---- connection */

int
qdb_sock_path(const char *name, char *buf, size_t len)
{
	int n;

	n = snprintf(buf, len, "%s/qubes/qubesdb.%s.sock", broker_run_dir(),
	    name);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int
fail(struct qdb *q, const char *why)
{
	q->err = why;
	return -1;
}

/* Wait until fd is ready for ev, at most until the deadline. */
static int
wait_fd(struct qdb *q, short ev)
{
	struct pollfd p;
	long long left;
	int n;

	for (;;) {
		left = q->deadline - mono_ms();
		if (left <= 0)
			return fail(q, "no answer in time");
		p.fd = q->fd;
		p.events = ev;
		p.revents = 0;
		n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n < 0 && errno != EINTR)
			return fail(q, "poll failed");
		if (n > 0)
			return 0;	/* read/write tell what happened */
	}
}

static int
send_all(struct qdb *q, const unsigned char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(q->fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (wait_fd(q, POLLOUT) < 0)
					return -1;
				continue;
			}
			return fail(q, "write failed");
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
recv_exact(struct qdb *q, unsigned char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = read(q->fd, p, len);
		if (n == 0)
			return fail(q, "connection closed");
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (wait_fd(q, POLLIN) < 0)
					return -1;
				continue;
			}
			return fail(q, "read failed");
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

struct qdb *
qdb_open_fd(int fd, int timeout_ms, const char **why)
{
	struct qdb *q;
	int fl;

	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		*why = "cannot make the socket non-blocking";
		close(fd);
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (q == NULL) {
		*why = "out of memory";
		close(fd);
		return NULL;
	}
	q->fd = fd;
	q->deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	q->err = "";
	return q;
}

struct qdb *
qdb_open_path(const char *path, int timeout_ms, const char **why)
{
	struct sockaddr_un sun;
	size_t n = strlen(path);
	int fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (n >= sizeof(sun.sun_path)) {
		*why = "socket path too long";
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(sun.sun_path, path, n + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		*why = "socket failed";
		return NULL;
	}
	/* a UNIX stream connect completes at once or fails (EAGAIN: the
	 * daemon's backlog is full, i.e. it does not accept) */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		*why = errno == ENOENT ? "no QubesDB socket" :
		    "cannot connect to QubesDB";
		return NULL;
	}
	return qdb_open_fd(fd, timeout_ms, why);
}

struct qdb *
qdb_open(const char *name, int timeout_ms, const char **why)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];

	if (qdb_sock_path(name, path, sizeof(path)) < 0) {
		*why = "socket path too long";
		errno = ENAMETOOLONG;
		return NULL;
	}
	return qdb_open_path(path, timeout_ms, why);
}

void
qdb_close(struct qdb *q)
{
	if (q == NULL)
		return;
	close(q->fd);
	free(q);
}

const char *
qdb_error(const struct qdb *q)
{
	return q != NULL && q->err != NULL ? q->err : "";
}

static int
send_cmd(struct qdb *q, unsigned type, const char *path)
{
	unsigned char h[QDB_HDR_SIZE];

	if (qdb_hdr_encode(h, type, path, 0) < 0)
		return fail(q, "invalid request path");
	return send_all(q, h, sizeof(h));
}

/* One response header; watch events are an error (we register none). */
static int
recv_hdr(struct qdb *q, struct qdb_hdr *h)
{
	unsigned char untrusted_buf[QDB_HDR_SIZE];
	const char *why;

	if (recv_exact(q, untrusted_buf, sizeof(untrusted_buf)) < 0)
		return -1;
	if (qdb_hdr_decode(untrusted_buf, sizeof(untrusted_buf), h, &why) < 0)
		return fail(q, why);
	if (h->type == QDB_RESP_WATCH)
		return fail(q, "unexpected watch event");
	return 0;
}

/* The value of a header: len bytes, no NUL; malloc'd, NUL-terminated. */
static int
recv_value(struct qdb *q, size_t len, char **out)
{
	char *v;

	v = malloc(len + 1);
	if (v == NULL)
		return fail(q, "out of memory");
	if (recv_exact(q, (unsigned char *)v, len) < 0) {
		free(v);
		return -1;
	}
	/* sanitize start */
	if (memchr(v, '\0', len) != NULL) {
		free(v);
		return fail(q, "NUL byte in a value");
	}
	/* sanitize end */
	v[len] = '\0';
	*out = v;
	return 0;
}

int
qdb_read(struct qdb *q, const char *path, char **value, size_t *len)
{
	struct qdb_hdr h;

	*value = NULL;
	*len = 0;
	if (send_cmd(q, QDB_CMD_READ, path) < 0 || recv_hdr(q, &h) < 0)
		return -1;
	/* the daemon answers with the request's own path */
	if (strcmp(h.path, path) != 0)
		return fail(q, "answer for another path");
	switch (h.type) {
	case QDB_RESP_READ:
		if (recv_value(q, h.data_len, value) < 0)
			return -1;
		*len = h.data_len;
		return 1;
	case QDB_RESP_ERROR_NOENT:
		if (h.data_len != 0)
			return fail(q, "data with an error answer");
		return 0;
	case QDB_RESP_ERROR:
		return fail(q, "QubesDB reported an error");
	default:
		return fail(q, "unexpected answer type");
	}
}

static int
has_path(const struct qdb_entries *e, const char *path)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->v[i].path, path) == 0)
			return 1;
	return 0;
}

int
qdb_multiread(struct qdb *q, const char *prefix, struct qdb_entries *out)
{
	struct qdb_hdr h;
	struct qdb_entry *nv;
	size_t plen = strlen(prefix), n;
	char *value, *path;

	memset(out, 0, sizeof(*out));
	if (send_cmd(q, QDB_CMD_MULTIREAD, prefix) < 0)
		return -1;
	for (;;) {
		if (recv_hdr(q, &h) < 0)
			goto err;
		if (h.type == QDB_RESP_ERROR) {
			fail(q, "QubesDB reported an error");
			goto err;
		}
		if (h.type != QDB_RESP_MULTIREAD) {
			fail(q, "unexpected answer type");
			goto err;
		}
		if (h.path[0] == '\0') {
			if (h.data_len != 0) {
				fail(q, "data with the end marker");
				goto err;
			}
			return 0;
		}
		n = strlen(h.path);
		/* sanitize start */
		if (n < plen || memcmp(h.path, prefix, plen) != 0) {
			fail(q, "entry outside the prefix");
			goto err;
		}
		if (out->n == QDB_MAX_ENTRIES) {
			fail(q, "too many entries");
			goto err;
		}
		if (out->total + n + h.data_len > QDB_MAX_TOTAL) {
			fail(q, "answer too large");
			goto err;
		}
		if (has_path(out, h.path)) {
			fail(q, "entry repeated");
			goto err;
		}
		/* sanitize end */
		if (recv_value(q, h.data_len, &value) < 0)
			goto err;
		path = strdup(h.path);
		nv = realloc(out->v, (out->n + 1) * sizeof(*out->v));
		if (path == NULL || nv == NULL) {
			free(path);
			free(value);
			if (nv != NULL)
				out->v = nv;
			fail(q, "out of memory");
			goto err;
		}
		out->v = nv;
		out->v[out->n].path = path;
		out->v[out->n].value = value;
		out->v[out->n].len = h.data_len;
		out->n++;
		out->total += n + h.data_len;
	}
err:
	qdb_entries_free(out);
	return -1;
}
