/*
 * test_volimport.c - case tables for the streaming import service
 * (storage.md 7.9): lib/volimport.c (size line, ImportBegin reply, the
 * byte-exact copy, ImportEnd status) and the import parts of
 * lib/service.c (service_check_stream, service_serves_stream,
 * service_link_exe).
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "service.h"
#include "volimport.h"
#include "unit.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define S(x)		{ x, sizeof(x) - 1 }
#define U		{ NULL, 0 }
#define RPC		"/etc/qubes-rpc/"

/* ---- the size line */

struct line_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	int		 rc;		/* final volimport_line_byte() result */
	size_t		 used;		/* bytes consumed */
	const char	*line;		/* when rc == 1 */
};

#define L(n, s, rc, used, line)	{ n, s, sizeof(s) - 1, rc, used, line }

static const struct line_case line_cases[] = {
	L("size", "4096\n", 1, 5, "4096"),
	L("empty line", "\n", 1, 1, ""),
	L("data after the line", "12\nabc", 1, 3, "12"),
	L("20 bytes", "12345678901234567890\n", 1, 21, "12345678901234567890"),
	L("21 bytes", "123456789012345678901\n", -1, 21, NULL),
	L("printable but not digits", "a b~\n", 1, 5, "a b~"),
	L("tab", "12\t\n", -1, 3, NULL),
	L("NUL", "1\0002\n", -1, 2, NULL),
	L("CR", "12\r\n", -1, 3, NULL),
	L("DEL", "\x7f\n", -1, 1, NULL),
	L("high byte", "1\xc3\xa9\n", -1, 2, NULL),
	L("no newline yet", "4096", 0, 4, NULL),
};

static void
test_line(void)
{
	struct volimport_line l;
	const struct line_case *c;
	size_t i, j;
	int rc;

	for (i = 0; i < NELEM(line_cases); i++) {
		c = &line_cases[i];
		memset(&l, 0, sizeof(l));
		rc = 0;
		for (j = 0; j < c->len; j++) {
			rc = volimport_line_byte(&l, (unsigned char)c->in[j]);
			if (rc != 0)
				break;
		}
		is_int(rc, c->rc, "line %s: result", c->name);
		is_int((long long)l.seen, (long long)c->used,
		    "line %s: bytes consumed", c->name);
		if (c->line != NULL)
			is_str(l.buf, c->line, "line %s: text", c->name);
	}
	/* after a refusal every further byte is refused */
	memset(&l, 0, sizeof(l));
	volimport_line_byte(&l, 0x01);
	is_int(volimport_line_byte(&l, '\n'), -1, "line: stays refused");
}

static int
pipe_with(const char *data, size_t len, int close_writer, int *wfd)
{
	int p[2];

	if (pipe(p) < 0)
		return -1;
	if (len > 0 && write(p[1], data, len) != (ssize_t)len)
		return -1;
	if (close_writer) {
		close(p[1]);
		p[1] = -1;
	}
	if (wfd != NULL)
		*wfd = p[1];
	return p[0];
}

static void
test_read_line(void)
{
	struct volimport_line l;
	char rest[16];
	int fd;
	ssize_t n;

	fd = pipe_with("4096\nDATA", 9, 1, NULL);
	is_int(volimport_read_line(fd, &l), 0, "read_line: ok");
	is_str(l.buf, "4096", "read_line: text");
	n = read(fd, rest, sizeof(rest));
	is_mem(rest, n > 0 ? (size_t)n : 0, "DATA", 4,
	    "read_line: nothing read past the newline");
	close(fd);

	fd = pipe_with("409", 3, 1, NULL);
	errno = 0;
	is_int(volimport_read_line(fd, &l), -1, "read_line: EOF");
	is_int(errno, ENODATA, "read_line: EOF is ENODATA");
	close(fd);

	fd = pipe_with("40\x01\n", 4, 1, NULL);
	errno = 0;
	is_int(volimport_read_line(fd, &l), -1, "read_line: control byte");
	is_int(errno, EINVAL, "read_line: control byte is EINVAL");
	close(fd);

	fd = pipe_with("1234567890123456789012\n", 23, 1, NULL);
	is_int(volimport_read_line(fd, &l), -1, "read_line: too long");
	n = read(fd, rest, sizeof(rest));
	is_mem(rest, n > 0 ? (size_t)n : 0, "2\n", 2,
	    "read_line: stops after 21 bytes");
	close(fd);
}

/* ---- the ImportBegin reply */

struct begin_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	int		 rc;
	uint64_t	 size;
	const char	*path;
};

#define B(n, s, rc, sz, p)	{ n, s, sizeof(s) - 1, rc, sz, p }

static const struct begin_case begin_cases[] = {
	B("size and path", "2147483648 /var/lib/qubes/appvms/work/"
	    "private-import.img", 0, 2147483648u,
	    "/var/lib/qubes/appvms/work/private-import.img"),
	B("zero", "0 /x", 0, 0, "/x"),
	B("19 digits", "9999999999999999999 /dev/qubes_dom0/vm-w-private-"
	    "import", 0, UINT64_C(9999999999999999999),
	    "/dev/qubes_dom0/vm-w-private-import"),
	B("non-ASCII path byte", "1 /\xc3\xa9", 0, 1, "/\xc3\xa9"),
	B("20 digits", "18446744073709551615 /x", -1, 0, NULL),
	B("empty", "", -1, 0, NULL),
	B("no space", "4096", -1, 0, NULL),
	B("no path", "4096 ", -1, 0, NULL),
	B("no size", " /x", -1, 0, NULL),
	B("leading zero", "04096 /x", -1, 0, NULL),
	B("sign", "-1 /x", -1, 0, NULL),
	B("two spaces", "4096  /x", -1, 0, NULL),
	B("relative path", "4096 x/y", -1, 0, NULL),
	B("space in path", "4096 /x y", -1, 0, NULL),
	B("newline in path", "4096 /x\n", -1, 0, NULL),
	B("NUL in path", "4096 /x\0y", -1, 0, NULL),
	B("DEL in path", "4096 /x\x7f", -1, 0, NULL),
	B("NUL in size", "40\0096 /x", -1, 0, NULL),
};

static void
test_parse_begin(void)
{
	const struct begin_case *c;
	char path[PATH_MAX], small[8], *big;
	uint64_t size;
	size_t i;
	int rc;

	for (i = 0; i < NELEM(begin_cases); i++) {
		c = &begin_cases[i];
		size = 12345;
		rc = volimport_parse_begin((const unsigned char *)c->in,
		    c->len, &size, path, sizeof(path));
		if (!is_int(rc, c->rc, "begin %s: result", c->name) || rc < 0)
			continue;
		ok(size == c->size, "begin %s: size", c->name);
		is_str(path, c->path, "begin %s: path", c->name);
	}
	is_int(volimport_parse_begin((const unsigned char *)"1 /1234567", 10,
	    &size, small, sizeof(small)), -1, "begin: path does not fit");
	is_int(volimport_parse_begin((const unsigned char *)"1 /123456", 9,
	    &size, small, sizeof(small)), 0, "begin: path fits exactly");
	big = malloc(PATH_MAX + 8);
	if (big != NULL) {
		memcpy(big, "1 /", 3);
		memset(big + 3, 'a', PATH_MAX);
		is_int(volimport_parse_begin((unsigned char *)big,
		    PATH_MAX + 2, &size, path, sizeof(path)), -1,
		    "begin: path of PATH_MAX bytes refused");
		free(big);
	}
}

/* ---- the copy */

static char tmpdir[] = "/tmp/test_volimport.XXXXXX";

static void
tpath(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

/* A zero-filled target of size bytes. */
static int
mk_target(const char *path, off_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || ftruncate(fd, size) < 0)
		return -1;
	return close(fd);
}

/* An input file with content data[0..len); returns an fd at offset 0. */
static int
mk_input(const char *name, const unsigned char *data, size_t len)
{
	char p[PATH_MAX];
	int fd;

	tpath(p, sizeof(p), name);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	if (len > 0 && write(fd, data, len) != (ssize_t)len)
		return -1;
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *b;
	int fd = open(path, O_RDONLY);

	*len = 0;
	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	b = malloc((size_t)st.st_size + 1);
	if (b != NULL && read(fd, b, (size_t)st.st_size) != st.st_size) {
		free(b);
		b = NULL;
	}
	close(fd);
	*len = (size_t)st.st_size;
	return b;
}

/* Pattern: zero blocks and data blocks, not block-aligned at the end. */
static unsigned char *
pattern(size_t len)
{
	unsigned char *b = calloc(1, len + 1);
	size_t i;

	if (b == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		/* blocks 0, 2 and 3 of 128 KiB have data, 1 and 4 are zero */
		size_t blk = i / VOLIMPORT_BLOCK;

		if (blk != 1 && blk != 4)
			b[i] = (unsigned char)(i * 7 + 1);
	}
	/* one single non-zero byte at the very end of block 4 */
	if (len > 5 * VOLIMPORT_BLOCK - 1)
		b[5 * VOLIMPORT_BLOCK - 1] = 0xff;
	return b;
}

struct copy_case {
	const char	*name;
	size_t		 in_len;	/* input bytes */
	uint64_t	 size;		/* requested */
	enum volimport_outcome out;
	uint64_t	 copied;
	const char	*status;
};

#define BLK	VOLIMPORT_BLOCK

static const struct copy_case copy_cases[] = {
	{ "exact, mixed blocks", 5 * BLK + 1000, 5 * BLK + 1000,
	    VOLIMPORT_OK, 5 * BLK + 1000, "ok" },
	{ "exact, one block", BLK, BLK, VOLIMPORT_OK, BLK, "ok" },
	{ "exact, tiny", 3, 3, VOLIMPORT_OK, 3, "ok" },
	{ "size 0, no data", 0, 0, VOLIMPORT_OK, 0, "ok" },
	{ "size 0, one byte", 1, 0, VOLIMPORT_LONG, 0,
	    "fail\ntoo much data (expected 0 bytes)" },
	{ "one byte short", 4096, 4097, VOLIMPORT_SHORT, 4096,
	    "fail\nnot enough data (copied 4096 bytes, expected 4097 bytes)" },
	{ "nothing", 0, 10, VOLIMPORT_SHORT, 0,
	    "fail\nnot enough data (copied 0 bytes, expected 10 bytes)" },
	{ "one byte long", 4097, 4096, VOLIMPORT_LONG, 4096,
	    "fail\ntoo much data (expected 4096 bytes)" },
	{ "a block long", 3 * BLK, 2 * BLK, VOLIMPORT_LONG, 2 * BLK,
	    "fail\ntoo much data (expected 262144 bytes)" },
};

static void
test_copy(void)
{
	const struct copy_case *c;
	struct volimport_result res;
	unsigned char *data, *got;
	char target[PATH_MAX], status[160];
	size_t i, glen, slen, cmp;
	int in;

	tpath(target, sizeof(target), "target.img");
	for (i = 0; i < NELEM(copy_cases); i++) {
		c = &copy_cases[i];
		data = pattern(c->in_len);
		in = mk_input("input", data, c->in_len);
		if (!ok(data != NULL && in >= 0 &&
		    mk_target(target, (off_t)c->size) == 0,
		    "copy %s: set-up", c->name)) {
			free(data);
			continue;
		}
		volimport_copy_path(in, target, c->size, NULL, &res);
		close(in);
		is_int(res.outcome, c->out, "copy %s: outcome", c->name);
		ok(res.copied == c->copied, "copy %s: copied %llu", c->name,
		    (unsigned long long)res.copied);
		slen = volimport_status(&res, c->size, status,
		    sizeof(status));
		is_mem(status, slen, c->status, strlen(c->status),
		    "copy %s: status", c->name);
		got = slurp(target, &glen);
		/* the target keeps its size; its head is the data copied */
		ok(got != NULL && glen == c->size, "copy %s: target size",
		    c->name);
		cmp = c->copied < glen ? (size_t)c->copied : glen;
		ok(got != NULL && memcmp(got, data, cmp) == 0,
		    "copy %s: target content", c->name);
		free(got);
		free(data);
	}
}

static void
test_copy_edges(void)
{
	struct volimport_result res;
	volatile sig_atomic_t stop = 1;
	char target[PATH_MAX], missing[PATH_MAX], status[8];
	unsigned char *got, data[4] = { 1, 2, 3, 4 };
	struct stat st;
	size_t glen;
	int in, fd, wfd;

	tpath(target, sizeof(target), "edge.img");
	tpath(missing, sizeof(missing), "missing.img");

	/* never creates the target */
	in = mk_input("in2", data, 4);
	volimport_copy_path(in, missing, 4, NULL, &res);
	close(in);
	is_int(res.outcome, VOLIMPORT_COPY_ERROR, "missing target: error");
	ok(stat(missing, &st) < 0 && errno == ENOENT,
	    "missing target: not created");

	/* never truncates: a longer target keeps its length and tail */
	fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ok(fd >= 0 && write(fd, "ABCDEFGH", 8) == 8 && close(fd) == 0,
	    "no truncate: set-up");
	in = mk_input("in3", data, 4);
	volimport_copy_path(in, target, 4, NULL, &res);
	close(in);
	is_int(res.outcome, VOLIMPORT_OK, "no truncate: ok");
	got = slurp(target, &glen);
	is_mem(got, glen, "\x01\x02\x03\x04" "EFGH", 8,
	    "no truncate: tail kept");
	free(got);

	/* a short target ending in a zero block gets its length */
	ok(mk_target(target, 0) == 0, "extend: set-up");
	got = calloc(1, 2 * BLK);
	in = mk_input("in4", got, 2 * BLK);
	free(got);
	volimport_copy_path(in, target, 2 * BLK, NULL, &res);
	close(in);
	is_int(res.outcome, VOLIMPORT_OK, "extend: ok");
	ok(stat(target, &st) == 0 && st.st_size == 2 * BLK,
	    "extend: length as dd conv=sparse gives it");

	/* a stop request fails the copy */
	ok(mk_target(target, 4) == 0, "stop: set-up");
	in = mk_input("in5", data, 4);
	volimport_copy_path(in, target, 4, &stop, &res);
	close(in);
	is_int(res.outcome, VOLIMPORT_COPY_ERROR, "stop: error");
	is_int(volimport_status(&res, 4, status, sizeof(status)), 0,
	    "status: does not fit in 8 bytes");

	/* a second importer of the same target fails */
	ok(mk_target(target, 4) == 0, "lock: set-up");
	fd = open(target, O_RDONLY);
	ok(fd >= 0 && flock(fd, LOCK_EX) == 0, "lock: held");
	in = mk_input("in6", data, 4);
	volimport_copy_path(in, target, 4, NULL, &res);
	close(in);
	close(fd);
	is_int(res.outcome, VOLIMPORT_COPY_ERROR, "lock: second importer "
	    "refused");

	/* a pipe delivering the data in pieces: full blocks are read */
	ok(mk_target(target, 6) == 0, "pipe: set-up");
	in = pipe_with("abc", 3, 0, &wfd);
	if (fork() == 0) {
		close(in);
		usleep(20000);
		if (write(wfd, "def", 3) != 3)
			_exit(1);
		_exit(0);
	}
	close(wfd);
	volimport_copy_path(in, target, 6, NULL, &res);
	close(in);
	wait(NULL);
	is_int(res.outcome, VOLIMPORT_OK, "pipe: ok");
	got = slurp(target, &glen);
	is_mem(got, glen, "abcdef", 6, "pipe: content");
	free(got);

	/* copy to a descriptor that cannot be synced (a pipe) */
	in = mk_input("in7", data, 4);
	{
		int p[2];

		ok(pipe(p) == 0, "unsyncable: set-up");
		volimport_copy_fd(in, p[1], 4, NULL, &res);
		close(p[0]);
		close(p[1]);
	}
	close(in);
	is_int(res.outcome, VOLIMPORT_COPY_ERROR, "unsyncable: error");
}

/* ---- the invocation of the import executable */

struct env_case {
	const char		*name;
	int			 argc;
	struct service_str	 argv0, argv1, full, argument;
	struct service_str	 remote, ttype, target;
	const char		*why;
	const char		*arg;
};

static const struct env_case env_cases[] = {
	{ "Import", 2, S(RPC "admin.vm.volume.Import"), S("private"),
	    S("admin.vm.volume.Import+private"), S("private"),
	    S("mgmt"), S("name"), S("work"), NULL, "private" },
	{ "ImportWithSize", 2, S(RPC "admin.vm.volume.ImportWithSize"),
	    S("root"), S("admin.vm.volume.ImportWithSize+root"), S("root"),
	    S("mgmt"), S("name"), S("work"), NULL, "root" },
	{ "no volume", 1, S(RPC "admin.vm.volume.Import"), U,
	    S("admin.vm.volume.Import+"), S(""), S("mgmt"), S("name"),
	    S("work"), "volume name must match [A-Za-z0-9_-]+", NULL },
	{ "dots", 2, S(RPC "admin.vm.volume.Import"), S(".."),
	    S("admin.vm.volume.Import+.."), S(".."), S("mgmt"), S("name"),
	    S("work"), "volume name must match [A-Za-z0-9_-]+", NULL },
	{ "slash", 2, S(RPC "admin.vm.volume.Import"), S("a/b"),
	    S("admin.vm.volume.Import+a/b"), S("a/b"), S("mgmt"), S("name"),
	    S("work"), "argument contains a byte outside [A-Za-z0-9_.+-]",
	    NULL },
	{ "argv[1] differs", 2, S(RPC "admin.vm.volume.Import"), S("root"),
	    S("admin.vm.volume.Import+private"), S("private"), S("mgmt"),
	    S("name"), S("work"), "argument differs from argv[1]", NULL },
	{ "basename differs", 2, S(RPC "admin.vm.volume.ImportWithSize"),
	    S("private"), S("admin.vm.volume.Import+private"), S("private"),
	    S("mgmt"), S("name"), S("work"),
	    "call name differs from the executable name (basename of "
	    "argv[0])", NULL },
	{ "a forwarding call", 2, S(RPC "admin.vm.volume.Clear"),
	    S("private"), S("admin.vm.volume.Clear+private"), S("private"),
	    S("mgmt"), S("name"), S("work"),
	    "call not served by the streaming import service", NULL },
	{ "bad source", 2, S(RPC "admin.vm.volume.Import"), S("private"),
	    S("admin.vm.volume.Import+private"), S("private"), S("-x"),
	    S("name"), S("work"), "source is not a qube name", NULL },
};

static void
test_invocation(void)
{
	struct service_env e;
	struct service_call call;
	const struct env_case *c;
	const char *why;
	char exe[64];
	size_t i;

	for (i = 0; i < NELEM(env_cases); i++) {
		c = &env_cases[i];
		memset(&e, 0, sizeof(e));
		e.argc = c->argc;
		e.argv0 = c->argv0;
		e.argv1 = c->argv1;
		e.full_name = c->full;
		e.argument = c->argument;
		e.remote_domain = c->remote;
		e.target_type = c->ttype;
		e.target = c->target;
		why = service_check_stream(&e, "vm_volume", &call);
		if (!is_str(why, c->why, "invocation %s", c->name) || why)
			continue;
		is_str(call.arg, c->arg, "invocation %s: arg", c->name);
		is_int((long long)call.payload_max, 0,
		    "invocation %s: nothing buffered", c->name);
		/* the plain forwarding check refuses the stream rows */
		ok(service_check(&e, "vm_volume", &call) != NULL,
		    "invocation %s: not a forwarding call", c->name);
	}

	ok(service_serves_stream(api_lookup("admin.vm.volume.Import")),
	    "stream: Import");
	ok(service_serves_stream(api_lookup(
	    "admin.vm.volume.ImportWithSize")), "stream: ImportWithSize");
	ok(!service_serves_stream(api_lookup("admin.vm.volume.Clear")),
	    "stream: not Clear");
	ok(!service_serves_stream(api_lookup(
	    "internal.vm.volume.ImportBegin")), "stream: not ImportBegin");
	is_int(service_link_exe(api_lookup("admin.vm.volume.Import"), exe,
	    sizeof(exe)), 1, "link: Import");
	is_str(exe, "qubes-admin-vm-volume-import", "link: Import exe");
	is_int(service_link_exe(api_lookup("admin.vm.volume.ImportWithSize"),
	    exe, sizeof(exe)), 1, "link: ImportWithSize");
	is_str(exe, "qubes-admin-vm-volume-import",
	    "link: ImportWithSize exe");
	is_int(service_link_exe(api_lookup("admin.vm.volume.Import"), exe,
	    28), -1, "link: import exe does not fit");
	is_int(service_link_exe(api_lookup("admin.vm.volume.Import"), exe,
	    29), 1, "link: import exe fits exactly");
	is_int(service_link_exe(api_lookup("admin.vm.volume.Clear"), exe,
	    sizeof(exe)), 1, "link: Clear");
	is_str(exe, "qubes-admin-vm-volume", "link: Clear exe");
	is_int(service_link_exe(api_lookup("internal.vm.volume.ImportEnd"),
	    exe, sizeof(exe)), 0, "link: none for ImportEnd");
	is_int(service_link_exe(api_lookup("admin.vm.Console"), exe,
	    sizeof(exe)), 0, "link: none for admin.vm.Console");
}

int
main(void)
{
	char p[PATH_MAX];

	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_line();
	test_read_line();
	test_parse_begin();
	test_copy();
	test_copy_edges();
	test_invocation();
	/* clean up the temporary files */
	{
		static const char *const names[] = { "target.img", "edge.img",
		    "input", "in2", "in3", "in4", "in5", "in6", "in7", NULL };
		size_t i;

		for (i = 0; names[i] != NULL; i++) {
			tpath(p, sizeof(p), names[i]);
			unlink(p);
		}
		rmdir(tmpdir);
	}
	return done_testing();
}
