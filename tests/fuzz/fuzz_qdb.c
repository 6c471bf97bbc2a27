/*
 * fuzz_qdb.c - libFuzzer target for broker/qdb.c, the QubesDB client.
 *
 * FUZZ_SOURCES: broker/qdb.c broker/util.c broker/model.c
 *
 * The input plays the qubesdb daemon.  Its first byte picks the
 * operation (even: MULTIREAD of /features-request/, odd: READ of
 * /qubes-tools/os); the rest is the daemon's whole answer, written into
 * a socketpair that is then half-closed, so the client reads exactly
 * those bytes and then EOF.  Whatever they are, the client must not
 * crash, leak or wait, and what it accepts must obey its rules:
 *  - multiread: at most QDB_MAX_ENTRIES entries, QDB_MAX_TOTAL bytes,
 *    every path valid, under the prefix and shorter than 64 bytes, no
 *    path twice, values NUL-terminated without a NUL inside and shorter
 *    than QDB_MAX_DATA;
 *  - read: 1 with such a value, 0 without one, -1 with a reason;
 *  - every failure names a reason.
 * The first 72 bytes of the answer also go to qdb_hdr_decode() alone: a
 * decoded header has a response type, a valid path that is a prefix of
 * the raw path field followed by a NUL, and data_len < QDB_MAX_DATA.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ioall.h"
#include "qdb.h"

#define CHECK(x) do {							\
	if (!(x)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #x);					\
		abort();						\
	}								\
} while (0)

#define PREFIX	"/features-request/"
#define RPATH	"/qubes-tools/os"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_decode(const uint8_t *data, size_t size)
{
	struct qdb_hdr h;
	const char *why = NULL;
	size_t n;

	if (size < QDB_HDR_SIZE) {
		CHECK(qdb_hdr_decode(data, size, &h, &why) == -1);
		CHECK(why != NULL && *why != '\0');
		return;
	}
	if (qdb_hdr_decode(data, QDB_HDR_SIZE, &h, &why) < 0) {
		CHECK(why != NULL && *why != '\0');
		return;
	}
	CHECK(h.type >= QDB_RESP_OK && h.type < QDB_MSG_COUNT);
	CHECK(h.type == data[0]);
	n = strlen(h.path);
	CHECK(n < QDB_MAX_PATH);
	CHECK(memcmp(h.path, data + QDB_OFF_PATH, n) == 0);
	CHECK(data[QDB_OFF_PATH + n] == '\0');
	CHECK(qdb_path_valid(h.path, n));
	CHECK(h.data_len < QDB_MAX_DATA);
}

static void
check_value(const char *v, size_t len)
{
	CHECK(v != NULL);
	CHECK(len < QDB_MAX_DATA);
	CHECK(v[len] == '\0');
	CHECK(memchr(v, '\0', len) == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qdb_entries e;
	struct qdb *q;
	const char *why = NULL;
	size_t i, j, total = 0, plen = strlen(PREFIX), len;
	char *v;
	int sv[2], rc;

	if (size < 1)
		return 0;
	signal(SIGPIPE, SIG_IGN);
	check_decode(data + 1, size - 1);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	/* the answer fits in the socket buffer (max_len 32768) */
	if (size > 1 && write_all(sv[1], data + 1, size - 1) < 0) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	shutdown(sv[1], SHUT_WR);
	q = qdb_open_fd(sv[0], 2000, &why);
	CHECK(q != NULL);
	if (data[0] % 2 == 0) {
		rc = qdb_multiread(q, PREFIX, &e);
		if (rc < 0) {
			CHECK(*qdb_error(q) != '\0');
			CHECK(e.n == 0 && e.v == NULL);
		} else {
			CHECK(rc == 0);
			CHECK(e.n <= QDB_MAX_ENTRIES);
			for (i = 0; i < e.n; i++) {
				len = strlen(e.v[i].path);
				CHECK(len < QDB_MAX_PATH);
				CHECK(len >= plen &&
				    memcmp(e.v[i].path, PREFIX, plen) == 0);
				CHECK(qdb_path_valid(e.v[i].path, len));
				check_value(e.v[i].value, e.v[i].len);
				total += len + e.v[i].len;
				for (j = 0; j < i; j++)
					CHECK(strcmp(e.v[i].path,
					    e.v[j].path) != 0);
			}
			CHECK(total == e.total && total <= QDB_MAX_TOTAL);
		}
		qdb_entries_free(&e);
	} else {
		rc = qdb_read(q, RPATH, &v, &len);
		CHECK(rc >= -1 && rc <= 1);
		if (rc == 1)
			check_value(v, len);
		else
			CHECK(v == NULL && len == 0);
		if (rc < 0)
			CHECK(*qdb_error(q) != '\0');
		free(v);
	}
	qdb_close(q);
	close(sv[1]);
	return 0;
}
