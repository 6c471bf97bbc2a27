/*
 * fuzz_volimport.c - libFuzzer target for the parsers of the streaming
 * import (lib/volimport.c), the payload strippers (lib/pystrip.c) and
 * the clone-token lookup (broker/clonetok.c).
 *
 * The input goes, whole, to:
 *  - the size-line state machine, byte by byte: accepted iff a '\n'
 *    comes within 21 bytes and every byte before it is 0x20-0x7e, and
 *    the line is exactly those bytes;
 *  - volimport_parse_begin(): on success, "<size> <path>" printed back
 *    must be the input;
 *  - pystrip_str() / pystrip_bytes(): the result lies inside the input,
 *    has no stripped class at either end, and only that class was cut;
 *  - clonetok_take(): never matches unless the input is the pending
 *    token (which it cannot guess), and never consumes it;
 *  - volimport_copy_fd(): the input (minus two length bytes) is the
 *    stream, the first two bytes the requested size; the outcome and the
 *    bytes landing in the (memfd) target are checked against the rules
 *    of storage.md 7.9.
 */
/* FUZZ_SOURCES: broker/clonetok.c */
#include <sys/mman.h>

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clonetok.h"
#include "log.h"
#include "pystrip.h"
#include "volimport.h"

#define CHECK(x) do {							\
	if (!(x)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #x);					\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_line(const uint8_t *data, size_t size)
{
	struct volimport_line l;
	size_t i, nl = SIZE_MAX;
	int rc = 0, want = 0;

	memset(&l, 0, sizeof(l));
	for (i = 0; i < size; i++) {
		rc = volimport_line_byte(&l, data[i]);
		if (rc != 0)
			break;
	}
	/* the independent formulation */
	for (i = 0; i < size && i < VOLIMPORT_LINE_MAX; i++) {
		if (data[i] == '\n') {
			nl = i;
			want = 1;
			break;
		}
		if (data[i] < 0x20 || data[i] > 0x7e) {
			want = -1;
			break;
		}
	}
	if (want == 0 && size >= VOLIMPORT_LINE_MAX)
		want = -1;
	CHECK(rc == want);
	if (rc == 1) {
		CHECK(l.len == nl);
		CHECK(memcmp(l.buf, data, nl) == 0 && l.buf[nl] == '\0');
		CHECK(l.seen == nl + 1);
	}
}

static void
check_begin(const uint8_t *data, size_t size)
{
	char path[4096], back[4200];
	uint64_t n;
	int len;

	if (volimport_parse_begin(data, size, &n, path, sizeof(path)) < 0)
		return;
	len = snprintf(back, sizeof(back), "%" PRIu64 " %s", n, path);
	CHECK(len > 0 && (size_t)len == size);
	CHECK(memcmp(back, data, size) == 0);
	CHECK(path[0] == '/' && strchr(path, ' ') == NULL);
}

static void
check_strip(const uint8_t *data, size_t size,
    const unsigned char *(*strip)(const unsigned char *, size_t, size_t *),
    int (*is_space)(unsigned char))
{
	const unsigned char *p;
	size_t n, i;

	p = strip(data, size, &n);
	CHECK(p >= data && p + n <= data + size);
	if (n > 0)
		CHECK(!is_space(p[0]) && !is_space(p[n - 1]));
	for (i = 0; data + i < p; i++)
		CHECK(is_space(data[i]));
	for (i = (size_t)(p - data) + n; i < size; i++)
		CHECK(is_space(data[i]));
}

static void
check_token(const uint8_t *data, size_t size)
{
	static char token[CLONETOK_LEN + 1];
	static int issued;
	static const struct clonetok_src src = { "work", "private",
	    "varlibqubes", "appvms/work/private" };
	struct clonetok_src got;

	if (!issued) {
		log_set_quiet(1);
		CHECK(clonetok_issue(&src, token) == 0);
		issued = 1;
	}
	if (size == CLONETOK_LEN && memcmp(data, token, size) == 0)
		return;		/* a guessed token: not a finding */
	CHECK(clonetok_take((const char *)data, size, &got) == 0);
	CHECK(got.vm == NULL);
	CHECK(clonetok_count() == 1);
}

static void
check_copy(const uint8_t *data, size_t size)
{
	struct volimport_result res;
	unsigned char *out;
	size_t want, in_len, i, cmp;
	int in, fd;

	if (size < 2)
		return;
	want = ((size_t)data[0] << 8 | data[1]) % 4096;
	data += 2;
	in_len = size - 2;
	in = memfd_create("in", MFD_CLOEXEC);
	fd = memfd_create("out", MFD_CLOEXEC);
	CHECK(in >= 0 && fd >= 0);
	CHECK(in_len == 0 || write(in, data, in_len) == (ssize_t)in_len);
	CHECK(lseek(in, 0, SEEK_SET) == 0);
	CHECK(ftruncate(fd, (off_t)want) == 0);
	volimport_copy_fd(in, fd, want, NULL, &res);
	if (in_len == want)
		CHECK(res.outcome == VOLIMPORT_OK);
	else if (in_len < want)
		CHECK(res.outcome == VOLIMPORT_SHORT && res.copied == in_len);
	else
		CHECK(res.outcome == VOLIMPORT_LONG && res.copied == want);
	/* the target: the copied head, zeros after, length kept */
	CHECK(lseek(fd, 0, SEEK_END) == (off_t)want);
	out = calloc(1, want + 1);
	CHECK(out != NULL);
	CHECK(pread(fd, out, want, 0) == (ssize_t)want);
	cmp = in_len < want ? in_len : want;
	CHECK(memcmp(out, data, cmp) == 0);
	for (i = cmp; i < want; i++)
		CHECK(out[i] == 0);
	free(out);
	close(in);
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_line(data, size);
	check_begin(data, size);
	check_strip(data, size, pystrip_str, pystrip_is_str_space);
	check_strip(data, size, pystrip_bytes, pystrip_is_bytes_space);
	check_token(data, size);
	check_copy(data, size);
	return 0;
}
