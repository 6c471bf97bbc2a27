/*
 * test_qdb.c - broker/qdb.c, the QubesDB client: path rules, header
 * encoding and decoding, and the answers of READ and MULTIREAD as a
 * misbehaving or hostile daemon could send them (over a socketpair; a
 * child process plays the daemon), plus the deadline.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ioall.h"
#include "qdb.h"
#include "strbuf.h"
#include "unit.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- path rules */

#define A31	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct {
	const char	*p;
	int		 ok;
} paths[] = {
	{ "", 1 },
	{ "/", 1 },
	{ "/features-request/qrexec", 1 },
	{ "/a_b.c:d@e-f/G9", 1 },
	{ "-leading-dash", 0 },
	{ "/inner-dash-ok", 1 },
	{ "/space here", 0 },
	{ "/quote'", 0 },
	{ "/star*", 0 },
	{ "/tab\t", 0 },
	{ "/high\xc3\xa9", 0 },
	{ "/" A31 A31, 1 },
	{ "/" A31 A31 "a", 0 },
};

static void
test_paths(void)
{
	size_t i;

	for (i = 0; i < NELEM(paths); i++)
		is_int(qdb_path_valid(paths[i].p, strlen(paths[i].p)),
		    paths[i].ok, "path %s", unit_qs(paths[i].p));
}

/* ---- header encoding / decoding */

static void
put_hdr(unsigned char *h, unsigned type, const void *path, size_t plen,
    uint32_t len)
{
	memset(h, 0, QDB_HDR_SIZE);
	h[0] = (unsigned char)type;
	memcpy(h + QDB_OFF_PATH, path, plen);
	memcpy(h + QDB_OFF_LEN, &len, sizeof(len));
}

static void
test_encode(void)
{
	unsigned char h[QDB_HDR_SIZE], want[QDB_HDR_SIZE];

	ok(qdb_hdr_encode(h, QDB_CMD_MULTIREAD, "/features-request/", 0) == 0,
	    "encode multiread");
	put_hdr(want, 2, "/features-request/", 18, 0);
	is_mem(h, sizeof(h), want, sizeof(want), "multiread bytes");
	ok(h[0] == 2 && h[65] == 0 && h[68] == 0, "type 2, padding 0");
	ok(qdb_hdr_encode(h, QDB_CMD_READ, "/qubes-tools/os", 7) == 0,
	    "encode read");
	is_int(h[0], 0, "read is type 0");
	is_int(h[QDB_OFF_LEN], 7, "data_len low byte (host order)");
	is_int(qdb_hdr_encode(h, QDB_CMD_READ, "/bad path", 0), -1,
	    "encode refuses an invalid path");
	is_int(qdb_hdr_encode(h, 14, "/x", 0), -1, "encode refuses type 14");
}

static const struct {
	const char	*name;
	unsigned	 type;
	const char	*path;		/* NULL: 64 bytes, no NUL */
	size_t		 plen;
	uint32_t	 len;
	size_t		 buflen;
	const char	*why;		/* NULL: decodes */
} decodes[] = {
	{ "multiread entry", QDB_RESP_MULTIREAD, "/a/b", 4, 5, 72, NULL },
	{ "end marker", QDB_RESP_MULTIREAD, "", 0, 0, 72, NULL },
	{ "read answer", QDB_RESP_READ, "/x", 2, 3071, 72, NULL },
	{ "every response type: ok", QDB_RESP_OK, "/x", 2, 0, 72, NULL },
	{ "watch (decoded; the client refuses it)", QDB_RESP_WATCH, "/x", 2,
	    0, 72, NULL },
	{ "short buffer", QDB_RESP_READ, "/x", 2, 0, 71, "short header" },
	{ "command type", QDB_CMD_READ, "/x", 2, 0, 72,
	    "not a response type" },
	{ "unwatch command", QDB_CMD_UNWATCH, "/x", 2, 0, 72,
	    "not a response type" },
	{ "type 14", 14, "/x", 2, 0, 72, "not a response type" },
	{ "type 255", 255, "/x", 2, 0, 72, "not a response type" },
	{ "no NUL in path", QDB_RESP_READ, NULL, 64, 0, 72,
	    "path not terminated" },
	{ "space in path", QDB_RESP_READ, "/a b", 4, 0, 72, "invalid path" },
	{ "newline in path", QDB_RESP_READ, "/a\n", 3, 0, 72,
	    "invalid path" },
	{ "leading dash", QDB_RESP_READ, "-a", 2, 0, 72, "invalid path" },
	{ "data_len 3072", QDB_RESP_READ, "/x", 2, 3072, 72,
	    "data too long" },
	{ "data_len 2^32-1", QDB_RESP_READ, "/x", 2, 0xffffffffu, 72,
	    "data too long" },
};

static void
test_decode(void)
{
	unsigned char h[QDB_HDR_SIZE], full[QDB_MAX_PATH];
	struct qdb_hdr out;
	const char *why;
	size_t i;
	int rc;

	memset(full, 'a', sizeof(full));
	for (i = 0; i < NELEM(decodes); i++) {
		put_hdr(h, decodes[i].type, decodes[i].path ? decodes[i].path :
		    (const char *)full, decodes[i].plen, decodes[i].len);
		why = NULL;
		rc = qdb_hdr_decode(h, decodes[i].buflen, &out, &why);
		if (decodes[i].why == NULL) {
			if (!is_int(rc, 0, "decode %s", decodes[i].name))
				continue;
			is_int(out.type, decodes[i].type, "decode %s: type",
			    decodes[i].name);
			is_mem(out.path, strlen(out.path), decodes[i].path,
			    decodes[i].plen, "decode %s: path",
			    decodes[i].name);
			is_int(out.data_len, decodes[i].len, "decode %s: len",
			    decodes[i].name);
		} else {
			is_int(rc, -1, "decode %s fails", decodes[i].name);
			is_str(why, decodes[i].why, "decode %s: reason",
			    decodes[i].name);
		}
	}
	/* bytes after the path's NUL are ignored */
	put_hdr(h, QDB_RESP_LIST, "/p", 2, 0);
	memset(h + QDB_OFF_PATH + 3, 'z', 60);
	ok(qdb_hdr_decode(h, sizeof(h), &out, &why) == 0 &&
	    strcmp(out.path, "/p") == 0, "junk after the path NUL ignored");
}

/* ---- a fake daemon */

struct msg {
	int		 type;		/* -1: no more messages */
	const char	*path;		/* NULL: 64 bytes, no NUL */
	const char	*data;
	size_t		 dlen;
	long long	 len;		/* header data_len; -1: dlen */
	size_t		 cut;		/* bytes sent; 0: all */
};

#define MSG(t, p, d)	{ t, p, d, sizeof(d) - 1, -1, 0 }
#define MSGL(t, p, d, l) { t, p, d, sizeof(d) - 1, l, 0 }
#define MSGCUT(t, p, d, c) { t, p, d, sizeof(d) - 1, -1, c }
#define END		{ QDB_RESP_MULTIREAD, "", "", 0, -1, 0 }
#define NOMORE		{ -1, NULL, NULL, 0, 0, 0 }

static void
add_msg(struct strbuf *sb, const struct msg *m)
{
	unsigned char h[QDB_HDR_SIZE], full[QDB_MAX_PATH];
	size_t start = sb->len;
	uint32_t len = m->len < 0 ? (uint32_t)m->dlen : (uint32_t)m->len;

	memset(full, 'a', sizeof(full));
	if (m->path != NULL)
		put_hdr(h, (unsigned)m->type, m->path, strlen(m->path), len);
	else
		put_hdr(h, (unsigned)m->type, full, sizeof(full), len);
	sb_add(sb, h, sizeof(h));
	sb_add(sb, m->data, m->dlen);
	if (m->cut > 0)
		sb->len = start + m->cut;
}

/*
 * Run op against a child that writes `resp` then reads until EOF.
 * Returns the connection's result; *q_out stays open for inspection.
 */
struct run {
	struct qdb	*q;
	pid_t		 pid;
	int		 peer;
};

static int
daemon_start(struct run *rn, const struct strbuf *resp, int timeout_ms)
{
	int sv[2];
	const char *why;
	char buf[512];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	rn->pid = fork();
	if (rn->pid < 0)
		return -1;
	if (rn->pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		close(sv[0]);
		if (resp->len > 0)
			(void)write_all(sv[1], resp->buf, resp->len);
		shutdown(sv[1], SHUT_WR);
		while (read(sv[1], buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	close(sv[1]);
	rn->peer = -1;
	rn->q = qdb_open_fd(sv[0], timeout_ms, &why);
	return rn->q != NULL ? 0 : -1;
}

static void
daemon_end(struct run *rn)
{
	int st;

	qdb_close(rn->q);
	rn->q = NULL;
	waitpid(rn->pid, &st, 0);
}

static void
render(const struct qdb_entries *e, struct strbuf *sb)
{
	size_t i, j;

	for (i = 0; i < e->n; i++) {
		sb_addf(sb, "%s=", e->v[i].path);
		for (j = 0; j < e->v[i].len; j++) {
			unsigned char c = (unsigned char)e->v[i].value[j];

			if (c >= 0x20 && c < 0x7f && c != '\\')
				sb_addc(sb, (char)c);
			else
				sb_addf(sb, "\\x%02x", c);
		}
		sb_addc(sb, ';');
	}
}

#define FR	"/features-request/"

static const struct mr_case {
	const char	*name;
	struct msg	 msgs[6];
	const char	*why;		/* NULL: success */
	const char	*want;		/* rendered entries */
} mrs[] = {
	{ "nothing", { END, NOMORE }, NULL, "" },
	{ "two entries", { MSG(QDB_RESP_MULTIREAD, FR "gui", "1"),
	    MSG(QDB_RESP_MULTIREAD, FR "os", "Linux"), END, NOMORE }, NULL,
	    FR "gui=1;" FR "os=Linux;" },
	{ "empty value", { MSG(QDB_RESP_MULTIREAD, FR "x", ""), END, NOMORE },
	    NULL, FR "x=;" },
	{ "the daemon's order is kept", {
	    MSG(QDB_RESP_MULTIREAD, FR "b", "2"),
	    MSG(QDB_RESP_MULTIREAD, FR "a", "1"), END, NOMORE }, NULL,
	    FR "b=2;" FR "a=1;" },
	{ "high bytes pass the client (the caller judges)", {
	    MSG(QDB_RESP_MULTIREAD, FR "v", "\xff\x01"), END, NOMORE }, NULL,
	    FR "v=\\xff\\x01;" },
	{ "nested path", { MSG(QDB_RESP_MULTIREAD, FR "a/b", "1"), END,
	    NOMORE }, NULL, FR "a/b=1;" },
	{ "end marker with data", { MSGL(QDB_RESP_MULTIREAD, "", "x", -1),
	    NOMORE }, "data with the end marker", NULL },
	{ "entry outside the prefix", {
	    MSG(QDB_RESP_MULTIREAD, "/features-requestX", "1"), END, NOMORE },
	    "entry outside the prefix", NULL },
	{ "entry shorter than the prefix", {
	    MSG(QDB_RESP_MULTIREAD, "/features", "1"), END, NOMORE },
	    "entry outside the prefix", NULL },
	{ "entry repeated", { MSG(QDB_RESP_MULTIREAD, FR "a", "1"),
	    MSG(QDB_RESP_MULTIREAD, FR "a", "2"), END, NOMORE },
	    "entry repeated", NULL },
	{ "NUL inside a value", { MSG(QDB_RESP_MULTIREAD, FR "a", "1\0002"),
	    END, NOMORE }, "NUL byte in a value", NULL },
	{ "unknown type", { MSG(0x63, FR "a", ""), NOMORE },
	    "not a response type", NULL },
	{ "a command as answer", { MSG(QDB_CMD_WRITE, FR "a", "1"), NOMORE },
	    "not a response type", NULL },
	{ "read answer to multiread", { MSG(QDB_RESP_READ, FR "a", "1"),
	    NOMORE }, "unexpected answer type", NULL },
	{ "list answer to multiread", { MSG(QDB_RESP_LIST, FR "a", ""),
	    NOMORE }, "unexpected answer type", NULL },
	{ "error answer", { MSG(QDB_RESP_ERROR, FR, ""), NOMORE },
	    "QubesDB reported an error", NULL },
	{ "watch event", { MSG(QDB_RESP_WATCH, FR "a", ""), END, NOMORE },
	    "unexpected watch event", NULL },
	{ "path without NUL", { MSG(QDB_RESP_MULTIREAD, NULL, ""), NOMORE },
	    "path not terminated", NULL },
	{ "invalid path", { MSG(QDB_RESP_MULTIREAD, FR "a b", "1"), NOMORE },
	    "invalid path", NULL },
	{ "data_len 3072", { MSGL(QDB_RESP_MULTIREAD, FR "a", "", 3072),
	    NOMORE }, "data too long", NULL },
	{ "data_len 2^32-1", {
	    MSGL(QDB_RESP_MULTIREAD, FR "a", "", 0xffffffffLL), NOMORE },
	    "data too long", NULL },
	{ "header cut short", { MSGCUT(QDB_RESP_MULTIREAD, FR "a", "1", 30),
	    NOMORE }, "connection closed", NULL },
	{ "value cut short", { MSGL(QDB_RESP_MULTIREAD, FR "a", "12", 5),
	    NOMORE }, "connection closed", NULL },
	{ "no end marker", { MSG(QDB_RESP_MULTIREAD, FR "a", "1"), NOMORE },
	    "connection closed", NULL },
	{ "no answer at all", { NOMORE }, "connection closed", NULL },
};

static void
check_multiread(const char *name, const struct strbuf *resp,
    const char *why, const char *want)
{
	struct qdb_entries e;
	struct strbuf got;
	struct run rn;
	int rc;

	if (!ok(daemon_start(&rn, resp, 5000) == 0, "%s: start", name))
		return;
	rc = qdb_multiread(rn.q, FR, &e);
	if (why == NULL) {
		if (is_int(rc, 0, "%s: succeeds", name)) {
			sb_init(&got, 0);
			render(&e, &got);
			is_str(got.buf ? got.buf : "", want, "%s: entries",
			    name);
			sb_free(&got);
		} else {
			diag("reason: %s", qdb_error(rn.q));
		}
	} else {
		is_int(rc, -1, "%s: fails", name);
		is_str(qdb_error(rn.q), why, "%s: reason", name);
		ok(e.n == 0 && e.v == NULL, "%s: nothing returned", name);
	}
	qdb_entries_free(&e);
	daemon_end(&rn);
}

static void
test_multiread(void)
{
	struct strbuf resp;
	struct msg m = MSG(QDB_RESP_MULTIREAD, FR, "1");
	struct msg big = MSG(QDB_RESP_MULTIREAD, FR, "");
	struct msg end = END;
	char path[QDB_MAX_PATH], *val;
	size_t i, j;

	for (i = 0; i < NELEM(mrs); i++) {
		sb_init(&resp, 0);
		for (j = 0; mrs[i].msgs[j].type != -1; j++)
			add_msg(&resp, &mrs[i].msgs[j]);
		check_multiread(mrs[i].name, &resp, mrs[i].why, mrs[i].want);
		sb_free(&resp);
	}

	/* the entry bound: QDB_MAX_ENTRIES pass, one more does not */
	sb_init(&resp, 0);
	for (i = 0; i < QDB_MAX_ENTRIES; i++) {
		snprintf(path, sizeof(path), FR "e%04zu", i);
		m.path = path;
		add_msg(&resp, &m);
	}
	add_msg(&resp, &end);
	{
		struct qdb_entries e;
		struct run rn;

		if (ok(daemon_start(&rn, &resp, 5000) == 0, "512: start")) {
			is_int(qdb_multiread(rn.q, FR, &e), 0,
			    "%d entries accepted", QDB_MAX_ENTRIES);
			is_int((long long)e.n, QDB_MAX_ENTRIES, "all kept");
			qdb_entries_free(&e);
			daemon_end(&rn);
		}
	}
	resp.len -= QDB_HDR_SIZE;	/* drop the end marker */
	m.path = FR "one-more";
	add_msg(&resp, &m);
	add_msg(&resp, &end);
	check_multiread("one entry too many", &resp, "too many entries", NULL);
	sb_free(&resp);

	/* the size bound: 3071-byte values until the total passes 256 KiB */
	val = malloc(QDB_MAX_DATA - 1);
	if (val == NULL)
		return;
	memset(val, 'v', QDB_MAX_DATA - 1);
	big.data = val;
	big.dlen = QDB_MAX_DATA - 1;
	sb_init(&resp, 0);
	for (i = 0; i * (QDB_MAX_DATA - 1) <= QDB_MAX_TOTAL; i++) {
		snprintf(path, sizeof(path), FR "big%03zu", i);
		big.path = path;
		add_msg(&resp, &big);
	}
	add_msg(&resp, &end);
	check_multiread("more than 256 KiB", &resp, "answer too large", NULL);
	sb_free(&resp);
	free(val);
}

/* ---- READ */

static const struct rd_case {
	const char	*name;
	struct msg	 msgs[3];
	int		 rc;
	const char	*why;		/* rc -1 */
	const char	*value;		/* rc 1 */
	size_t		 vlen;
} rds[] = {
	{ "found", { MSG(QDB_RESP_READ, "/qubes-tools/os", "Windows"),
	    NOMORE }, 1, NULL, "Windows", 7 },
	{ "found empty", { MSG(QDB_RESP_READ, "/qubes-tools/os", ""),
	    NOMORE }, 1, NULL, "", 0 },
	{ "absent", { MSG(QDB_RESP_ERROR_NOENT, "/qubes-tools/os", ""),
	    NOMORE }, 0, NULL, NULL, 0 },
	{ "absent with data", {
	    MSGL(QDB_RESP_ERROR_NOENT, "/qubes-tools/os", "", 4), NOMORE },
	    -1, "data with an error answer", NULL, 0 },
	{ "error", { MSG(QDB_RESP_ERROR, "/qubes-tools/os", ""), NOMORE },
	    -1, "QubesDB reported an error", NULL, 0 },
	{ "answer for another path", {
	    MSG(QDB_RESP_READ, "/qubes-tools/gui", "1"), NOMORE }, -1,
	    "answer for another path", NULL, 0 },
	{ "multiread answer to read", {
	    MSG(QDB_RESP_MULTIREAD, "/qubes-tools/os", "1"), NOMORE }, -1,
	    "unexpected answer type", NULL, 0 },
	{ "NUL in the value", {
	    MSG(QDB_RESP_READ, "/qubes-tools/os", "Win\000dows"), NOMORE },
	    -1, "NUL byte in a value", NULL, 0 },
	{ "value cut short", {
	    MSGL(QDB_RESP_READ, "/qubes-tools/os", "Win", 7), NOMORE }, -1,
	    "connection closed", NULL, 0 },
	{ "watch first", { MSG(QDB_RESP_WATCH, "/qubes-tools/os", ""),
	    NOMORE }, -1, "unexpected watch event", NULL, 0 },
	{ "closed", { NOMORE }, -1, "connection closed", NULL, 0 },
};

static void
test_read(void)
{
	struct strbuf resp;
	struct run rn;
	char *v;
	size_t i, j, len;
	int rc;

	for (i = 0; i < NELEM(rds); i++) {
		sb_init(&resp, 0);
		for (j = 0; rds[i].msgs[j].type != -1; j++)
			add_msg(&resp, &rds[i].msgs[j]);
		if (!ok(daemon_start(&rn, &resp, 5000) == 0, "%s: start",
		    rds[i].name)) {
			sb_free(&resp);
			continue;
		}
		rc = qdb_read(rn.q, "/qubes-tools/os", &v, &len);
		is_int(rc, rds[i].rc, "read %s: result", rds[i].name);
		if (rds[i].rc == 1 && rc == 1)
			is_mem(v, len, rds[i].value, rds[i].vlen,
			    "read %s: value", rds[i].name);
		else if (rds[i].rc < 0)
			is_str(qdb_error(rn.q), rds[i].why, "read %s: reason",
			    rds[i].name);
		else
			ok(v == NULL && len == 0, "read %s: no value",
			    rds[i].name);
		free(v);
		daemon_end(&rn);
		sb_free(&resp);
	}
}

/* ---- the request bytes, the deadline, opening */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
test_wire_and_deadline(void)
{
	unsigned char req[QDB_HDR_SIZE], want[QDB_HDR_SIZE];
	struct qdb_entries e;
	struct qdb *q;
	const char *why = NULL;
	char *v, path[200];
	size_t len;
	double t0, dt;
	int sv[2];

	/* the request as sent: a bare header */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return;
	put_hdr(want, QDB_RESP_MULTIREAD, "", 0, 0);
	(void)write_all(sv[1], want, sizeof(want));
	q = qdb_open_fd(sv[0], 2000, &why);
	ok(q != NULL && qdb_multiread(q, FR, &e) == 0 && e.n == 0,
	    "multiread of an empty tree");
	ok(read(sv[1], req, sizeof(req)) == (ssize_t)sizeof(req),
	    "request is one header");
	put_hdr(want, QDB_CMD_MULTIREAD, FR, strlen(FR), 0);
	is_mem(req, sizeof(req), want, sizeof(want), "multiread request bytes");
	qdb_entries_free(&e);

	/* nobody answers: the deadline ends the wait */
	t0 = now();
	qdb_close(q);
	q = NULL;
	close(sv[1]);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return;
	q = qdb_open_fd(sv[0], 300, &why);
	t0 = now();
	is_int(q != NULL ? qdb_read(q, "/qubes-tools/os", &v, &len) : 9, -1,
	    "silent daemon: read fails");
	dt = now() - t0;
	is_str(qdb_error(q), "no answer in time", "silent daemon: reason");
	ok(dt >= 0.25 && dt < 2.0, "gave up after the deadline (%.3f s)", dt);
	ok(read(sv[1], req, sizeof(req)) == (ssize_t)sizeof(req),
	    "read request sent");
	put_hdr(want, QDB_CMD_READ, "/qubes-tools/os", 15, 0);
	is_mem(req, sizeof(req), want, sizeof(want), "read request bytes");
	/* the deadline covers the whole connection: nothing more works */
	t0 = now();
	is_int(qdb_multiread(q, FR, &e), -1, "later operation fails too");
	ok(now() - t0 < 0.2, "and at once");
	qdb_close(q);
	close(sv[1]);

	/* invalid request paths never leave the process */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return;
	q = qdb_open_fd(sv[0], 300, &why);
	is_int(qdb_read(q, "/bad path", &v, &len), -1, "bad request path");
	is_str(qdb_error(q), "invalid request path", "bad path: reason");
	qdb_close(q);
	close(sv[1]);

	/* opening */
	broker_set_run_dir("/nonexistent-run");
	ok(qdb_sock_path("work", path, sizeof(path)) == 0 &&
	    strcmp(path, "/nonexistent-run/qubes/qubesdb.work.sock") == 0,
	    "socket path under the run dir");
	is_int(qdb_sock_path("work", path, 20), -1, "socket path too long");
	why = NULL;
	errno = 0;
	q = qdb_open("work", 300, &why);
	ok(q == NULL && errno == ENOENT, "no socket: open fails");
	is_str(why, "no QubesDB socket", "no socket: reason");
	qdb_close(NULL);
	qdb_entries_free(NULL);
	is_str(qdb_error(NULL), "", "qdb_error(NULL)");
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_paths();
	test_encode();
	test_decode();
	test_multiread();
	test_read();
	test_wire_and_deadline();
	return done_testing();
}
