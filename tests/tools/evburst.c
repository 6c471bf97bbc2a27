/*
 * evburst - admin.Events under load: many subscribers, a burst of changes,
 * one subscriber that never reads.
 *
 *	evburst --socket PATH [--subscribers N] [--changes M] [--vm NAME]
 *	        [--feature NAME] [--inflight K] [--window W] [--pad BYTES]
 *	        [--min-stream-kib KIB] [--broker-pid PID] [--max-rss-kib KIB]
 *	        [--timeout SEC]
 *
 * 1. admin.vm.feature.Remove+FEATURE on VM (so the burst starts from "no
 *    such feature"; a QubesFeatureNotFoundError is fine).
 * 2. N reader subscriptions (admin.Events, src and dest dom0) plus one
 *    "slow" one with a small SO_RCVBUF; each must deliver
 *    connection-established first.  The slow one is never read again.
 * 3. M calls admin.vm.feature.Set+FEATURE with values v0 .. v(M-1) (one
 *    connection per call, K calls in flight, default 1), each must answer
 *    "0\0", as fast as the broker answers them but never more than W
 *    changes (default 4; 0: no limit) ahead of the slowest reader.
 *    Meanwhile the readers are read, all in this one thread with poll().
 * 4. Every record a reader receives is parsed strictly (bounded, printable
 *    ASCII, known keys) and checked: for each change a
 *    domain-feature-pre-set:F then a domain-feature-set:F record with the
 *    same value and oldvalue; every value exactly once; all readers see
 *    the same order; each change's oldvalue is the previous change's
 *    value (so nothing was left out in between); with --inflight 1 the
 *    values come strictly as v0, v1, v2, ...  Nothing else, nothing more,
 *    and no reader is closed by the broker.
 * 5. The slow subscriber must then read end of file (or ECONNRESET) after
 *    a consistent prefix of the stream: the broker dropped it.
 * 6. With --broker-pid, VmRSS/VmHWM of /proc/PID/status are sampled before,
 *    during and after; --max-rss-kib fails the run when VmHWM exceeds it.
 *
 * Stream size: the slow subscriber is only dropped once its stream
 * outgrows the broker's 1 MiB queue (plus the socket buffer), and a
 * memory bound can only tell a bounded queue from one that keeps
 * everything when the stream is several times that.  So when M changes
 * make a stream shorter than --min-stream-kib (default 8192), each value
 * gets a padding, "vK-xxx...", long enough (unless --pad is given).
 * The window W keeps what the broker holds for the readers small and
 * independent of how this process is scheduled (at most W changes each).
 *
 * Exit status 0 only if every check passed; the last line on stdout is a
 * one-line summary ("evburst: ok ..." or "evburst: FAIL ...").
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define RBUF_CAP	65536	/* per subscriber; bounds one record too */
#define MAX_KV		8
#define MAX_NAME	31	/* qube names (protocol.md 5.2) */
#define MAX_FEATURE	64
#define MAX_PAD		8192
#define MAX_INFLIGHT	64
#define MAX_SUBS	4000
#define MAX_CHANGES	10000000ul
#define REPLY_CAP	512
#define QUEUE_BYTES	(1024ul * 1024ul)	/* broker: STREAM_MAX_PENDING */
#define STALL_SEC	30.0	/* no progress at all for that long: fail */

struct rec {
	const char	*subject;
	const char	*event;
	const char	*k[MAX_KV];
	const char	*v[MAX_KV];
	size_t		 nkv;
};

struct sub {
	int		 fd;
	int		 ce;		/* connection-established seen */
	int		 eof;		/* the broker closed it */
	int		 half;		/* pre-set seen, set expected */
	long		 curk;		/* K of that pre-set */
	long		 curold;	/* its oldvalue's K, -1: none */
	size_t		 pos;		/* changes completely received */
	uint64_t	 bytes;
	size_t		 len;
	unsigned char	*buf;
};

struct req {
	int		 fd;		/* -1: slot free */
	long		 k;
	size_t		 len;
	unsigned char	 reply[REPLY_CAP];
};

static struct {
	const char	*sock;
	const char	*vm;
	const char	*feature;
	unsigned long	 nsubs;
	unsigned long	 changes;
	unsigned long	 inflight;
	unsigned long	 window;	/* 0: readers may lag any amount */
	long		 pad;		/* -1: automatic */
	unsigned long	 min_stream_kib;
	long		 broker_pid;
	unsigned long	 max_rss_kib;
	double		 timeout;
} opt = {
	.vm = "work",
	.feature = "burst",
	.nsubs = 200,
	.changes = 10000,
	.inflight = 1,
	.window = 4,
	.pad = -1,
	.min_stream_kib = 8192,
	.broker_pid = -1,
	.timeout = 300,
};

static struct sub *subs;	/* nsubs readers, then the slow one */
static uint32_t *order;		/* K of the i-th change, as first seen */
static size_t norder;
static unsigned char *seen;	/* K already in order[] */
static struct req reqs[MAX_INFLIGHT];
static struct pollfd *pfd;
static char *padding;		/* "-xxx..." or "" */
static int failed;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
fail(const char *fmt, ...)
{
	va_list ap;

	if (failed++ >= 20)
		return;		/* the first ones tell the story */
	fputs("evburst: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Untrusted bytes for a diagnostic: printable ASCII, the rest escaped. */
static void
escape(char *out, size_t outsz, const unsigned char *p, size_t n)
{
	size_t o = 0, i;

	if (outsz == 0)
		return;
	for (i = 0; i < n && o + 5 < outsz; i++) {
		if (p[i] == 0) {
			out[o++] = '\\';
			out[o++] = '0';
		} else if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
			out[o++] = (char)p[i];
		} else {
			snprintf(out + o, outsz - o, "\\x%02x", p[i]);
			o += 4;
		}
	}
	if (i < n && o + 4 <= outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static int
parse_ulong(const char *s, unsigned long lo, unsigned long hi,
    unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* broker memory */

struct mem {
	unsigned long	 rss;	/* KiB, 0: unknown */
	unsigned long	 hwm;
};

static int
mem_sample(struct mem *m)
{
	char path[64], line[256];
	FILE *f;

	m->rss = m->hwm = 0;
	if (opt.broker_pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/status", opt.broker_pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			m->rss = strtoul(line + 6, NULL, 10);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			m->hwm = strtoul(line + 6, NULL, 10);
	}
	fclose(f);
	return m->rss && m->hwm ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* connections */

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -1 : 0;
}

/* Connect, send the request "METHOD+ARG dom0 name DEST\0PAYLOAD" and
 * half-close; the returned descriptor is non-blocking. */
static int
send_request(const char *method, const char *arg, const char *dest,
    const char *payload, size_t plen, int rcvbuf)
{
	struct sockaddr_un sun;
	char hdr[512];
	size_t hlen, off;
	ssize_t n;
	int fd, w;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(opt.sock) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, opt.sock, strlen(opt.sock) + 1);
	w = snprintf(hdr, sizeof(hdr), "%s+%s dom0 name %s", method, arg, dest);
	if (w < 0 || (size_t)w >= sizeof(hdr)) {
		errno = EINVAL;
		return -1;
	}
	hlen = (size_t)w + 1;		/* with the NUL */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	    sizeof(rcvbuf)) < 0)
		goto bad;
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		if (errno != EINTR)
			goto bad;
	/* a request is small: it fits the socket buffer at once */
	for (off = 0; off < hlen + plen;) {
		if (off < hlen)
			n = write(fd, hdr + off, hlen - off);
		else
			n = write(fd, payload + (off - hlen), plen - (off - hlen));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto bad;
		off += (size_t)n;
	}
	if (shutdown(fd, SHUT_WR) < 0 || set_nonblock(fd) < 0)
		goto bad;
	return fd;
bad:
	{
		int saved = errno;

		close(fd);
		errno = saved;
	}
	return -1;
}

/* A whole short reply, blocking (with a poll timeout). */
static ssize_t
simple_call(const char *method, const char *arg, const char *payload,
    unsigned char *out, size_t outsz)
{
	size_t len = 0;
	ssize_t n;
	int fd;
	struct pollfd p;

	fd = send_request(method, arg, opt.vm, payload, strlen(payload), 0);
	if (fd < 0)
		return -1;
	for (;;) {
		p.fd = fd;
		p.events = POLLIN;
		if (poll(&p, 1, 10000) <= 0) {
			close(fd);
			errno = ETIMEDOUT;
			return -1;
		}
		n = read(fd, out + len, outsz - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == outsz)
			break;
	}
	close(fd);
	return (ssize_t)len;
}

/* ------------------------------------------------------------------ */
/* event records */

/*
 * One record "1\0subject\0event\0(k\0v\0)*\0" at the start of p[0..n):
 * returns its length, 0 if incomplete, -1 if malformed (why in *why).
 * Every field is printable ASCII; the fields point into p (the NULs are
 * the terminators).
 */
static long
parse_record(const unsigned char *p, size_t n, struct rec *r,
    const char **why)
{
	const char *f[2 + 2 * MAX_KV];
	size_t nf = 0, i = 2, start;

	if (n < 2)
		return 0;
	if (p[0] != '1' || p[1] != '\0') {
		*why = "not an EVENT record";
		return -1;
	}
	for (;;) {
		start = i;
		while (i < n && p[i] != '\0') {
			if (p[i] < 0x20 || p[i] >= 0x7f) {
				*why = "non-printable byte in a field";
				return -1;
			}
			i++;
		}
		if (i == n)
			return 0;
		/* after the event name, an empty key ends the record */
		if (nf >= 2 && nf % 2 == 0 && i == start)
			break;
		if (nf == 2 + 2 * MAX_KV) {
			*why = "too many key/value pairs";
			return -1;
		}
		f[nf++] = (const char *)p + start;
		i++;
	}
	if (nf < 2 || nf % 2 != 0) {
		*why = "truncated record";
		return -1;
	}
	r->subject = f[0];
	r->event = f[1];
	r->nkv = (nf - 2) / 2;
	for (nf = 0; nf < r->nkv; nf++) {
		r->k[nf] = f[2 + 2 * nf];
		r->v[nf] = f[3 + 2 * nf];
	}
	return (long)start + 1;	/* p[start] is the record's last NUL */
}

/* "vK" + padding with 0 <= K < changes, no leading zeros: K, else -1. */
static long
value_k(const char *v)
{
	unsigned long k = 0;
	const char *p = v + 1;

	if (v[0] != 'v' || *p < '0' || *p > '9' || (*p == '0' &&
	    p[1] >= '0' && p[1] <= '9'))
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		k = k * 10 + (unsigned long)(*p - '0');
		if (k >= opt.changes)
			return -1;
	}
	return strcmp(p, padding) == 0 ? (long)k : -1;
}

/* Check one record of subscriber s (index idx, for messages). */
static int
check_record(struct sub *s, size_t idx, const struct rec *r)
{
	char pre[128], set[128];
	long k, old = -1;
	int is_pre;

	if (!s->ce) {
		if (*r->subject || strcmp(r->event, "connection-established")
		    || r->nkv != 0) {
			fail("subscriber %zu: first record is %s %s, not "
			    "connection-established", idx, r->subject,
			    r->event);
			return -1;
		}
		s->ce = 1;
		return 0;
	}
	snprintf(pre, sizeof(pre), "domain-feature-pre-set:%s", opt.feature);
	snprintf(set, sizeof(set), "domain-feature-set:%s", opt.feature);
	if (strcmp(r->subject, opt.vm) != 0 || (strcmp(r->event, pre) != 0 &&
	    strcmp(r->event, set) != 0)) {
		fail("subscriber %zu: unexpected event '%s' on '%s' after "
		    "%zu changes", idx, r->event, r->subject, s->pos);
		return -1;
	}
	is_pre = strcmp(r->event, pre) == 0;
	if (is_pre == s->half) {
		fail("subscriber %zu: %s where %s was expected (change %zu)",
		    idx, r->event, s->half ? set : pre, s->pos);
		return -1;
	}
	if (r->nkv < 2 || r->nkv > 3 || strcmp(r->k[0], "feature") != 0 ||
	    strcmp(r->v[0], opt.feature) != 0 ||
	    strcmp(r->k[1], "value") != 0 ||
	    (r->nkv == 3 && strcmp(r->k[2], "oldvalue") != 0)) {
		fail("subscriber %zu: %s: unexpected arguments (change %zu)",
		    idx, r->event, s->pos);
		return -1;
	}
	if ((k = value_k(r->v[1])) < 0) {
		fail("subscriber %zu: bad value '%.40s' (change %zu)", idx,
		    r->v[1], s->pos);
		return -1;
	}
	if (r->nkv == 3 && (old = value_k(r->v[2])) < 0) {
		fail("subscriber %zu: bad oldvalue '%.40s' (change %zu)", idx,
		    r->v[2], s->pos);
		return -1;
	}
	if (!is_pre) {
		if (k != s->curk || old != s->curold) {
			fail("subscriber %zu: set of v%ld/old %ld after pre-set "
			    "of v%ld/old %ld", idx, k, old, s->curk, s->curold);
			return -1;
		}
		s->half = 0;
		s->pos++;
		return 0;
	}
	/* a pre-set: the next change */
	if (s->pos >= opt.changes) {
		fail("subscriber %zu: more than %lu changes", idx, opt.changes);
		return -1;
	}
	if (opt.inflight == 1 && (size_t)k != s->pos) {
		fail("subscriber %zu: change %zu is v%ld (out of order or "
		    "lost)", idx, s->pos, k);
		return -1;
	}
	if (s->pos < norder) {
		if (order[s->pos] != (uint32_t)k) {
			fail("subscriber %zu: change %zu is v%ld, another "
			    "subscriber saw v%" PRIu32, idx, s->pos, k,
			    order[s->pos]);
			return -1;
		}
	} else {
		if (seen[k]) {
			fail("subscriber %zu: v%ld a second time (change %zu)",
			    idx, k, s->pos);
			return -1;
		}
		seen[k] = 1;
		order[norder++] = (uint32_t)k;
	}
	/* the feature did not exist before the first change; then each
	 * change replaces the previous one: nothing lost in between */
	if (s->pos == 0 ? old != -1 : old != (long)order[s->pos - 1]) {
		fail("subscriber %zu: change %zu (v%ld) has oldvalue %s%ld, "
		    "the previous change was v%ld", idx, s->pos, k,
		    old < 0 ? "none " : "v", old,
		    s->pos ? (long)order[s->pos - 1] : -1L);
		return -1;
	}
	s->half = 1;
	s->curk = k;
	s->curold = old;
	return 0;
}

/*
 * Read what subscriber s has and check the complete records.  Returns
 * -1 on a failed check, else 0 (s->eof set at end of file / reset).
 */
static int
sub_read(struct sub *s, size_t idx)
{
	struct rec r;
	const char *why = NULL;
	size_t off = 0;
	ssize_t n;
	long l;

	for (;;) {
		n = read(s->fd, s->buf + s->len, RBUF_CAP - s->len);
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0 && errno != ECONNRESET) {
		fail("subscriber %zu: read: %s", idx, strerror(errno));
		return -1;
	}
	if (n <= 0) {
		s->eof = 1;
		return 0;
	}
	s->len += (size_t)n;
	s->bytes += (uint64_t)n;
	while ((l = parse_record(s->buf + off, s->len - off, &r, &why)) > 0) {
		if (check_record(s, idx, &r) < 0)
			return -1;
		off += (size_t)l;
	}
	if (l < 0) {
		char esc[200];

		escape(esc, sizeof(esc), s->buf + off, s->len - off);
		fail("subscriber %zu: %s: %s", idx, why, esc);
		return -1;
	}
	if (off == 0 && s->len == RBUF_CAP) {
		fail("subscriber %zu: a record longer than %d bytes", idx,
		    RBUF_CAP);
		return -1;
	}
	memmove(s->buf, s->buf + off, s->len - off);
	s->len -= off;
	return 0;
}

/* ------------------------------------------------------------------ */

/* Bytes of the two records of change K (oldvalue from K-1) per reader. */
static size_t
change_bytes(unsigned long k, size_t pad)
{
	char num[32];
	size_t fl = strlen(opt.feature), vl = strlen(opt.vm), val, old;

	val = 1 + (size_t)snprintf(num, sizeof(num), "%lu", k) + pad;
	old = k ? 1 + (size_t)snprintf(num, sizeof(num), "%lu", k - 1) + pad
	    : 0;
	/* "1\0" vm\0 event\0 feature\0f\0 value\0val\0 [oldvalue\0old\0] \0 */
	return 2 * (2 + vl + 1 + 8 + fl + 1 + 6 + val + 1 +
	    (k ? 9 + old + 1 : 0) + 1) + strlen("domain-feature-pre-set:") +
	    strlen("domain-feature-set:") + 2 * fl + 2;
}

static uint64_t
stream_bytes(size_t pad)
{
	uint64_t t = 27;	/* connection-established */
	unsigned long k;

	for (k = 0; k < opt.changes; k++)
		t += change_bytes(k, pad);
	return t;
}

static unsigned long
sock_buf_bytes(void)
{
	unsigned long v = 212992;
	FILE *f = fopen("/proc/sys/net/core/wmem_default", "re");

	if (f != NULL) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 212992;
		fclose(f);
	}
	return v;
}

static void
usage(void)
{
	fprintf(stderr, "usage: evburst --socket PATH [--subscribers N] "
	    "[--changes M] [--vm NAME]\n"
	    "               [--feature NAME] [--inflight K] [--window W] "
	    "[--pad BYTES]\n"
	    "               [--min-stream-kib KIB] [--broker-pid PID] "
	    "[--max-rss-kib KIB]\n"
	    "               [--timeout SEC]\n");
	exit(2);
}

static void
parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "subscribers", required_argument, NULL, 'n' },
		{ "changes", required_argument, NULL, 'm' },
		{ "vm", required_argument, NULL, 'v' },
		{ "feature", required_argument, NULL, 'f' },
		{ "inflight", required_argument, NULL, 'i' },
		{ "window", required_argument, NULL, 'w' },
		{ "pad", required_argument, NULL, 'P' },
		{ "min-stream-kib", required_argument, NULL, 'S' },
		{ "broker-pid", required_argument, NULL, 'p' },
		{ "max-rss-kib", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	const char *c;
	int ch;

	while ((ch = getopt_long(argc, argv, "s:n:m:v:f:i:w:P:S:p:r:t:h", lo,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			opt.sock = optarg;
			break;
		case 'n':
			if (parse_ulong(optarg, 1, MAX_SUBS, &opt.nsubs) < 0)
				usage();
			break;
		case 'm':
			if (parse_ulong(optarg, 1, MAX_CHANGES,
			    &opt.changes) < 0)
				usage();
			break;
		case 'v':
			opt.vm = optarg;
			break;
		case 'f':
			opt.feature = optarg;
			break;
		case 'i':
			if (parse_ulong(optarg, 1, MAX_INFLIGHT,
			    &opt.inflight) < 0)
				usage();
			break;
		case 'w':
			if (parse_ulong(optarg, 0, MAX_CHANGES,
			    &opt.window) < 0)
				usage();
			break;
		case 'S':
			if (parse_ulong(optarg, 0, 1024ul * 1024ul,
			    &opt.min_stream_kib) < 0)
				usage();
			break;
		case 'P':
			if (parse_ulong(optarg, 0, MAX_PAD, &v) < 0)
				usage();
			opt.pad = (long)v;
			break;
		case 'p':
			if (parse_ulong(optarg, 1, INT_MAX, &v) < 0)
				usage();
			opt.broker_pid = (long)v;
			break;
		case 'r':
			if (parse_ulong(optarg, 1, ULONG_MAX / 2,
			    &opt.max_rss_kib) < 0)
				usage();
			break;
		case 't':
			if (parse_ulong(optarg, 1, 86400, &v) < 0)
				usage();
			opt.timeout = (double)v;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || opt.sock == NULL)
		usage();
	if (strlen(opt.vm) == 0 || strlen(opt.vm) > MAX_NAME ||
	    strlen(opt.feature) == 0 || strlen(opt.feature) > MAX_FEATURE)
		usage();
	for (c = opt.feature; *c; c++)
		if (*c <= 0x20 || *c >= 0x7f || *c == '+')
			usage();
	for (c = opt.vm; *c; c++)
		if (*c <= 0x20 || *c >= 0x7f)
			usage();
	if (opt.max_rss_kib && opt.broker_pid <= 0) {
		fprintf(stderr, "evburst: --max-rss-kib needs --broker-pid\n");
		exit(2);
	}
}

static void
cleanup(void)
{
	size_t i;

	for (i = 0; subs != NULL && i <= opt.nsubs; i++) {
		if (subs[i].fd >= 0)
			close(subs[i].fd);
		free(subs[i].buf);
	}
	free(subs);
	for (i = 0; i < MAX_INFLIGHT; i++)
		if (reqs[i].fd >= 0)
			close(reqs[i].fd);
	free(order);
	free(seen);
	free(pfd);
	free(padding);
}

static int
raise_nofile(size_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
			return -1;
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return -1;
	}
	return 0;
}

/* Connect the subscribers; wait for every connection-established. */
static int
subscribe_all(void)
{
	size_t i, nready = 0, total = opt.nsubs + 1;
	double until = now() + 30;
	int r;

	for (i = 0; i < total; i++) {
		/* the last one is the slow one: a small receive buffer */
		subs[i].fd = send_request("admin.Events", "", "dom0", "", 0,
		    i == opt.nsubs ? 4096 : 0);
		if (subs[i].fd < 0) {
			fail("subscriber %zu: connect/send: %s", i,
			    strerror(errno));
			return -1;
		}
	}
	while (nready < total) {
		if (now() > until) {
			fail("only %zu of %zu subscribers got "
			    "connection-established within 30 s", nready,
			    total);
			return -1;
		}
		for (i = 0; i < total; i++) {
			pfd[i].fd = subs[i].ce ? -1 : subs[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		r = poll(pfd, total, 1000);
		if (r < 0 && errno != EINTR) {
			fail("poll: %s", strerror(errno));
			return -1;
		}
		for (i = 0; r > 0 && i < total; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (sub_read(&subs[i], i) < 0)
				return -1;
			if (subs[i].eof) {
				fail("subscriber %zu: closed before "
				    "connection-established", i);
				return -1;
			}
			if (subs[i].ce)
				nready++;
		}
	}
	if (subs[opt.nsubs].len != 0) {
		fail("slow subscriber: more than connection-established "
		    "before the first change");
		return -1;
	}
	return 0;
}

/* The burst: returns 0 when every call was answered and every reader has
 * every change. */
static int
burst(struct mem *peak, double *elapsed)
{
	char val[32 + MAX_PAD];
	unsigned long next = 0, acked = 0;
	size_t i, n, done, slot[MAX_INFLIGHT];
	double t0 = now(), last = t0, lastmem = 0, t;
	struct mem m;
	ssize_t rn;
	int r;

	for (;;) {
		size_t minpos = SIZE_MAX;

		for (i = 0; i < opt.nsubs; i++)
			if (subs[i].pos < minpos)
				minpos = subs[i].pos;
		/* new calls, at most W changes ahead of the slowest reader */
		for (i = 0; i < opt.inflight && next < opt.changes; i++) {
			if (reqs[i].fd >= 0)
				continue;
			if (opt.window && next >= minpos + opt.window)
				break;
			snprintf(val, sizeof(val), "v%lu%s", next, padding);
			reqs[i].fd = send_request("admin.vm.feature.Set",
			    opt.feature, opt.vm, val, strlen(val), 0);
			if (reqs[i].fd < 0) {
				fail("change %lu: connect/send: %s", next,
				    strerror(errno));
				return -1;
			}
			reqs[i].k = (long)next++;
			reqs[i].len = 0;
		}
		done = 0;
		for (i = 0; i < opt.nsubs; i++)
			if (subs[i].pos == opt.changes)
				done++;
		if (acked == opt.changes && done == opt.nsubs)
			break;
		t = now();
		if (t - t0 > opt.timeout || t - last > STALL_SEC) {
			fail("%s after %.1f s: %lu of %lu calls answered, "
			    "%zu of %lu readers complete",
			    t - t0 > opt.timeout ? "timeout" : "no progress",
			    t - t0, acked, opt.changes, done, opt.nsubs);
			for (i = 0, n = 0; i < opt.nsubs && n < 5; i++)
				if (subs[i].pos < opt.changes) {
					fail("  reader %zu at change %zu",
					    i, subs[i].pos);
					n++;
				}
			return -1;
		}
		if (t - lastmem > 0.05) {
			lastmem = t;
			if (mem_sample(&m) == 0 && m.rss > peak->rss)
				peak->rss = m.rss;
		}
		n = 0;
		for (i = 0; i < opt.nsubs; i++) {
			pfd[n].fd = subs[i].fd;
			pfd[n].events = POLLIN;
			pfd[n++].revents = 0;
		}
		for (i = 0; i < opt.inflight; i++) {
			if (reqs[i].fd < 0)
				continue;
			slot[n - opt.nsubs] = i;
			pfd[n].fd = reqs[i].fd;
			pfd[n].events = POLLIN;
			pfd[n++].revents = 0;
		}
		r = poll(pfd, n, 100);
		if (r < 0 && errno != EINTR) {
			fail("poll: %s", strerror(errno));
			return -1;
		}
		if (r <= 0)
			continue;
		for (i = 0; i < opt.nsubs; i++) {
			size_t before = subs[i].pos;

			if (pfd[i].revents == 0)
				continue;
			if (sub_read(&subs[i], i) < 0)
				return -1;
			if (subs[i].eof) {
				fail("reader %zu: closed by the broker after "
				    "%zu of %lu changes", i, subs[i].pos,
				    opt.changes);
				return -1;
			}
			if (subs[i].pos != before)
				last = now();
		}
		for (i = opt.nsubs; i < n; i++) {
			struct req *q = &reqs[slot[i - opt.nsubs]];

			if (pfd[i].revents == 0)
				continue;
			rn = read(q->fd, q->reply + q->len,
			    sizeof(q->reply) - q->len);
			if (rn < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (rn > 0) {
				q->len += (size_t)rn;
				if (q->len < sizeof(q->reply))
					continue;
			}
			/* end of the reply */
			if (q->len != 2 || memcmp(q->reply, "0\0", 2) != 0) {
				char esc[200];

				escape(esc, sizeof(esc), q->reply, q->len);
				fail("change v%ld: reply '%s'%s", q->k, esc,
				    rn < 0 ? " (read error)" : "");
				return -1;
			}
			close(q->fd);
			q->fd = -1;
			acked++;
			last = now();
		}
	}
	*elapsed = now() - t0;
	return 0;
}

/* After the burst: nothing more for the readers (200 ms), and the slow
 * subscriber must come to end of file. */
static int
after_burst(size_t *slow_changes, uint64_t *slow_bytes)
{
	struct sub *s = &subs[opt.nsubs];
	double until;
	size_t i;
	int r;

	for (i = 0; i < opt.nsubs; i++) {
		pfd[i].fd = subs[i].fd;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	r = poll(pfd, opt.nsubs, 200);
	for (i = 0; r > 0 && i < opt.nsubs; i++) {
		if (pfd[i].revents == 0)
			continue;
		if (sub_read(&subs[i], i) < 0)
			return -1;
		fail("reader %zu: %s after the last change", i,
		    subs[i].eof ? "closed by the broker" : "more bytes");
		return -1;
	}
	for (i = 0; i < opt.nsubs; i++)
		if (subs[i].len != 0 || subs[i].half) {
			fail("reader %zu: an incomplete record at the end", i);
			return -1;
		}
	/* the slow one: what it has, then end of file */
	until = now() + 10;
	while (!s->eof) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };

		if (now() > until) {
			fail("slow subscriber: still open 10 s after the "
			    "burst (%zu of %lu changes read): not dropped",
			    s->pos, opt.changes);
			return -1;
		}
		if (poll(&p, 1, 1000) > 0 && sub_read(s, opt.nsubs) < 0)
			return -1;
		if (s->pos == opt.changes && !s->eof) {
			fail("slow subscriber: got the whole stream: not "
			    "dropped");
			return -1;
		}
	}
	*slow_changes = s->pos;
	*slow_bytes = s->bytes;
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned char reply[REPLY_CAP];
	struct mem before = { 0, 0 }, ready = { 0, 0 }, peak = { 0, 0 },
	    after = { 0, 0 };
	size_t i, slow_changes = 0, pad;
	uint64_t slow_bytes = 0, sbytes, need;
	double elapsed = 0;
	ssize_t n;
	int rc = 1;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	if (raise_nofile(opt.nsubs + MAX_INFLIGHT + 32) < 0) {
		fprintf(stderr, "evburst: cannot have %lu open files\n",
		    opt.nsubs + MAX_INFLIGHT + 32);
		return 2;
	}
	/* the slow subscriber is dropped once the broker holds 1 MiB for
	 * it on top of the socket buffer: the stream must be longer (and
	 * by default several times longer, see the top) */
	need = QUEUE_BYTES + sock_buf_bytes() + 128 * 1024;
	if (need < (uint64_t)opt.min_stream_kib * 1024)
		need = (uint64_t)opt.min_stream_kib * 1024;
	pad = opt.pad >= 0 ? (size_t)opt.pad : 0;
	if (opt.pad < 0 && (sbytes = stream_bytes(0)) < need) {
		/* each padding byte adds 4 bytes per change (value and
		 * oldvalue in two records), 2 for the first */
		pad = (size_t)((need - sbytes + 4 * opt.changes - 3) /
		    (4 * opt.changes - 2));
		if (pad > MAX_PAD) {
			fprintf(stderr, "evburst: too few changes for a "
			    "%" PRIu64 "-byte stream\n", need);
			return 2;
		}
	}
	sbytes = stream_bytes(pad);
	if (opt.pad < 0 && sbytes < need) {
		fprintf(stderr, "evburst: padding miscomputed\n");
		return 2;
	}
	if ((padding = malloc(pad + 2)) == NULL)
		goto out;
	padding[0] = '\0';
	if (pad) {
		padding[0] = '-';
		memset(padding + 1, 'x', pad - 1);
		padding[pad] = '\0';
	}
	subs = calloc(opt.nsubs + 1, sizeof(*subs));
	order = calloc(opt.changes, sizeof(*order));
	seen = calloc(opt.changes, 1);
	pfd = calloc(opt.nsubs + 1 + MAX_INFLIGHT, sizeof(*pfd));
	if (subs == NULL || order == NULL || seen == NULL || pfd == NULL)
		goto out;
	for (i = 0; i <= opt.nsubs; i++) {
		subs[i].fd = -1;
		if ((subs[i].buf = malloc(RBUF_CAP)) == NULL)
			goto out;
	}
	for (i = 0; i < MAX_INFLIGHT; i++)
		reqs[i].fd = -1;

	if (mem_sample(&before) < 0) {
		fail("cannot read /proc/%ld/status", opt.broker_pid);
		goto out;
	}
	/* a fresh start: the feature does not exist */
	n = simple_call("admin.vm.feature.Remove", opt.feature, "", reply,
	    sizeof(reply));
	if (n < 0 || !((n == 2 && memcmp(reply, "0\0", 2) == 0) ||
	    (n > 30 && memcmp(reply, "2\0QubesFeatureNotFoundError\0",
	    28) == 0))) {
		char esc[200];

		escape(esc, sizeof(esc), reply, n > 0 ? (size_t)n : 0);
		fail("admin.vm.feature.Remove+%s on %s: %s", opt.feature,
		    opt.vm, n < 0 ? strerror(errno) : esc);
		goto out;
	}
	if (subscribe_all() < 0)
		goto out;
	mem_sample(&ready);
	peak = ready;
	if (burst(&peak, &elapsed) < 0)
		goto out;
	/* on to the memory check even when the slow one was not dropped */
	if (after_burst(&slow_changes, &slow_bytes) == 0)
		for (i = 0; i < opt.nsubs; i++)
			if (subs[i].bytes != sbytes) {
				fail("reader %zu: %" PRIu64 " bytes, expected "
				    "%" PRIu64, i, subs[i].bytes, sbytes);
				break;
			}
	if (mem_sample(&after) < 0 && opt.broker_pid > 0) {
		fail("broker (pid %ld) gone after the burst",
		    opt.broker_pid);
		goto out;
	}
	if (after.rss > peak.rss)
		peak.rss = after.rss;
	if (opt.broker_pid > 0)
		printf("evburst: broker memory KiB: before VmRSS=%lu "
		    "VmHWM=%lu; subscribed VmRSS=%lu; burst max VmRSS=%lu; "
		    "after VmRSS=%lu VmHWM=%lu\n", before.rss, before.hwm,
		    ready.rss, peak.rss, after.rss, after.hwm);
	if (opt.max_rss_kib && after.hwm > opt.max_rss_kib) {
		fail("broker VmHWM %lu KiB exceeds --max-rss-kib %lu",
		    after.hwm, opt.max_rss_kib);
		goto out;
	}
	if (failed == 0)
		rc = 0;
out:
	if (rc == 0)
		printf("evburst: ok subscribers=%lu changes=%lu "
		    "events/reader=%lu bytes/reader=%" PRIu64 " pad=%zu "
		    "inflight=%lu window=%lu slow=dropped-after-%zu-changes/%"
		    PRIu64 "-bytes time=%.2fs rate=%.0f/s "
		    "broker-VmHWM-KiB=%lu\n",
		    opt.nsubs, opt.changes, 2 * opt.changes, sbytes, pad,
		    opt.inflight, opt.window, slow_changes, slow_bytes, elapsed,
		    elapsed > 0 ? (double)opt.changes / elapsed : 0.0,
		    after.hwm);
	else
		printf("evburst: FAIL subscribers=%lu changes=%lu (%d "
		    "problems, see stderr)\n", opt.nsubs, opt.changes,
		    failed ? failed : 1);
	if (rc != 0 && failed == 0)
		fprintf(stderr, "evburst: out of memory\n");
	cleanup();
	return rc;
}
