/*
 * qdb-server - a stand-in for dom0's qubesdb-daemon, for the tests.
 *
 * The real qubesdb-daemon (QubesOS/qubes-core-qubesdb) needs a running
 * qube and vchan, so it cannot run here.  This tool speaks the same
 * client protocol (broker/qdb.h: 72-byte headers, READ, LIST, MULTIREAD)
 * on one UNIX socket and serves fixed entries, so that the broker's
 * QubesDB client can be exercised end to end.  It is a test tool only:
 * WRITE, RM, WATCH and UNWATCH are answered with an error.
 *
 *	qdb-server [-m MODE] [-f FILE] [-l LOG] SOCKET [PATH=VALUE...]
 *
 * Entries come from the command line and from FILE (one PATH=VALUE per
 * line); VALUE may use the escapes \\, \n, \t, \0 and \xNN.  Paths must
 * be valid QubesDB paths.  Entries are kept sorted as the daemon keeps
 * them (strcmp order).  LOG gets one line per request ("READ /path",
 * "MULTIREAD /prefix", ...).
 *
 * MODE makes the server misbehave, for the error paths of the client:
 *	normal	 answer like the daemon (default)
 *	hang	 read requests, never answer
 *	close	 read one request, close the connection without an answer
 *	garbage	 answer every request with a header of an unknown type
 *	outside	 MULTIREAD: first an entry outside the requested prefix
 *	nul	 every value sent carries a NUL byte at its end
 *	flood	 MULTIREAD: QDB_MAX_ENTRIES + 1 entries under the prefix
 *
 * The socket is bound under a temporary name (".q<pid>" in the same
 * directory) and renamed into place once listening, so a client that
 * sees SOCKET can connect.  SIGTERM/SIGINT: the socket is removed and
 * the server exits 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ioall.h"
#include "qdb.h"

struct entry {
	char	*path;
	char	*value;
	size_t	 len;
};

static struct entry *entries;
static size_t nentries;
static FILE *log_fp;
static const char *mode = "normal";
static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
path_ok(const char *p)
{
	size_t i, n = strlen(p);

	if (n == 0 || n >= QDB_MAX_PATH || p[0] != '/')
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_/.:@", p[i]))
			return 0;
	return 1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Unescape s into a new buffer; -1 on a bad escape. */
static int
unescape(const char *s, char **out, size_t *outlen)
{
	char *v = malloc(strlen(s) + 1);
	size_t n = 0;
	int h, l;

	if (v == NULL)
		return -1;
	while (*s) {
		if (*s != '\\') {
			v[n++] = *s++;
			continue;
		}
		switch (s[1]) {
		case '\\': v[n++] = '\\'; s += 2; break;
		case 'n': v[n++] = '\n'; s += 2; break;
		case 't': v[n++] = '\t'; s += 2; break;
		case '0': v[n++] = '\0'; s += 2; break;
		case 'x':
			if ((h = hexval(s[2])) < 0 || (l = hexval(s[3])) < 0)
				goto bad;
			v[n++] = (char)(h * 16 + l);
			s += 4;
			break;
		default:
			goto bad;
		}
	}
	*out = v;
	*outlen = n;
	return 0;
bad:
	free(v);
	return -1;
}

static int
add_entry(const char *spec)
{
	const char *eq = strchr(spec, '=');
	struct entry e, *nv;
	size_t i, pos;

	if (eq == NULL) {
		fprintf(stderr, "qdb-server: not PATH=VALUE: %s\n", spec);
		return -1;
	}
	e.path = strndup(spec, (size_t)(eq - spec));
	if (e.path == NULL || !path_ok(e.path) ||
	    unescape(eq + 1, &e.value, &e.len) < 0 ||
	    e.len >= QDB_MAX_DATA) {
		fprintf(stderr, "qdb-server: bad entry: %s\n", spec);
		free(e.path);
		return -1;
	}
	for (i = 0; i < nentries; i++)
		if (strcmp(entries[i].path, e.path) == 0) {
			free(entries[i].path);
			free(entries[i].value);
			entries[i] = e;
			return 0;
		}
	nv = realloc(entries, (nentries + 1) * sizeof(*nv));
	if (nv == NULL)
		return -1;
	entries = nv;
	for (pos = 0; pos < nentries; pos++)
		if (strcmp(e.path, entries[pos].path) < 0)
			break;
	memmove(&entries[pos + 1], &entries[pos],
	    (nentries - pos) * sizeof(*entries));
	entries[pos] = e;
	nentries++;
	return 0;
}

static int
load_file(const char *path)
{
	char line[8192];
	size_t n;
	FILE *f = fopen(path, "r");
	int rc = 0;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		n = strlen(line);
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		rc = add_entry(line);
	}
	fclose(f);
	return rc;
}

/* ---- protocol */

static int
send_hdr(int fd, unsigned type, const char *path, uint32_t len)
{
	unsigned char h[QDB_HDR_SIZE];

	memset(h, 0, sizeof(h));
	h[0] = (unsigned char)type;
	memcpy(h + QDB_OFF_PATH, path, strlen(path));
	memcpy(h + QDB_OFF_LEN, &len, sizeof(len));
	return write_all(fd, h, sizeof(h));
}

static int
send_entry(int fd, unsigned type, const char *path, const char *value,
    size_t len)
{
	int nul = strcmp(mode, "nul") == 0;

	if (send_hdr(fd, type, path, (uint32_t)(len + nul)) < 0 ||
	    write_all(fd, value, len) < 0)
		return -1;
	return nul ? write_all(fd, "", 1) : 0;
}

static int
prefixed(const char *path, const char *prefix)
{
	return strncmp(path, prefix, strlen(prefix)) == 0;
}

static int
do_multiread(int fd, const char *prefix)
{
	char p[QDB_MAX_PATH];
	size_t i;

	if (strcmp(mode, "outside") == 0 &&
	    send_entry(fd, QDB_RESP_MULTIREAD, "/elsewhere", "1", 1) < 0)
		return -1;
	if (strcmp(mode, "flood") == 0) {
		for (i = 0; i <= QDB_MAX_ENTRIES; i++) {
			/* at most 40 + 1 + 20 bytes: fits QDB_MAX_PATH */
			if (snprintf(p, sizeof(p), "%.40sf%05zu", prefix,
			    i % 100000) < 0)
				return -1;
			if (send_entry(fd, QDB_RESP_MULTIREAD, p, "1", 1) < 0)
				return -1;
		}
	} else if (*prefix == '\0') {
		/* the whole database, in reverse order */
		for (i = nentries; i-- > 0;)
			if (send_entry(fd, QDB_RESP_MULTIREAD, entries[i].path,
			    entries[i].value, entries[i].len) < 0)
				return -1;
	} else {
		for (i = 0; i < nentries; i++)
			if (prefixed(entries[i].path, prefix) &&
			    send_entry(fd, QDB_RESP_MULTIREAD, entries[i].path,
			    entries[i].value, entries[i].len) < 0)
				return -1;
	}
	return send_hdr(fd, QDB_RESP_MULTIREAD, "", 0);
}

static int
do_list(int fd, const char *prefix)
{
	size_t i;

	for (i = 0; i < nentries; i++)
		if (prefixed(entries[i].path, prefix) &&
		    send_hdr(fd, QDB_RESP_LIST, entries[i].path, 0) < 0)
			return -1;
	return send_hdr(fd, QDB_RESP_LIST, "", 0);
}

static int
do_read(int fd, const char *path)
{
	size_t i;

	for (i = 0; i < nentries; i++)
		if (strcmp(entries[i].path, path) == 0)
			return send_entry(fd, QDB_RESP_READ, path,
			    entries[i].value, entries[i].len);
	return send_hdr(fd, QDB_RESP_ERROR_NOENT, path, 0);
}

static int
read_exact(int fd, unsigned char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR && !stop)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static const char *const cmd_names[] = {
	"READ", "WRITE", "MULTIREAD", "LIST", "RM", "WATCH", "UNWATCH",
};

/* Serve one client until it closes (or misbehaves). */
static void
serve(int fd)
{
	unsigned char h[QDB_HDR_SIZE], junk[256];
	char path[QDB_MAX_PATH];
	uint32_t len, k;
	int rc;

	for (;;) {
		if (read_exact(fd, h, sizeof(h)) < 0)
			return;
		memcpy(path, h + QDB_OFF_PATH, QDB_MAX_PATH);
		path[QDB_MAX_PATH - 1] = '\0';
		memcpy(&len, h + QDB_OFF_LEN, sizeof(len));
		if (log_fp != NULL) {
			if (h[0] < sizeof(cmd_names) / sizeof(cmd_names[0]))
				fprintf(log_fp, "%s %s\n", cmd_names[h[0]],
				    path);
			else
				fprintf(log_fp, "CMD%u %s\n", h[0], path);
			fflush(log_fp);
		}
		if (len >= QDB_MAX_DATA)
			return;
		for (k = 0; k < len; k += (uint32_t)sizeof(junk))
			if (read_exact(fd, junk, len - k < sizeof(junk) ?
			    len - k : sizeof(junk)) < 0)
				return;
		if (strcmp(mode, "hang") == 0)
			continue;
		if (strcmp(mode, "close") == 0)
			return;
		if (strcmp(mode, "garbage") == 0) {
			if (send_hdr(fd, 0x63, path, 0) < 0)
				return;
			continue;
		}
		switch (h[0]) {
		case QDB_CMD_READ:
			rc = do_read(fd, path);
			break;
		case QDB_CMD_MULTIREAD:
			rc = do_multiread(fd, path);
			break;
		case QDB_CMD_LIST:
			rc = do_list(fd, path);
			break;
		default:
			rc = send_hdr(fd, QDB_RESP_ERROR, path, 0);
			break;
		}
		if (rc < 0)
			return;
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: qdb-server [-m MODE] [-f FILE] [-l LOG] "
	    "SOCKET [PATH=VALUE...]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun;
	struct sigaction sa;
	char tmp[sizeof(sun.sun_path)];
	const char *sock, *slash;
	int c, lfd, fd, i;

	while ((c = getopt(argc, argv, "m:f:l:")) != -1) {
		switch (c) {
		case 'm':
			mode = optarg;
			if (strcmp(mode, "normal") && strcmp(mode, "hang") &&
			    strcmp(mode, "close") && strcmp(mode, "garbage") &&
			    strcmp(mode, "outside") && strcmp(mode, "nul") &&
			    strcmp(mode, "flood"))
				usage();
			break;
		case 'f':
			if (load_file(optarg) < 0)
				return 2;
			break;
		case 'l':
			log_fp = fopen(optarg, "a");
			if (log_fp == NULL) {
				perror(optarg);
				return 2;
			}
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	sock = argv[optind++];
	for (i = optind; i < argc; i++)
		if (add_entry(argv[i]) < 0)
			return 2;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* no SA_RESTART: a blocked accept() or read() returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	/* temporary name in the same directory, no longer than SOCKET */
	slash = strrchr(sock, '/');
	if (snprintf(tmp, sizeof(tmp), "%.*s.q%ld",
	    slash ? (int)(slash - sock + 1) : 0, sock,
	    (long)getpid() % 10000) >= (int)sizeof(tmp)) {
		fprintf(stderr, "qdb-server: socket path too long\n");
		return 2;
	}
	memcpy(sun.sun_path, tmp, strlen(tmp) + 1);
	unlink(tmp);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(lfd, 16) < 0 || rename(tmp, sock) < 0) {
		perror("qdb-server: socket");
		unlink(tmp);
		return 1;
	}
	while (!stop) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			perror("qdb-server: accept");
			break;
		}
		serve(fd);
		close(fd);
	}
	close(lfd);
	unlink(sock);
	for (i = 0; i < (int)nentries; i++) {
		free(entries[i].path);
		free(entries[i].value);
	}
	free(entries);
	if (log_fp != NULL)
		fclose(log_fp);
	return 0;
}
