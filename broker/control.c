/*
 * control.c - sockets and the event loop (qubes.api.QubesDaemonProtocol,
 * qubes.tools.qubesd; OpenBSD vmd control.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api.h"
#include "control.h"
#include "api_handlers.h"
#include "dispatch.h"
#include "events.h"
#include "frame.h"
#include "ioall.h"
#include "log.h"
#include "model.h"
#include "props.h"
#include "strbuf.h"
#include "virt.h"
#include "worker.h"

#define MAX_CONNS	1024

struct conn {
	int		 fd;
	enum api_sock	 sock;
	unsigned char	*buf;
	size_t		 len;
	int		 writing;
	struct strbuf	 out;
	size_t		 off;
	int		 stream;	/* admin.Events subscriber */
	int		 drop;		/* fell too far behind */
	int		 waiting;	/* a worker finishes its call */
	int		 done;		/* reply ready, nothing to send */
	char		 src[64];
	char		 dest[64];
	/* admin.vm.Stats */
	int		 stats;
	int		 close_after;	/* end the stream once sent */
	unsigned long	 id;		/* finds it again after a sample */
	double		 stats_next;	/* monotonic time of the next sample */
	double		 prev_time;	/* wall time of the previous one */
	struct stats_prev *prev;
	size_t		 nprev;
};

struct stats_prev {
	char			 name[64];
	unsigned long long	 cputime_ns;
};

/* Unsent event bytes a subscriber may have before it is disconnected
 * (never unbounded memory, never a stalled broker). */
#define STREAM_MAX_PENDING	(1024u * 1024u)

static const struct {
	const char	*file;
	enum api_sock	 sock;
} sockets[3] = {
	{ "qubesd.sock", SOCK_ADMIN },
	{ "qubesd.internal.sock", SOCK_INTERNAL },
	{ "qubesd.misc.sock", SOCK_MISC },
};

static int listen_fd[3] = { -1, -1, -1 };
static char *listen_path[3];
static struct conn *conns[MAX_CONNS];
static size_t nconns;
static int sig_pipe[2] = { -1, -1 };
static int wake_pipe[2] = { -1, -1 };
static int njobs;		/* deferred calls running */
static unsigned long next_conn_id = 1;
static pthread_t stats_thread;
static int stats_running;

/* Any thread: make the loop look again (a worker replied, events). */
static void
control_wake(void)
{
	if (write(wake_pipe[1], "", 1) < 0) {
		/* full: a wake-up is pending anyway */
	}
}

static void
on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	if (write(sig_pipe[1], &c, 1) < 0) {
		/* nothing to do: the pipe is full, a stop is pending */
	}
	errno = saved;
}

static int
make_socket(const char *path)
{
	struct sockaddr_un sun;
	int fd, probe;
	mode_t old;
	struct group *g;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("%s: path too long", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	/* a stale socket (or any file refusing connections) is removed;
	 * a live one means another daemon runs */
	probe = unix_connect(path);
	if (probe >= 0) {
		close(probe);
		log_warnx("%s: socket already exists and accepts "
		    "connections", path);
		return -1;
	}
	if (errno == ECONNREFUSED || errno == ENOTSOCK)
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	old = umask(007);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		log_warn("bind %s", path);
		close(fd);
		return -1;
	}
	umask(old);
	if ((g = getgrnam("qubes")) != NULL && chown(path, (uid_t)-1,
	    g->gr_gid) < 0)
		log_warn("chown %s", path);
	if (listen(fd, 128) < 0) {
		log_warn("listen %s", path);
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

/* events.c delivers every committed event here. */
static void
control_sink(const char *subject, const char *event, const char *const *kv,
    size_t nkv, void *ctx)
{
	struct conn *c;
	size_t i;

	(void)ctx;
	for (i = 0; i < nconns; i++) {
		c = conns[i];
		if (!c->stream || c->stats || c->drop ||
		    !events_filter(c->src, c->dest, subject, event, kv, nkv))
			continue;
		frame_reply_event(&c->out, subject, event, kv, nkv);
		if (!sb_ok(&c->out) || c->out.len - c->off > STREAM_MAX_PENDING) {
			log_warnx("event subscriber %s too slow: disconnected",
			    c->src);
			c->drop = 1;
			continue;
		}
		c->writing = 1;
	}
}

/* ---- admin.vm.Stats: one sampler for every Stats stream */

static struct conn *
conn_by_id(unsigned long id)
{
	size_t i;

	for (i = 0; i < nconns; i++)
		if (conns[i]->id == id)
			return conns[i];
	return NULL;
}

static double
stats_interval(void)
{
	char *v = NULL;
	double d = 3;

	if (gprop_get(GP_stats_interval, &v) == VAL_SET && v != NULL)
		d = strtod(v, NULL);
	free(v);
	return d > 0 ? d : 3;
}

/* One sample into one stream (qubes.api.admin._send_stats_single). */
static void
stats_send(struct conn *c, const struct virt_stat *v, size_t n, double t)
{
	struct stats_prev *np;
	char mem[32], cpu[32], use[32], raw[32];
	const char *kv[8], *name;
	struct vm *vm;
	double rawv;
	size_t i, k, m = 0;
	int all = strcmp(c->dest, "dom0") == 0;

	if (!all && ((vm = app_vm(app, c->dest)) == NULL ||
	    virt_xid(vm) < 0)) {
		struct strbuf msg;

		sb_init(&msg, 0);
		sb_addf(&msg, "Domain not running (either powered off or "
		    "paused): '%s'", c->dest);
		frame_reply_exception(&c->out, "QubesVMNotRunningError",
		    msg.buf ? msg.buf : "");
		sb_free(&msg);
		c->close_after = 1;
		c->writing = 1;
		return;
	}
	np = calloc(n + 1, sizeof(*np));
	for (i = 0; i < n; i++) {
		/* Xen's domain 0 is dom0 */
		name = v[i].xid == 0 ? "dom0" : v[i].name;
		if (!all && strcmp(name, c->dest) != 0)
			continue;
		rawv = 0;
		for (k = 0; k < c->nprev; k++)
			if (strcmp(c->prev[k].name, name) == 0 &&
			    t > c->prev_time) {
				rawv = ((double)v[i].cputime_ns -
				    (double)c->prev[k].cputime_ns) / 1e9 *
				    100 / (t - c->prev_time);
				break;
			}
		/* Python's round(): halves to even */
		rawv = rawv < 0 ? 0 : nearbyint(rawv);
		snprintf(mem, sizeof(mem), "%llu", v[i].mem_kib);
		snprintf(cpu, sizeof(cpu), "%llu", v[i].cputime_ns / 1000000);
		snprintf(use, sizeof(use), "%.0f", nearbyint(rawv /
		    (v[i].nvcpus > 0 ? v[i].nvcpus : 1)));
		snprintf(raw, sizeof(raw), "%.0f", rawv);
		kv[0] = "memory_kb";
		kv[1] = mem;
		kv[2] = "cpu_time";
		kv[3] = cpu;
		kv[4] = "cpu_usage";
		kv[5] = use;
		kv[6] = "cpu_usage_raw";
		kv[7] = raw;
		frame_reply_event(&c->out, name, "vm-stats", kv, 4);
		if (np != NULL) {
			snprintf(np[m].name, sizeof(np[m].name), "%s", name);
			np[m++].cputime_ns = v[i].cputime_ns;
		}
	}
	free(c->prev);
	c->prev = np;
	c->nprev = m;
	c->prev_time = t;
	if (!sb_ok(&c->out) || c->out.len - c->off > STREAM_MAX_PENDING) {
		log_warnx("stats subscriber %s too slow: disconnected", c->src);
		c->drop = 1;
	}
	c->writing = 1;
}

static void *
stats_main(void *arg)
{
	unsigned long due[64];
	struct virt_stat *v;
	struct conn *c;
	double now, next;
	size_t i, nd, n;
	int rc;

	(void)arg;
	model_lock();
	while (!model_stopping()) {
		now = now_mono();
		next = now + 1;
		nd = 0;
		for (i = 0; i < nconns; i++) {
			c = conns[i];
			if (!c->stats || c->drop || c->close_after)
				continue;
			if (c->stats_next <= now) {
				if (nd < sizeof(due) / sizeof(due[0]))
					due[nd++] = c->id;
			} else if (c->stats_next < next) {
				next = c->stats_next;
			}
		}
		if (nd == 0) {
			model_wait(next - now);
			continue;
		}
		/* libvirt may be slow: ask without the lock */
		model_unlock_quiet();
		rc = virt_all_stats(&v, &n);
		model_lock();
		for (i = 0; i < nd; i++) {
			if ((c = conn_by_id(due[i])) == NULL)
				continue;	/* left meanwhile */
			if (rc < 0)
				n = 0;
			stats_send(c, v, n, now_wall());
			c->stats_next = now_mono() + stats_interval();
		}
		free(v);
		model_unlock();		/* wakes the loop to send */
		model_lock();
	}
	model_unlock_quiet();
	return NULL;
}

int
control_listen(const char *run_dir)
{
	struct strbuf sb;
	int i, j;

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	model_set_wake(control_wake);
	if (pthread_create(&stats_thread, NULL, stats_main, NULL) == 0)
		stats_running = 1;
	ev_set_sink(control_sink, NULL);
	/* handlers first: a stop right after the sockets appear is clean */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	for (i = 0; i < 3; i++) {
		sb_init(&sb, 0);
		sb_addf(&sb, "%s/%s", run_dir, sockets[i].file);
		listen_path[i] = sb_steal(&sb);
		listen_fd[i] = make_socket(listen_path[i]);
		if (listen_fd[i] < 0) {
			for (j = 0; j < i; j++) {
				close(listen_fd[j]);
				unlink(listen_path[j]);
				listen_fd[j] = -1;
			}
			return -1;
		}
	}
	return 0;
}

static int
peer_allowed(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct group *g;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return 0;
	if (cr.uid == 0 || cr.uid == geteuid())
		return 1;
	g = getgrnam("qubes");
	return g != NULL && cr.gid == g->gr_gid;
}

static void
conn_free(size_t i)
{
	struct conn *c = conns[i];

	close(c->fd);
	free(c->buf);
	free(c->prev);
	sb_free(&c->out);
	free(c);
	conns[i] = conns[--nconns];
}

static void
do_accept(int lfd, enum api_sock sock)
{
	struct conn *c;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (nconns == MAX_CONNS || !peer_allowed(fd)) {
		log_warnx("connection refused (%s)", nconns == MAX_CONNS ?
		    "too many connections" : "peer credentials");
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->sock = sock;
	c->id = next_conn_id++;
	sb_init(&c->out, 0);
	conns[nconns++] = c;
}

/* A deferred call, on its own thread (worker.h). */
static void *
job_main(void *arg)
{
	struct job *j = arg;
	struct conn *c = j->conn;
	struct reply r;
	int rc;

	reply_init(&r);
	model_lock();
	rc = j->fn(j, &r);
	dispatch_job_reply(j, rc, &r, &c->out);
	c->waiting = 0;
	if (c->out.len == 0)
		c->done = 1;		/* silent close */
	else
		c->writing = 1;
	njobs--;
	model_broadcast();
	model_unlock();
	reply_free(&r);
	free(j);
	return NULL;
}

static void
job_start(struct conn *c, struct job *j)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	j->conn = c;
	c->waiting = 1;
	njobs++;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, job_main, j);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_warnx("cannot start a worker: %s", strerror(rc));
		njobs--;
		c->waiting = 0;
		c->done = 1;
		free(j);
	}
}

/* Returns 1 when the connection is finished and must be freed. */
static int
conn_read(struct conn *c)
{
	unsigned char tmp[16384], *nb;
	ssize_t n;

	for (;;) {
		n = read(c->fd, tmp, sizeof(tmp));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return 1;
		}
		if (n == 0)
			break;
		if (c->len + (size_t)n > API_REQUEST_MAX) {
			log_warnx("request too long");
			return 1;
		}
		nb = realloc(c->buf, c->len + (size_t)n + 1);
		if (nb == NULL)
			return 1;
		c->buf = nb;
		memcpy(c->buf + c->len, tmp, (size_t)n);
		c->len += (size_t)n;
	}
	{
		struct dispatch_stream ds;

		memset(&ds, 0, sizeof(ds));
		dispatch_request(c->sock, c->buf ? c->buf :
		    (unsigned char *)"", c->len, &c->out, &ds);
		if (ds.job != NULL) {
			free(c->buf);
			c->buf = NULL;
			c->len = 0;
			job_start(c, ds.job);
			return c->done;
		}
		if (ds.on) {
			c->stream = 1;
			if (ds.stats) {
				c->stats = 1;
				c->stats_next = now_mono();
				model_broadcast();	/* the sampler */
			}
			memcpy(c->src, ds.src, sizeof(c->src));
			memcpy(c->dest, ds.dest, sizeof(c->dest));
			free(c->buf);
			c->buf = NULL;
			c->len = 0;
		}
	}
	if (c->out.len == 0)
		return 1;		/* silent close */
	c->writing = 1;
	return 0;
}

static int
conn_write(struct conn *c)
{
	ssize_t n;

	while (c->off < c->out.len) {
		n = write(c->fd, c->out.buf + c->off, c->out.len - c->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				/* a subscriber behind: keep only the unsent
				 * bytes, else its buffer grows by all that
				 * was sent since it last caught up */
				if (c->stream && c->off >= c->out.len - c->off) {
					memmove(c->out.buf, c->out.buf + c->off,
					    c->out.len - c->off);
					c->out.len -= c->off;
					c->out.buf[c->out.len] = '\0';
					c->off = 0;
				}
				return 0;
			}
			return 1;	/* client gone: reply dropped */
		}
		c->off += (size_t)n;
	}
	if (c->stream && !c->close_after) {
		/* everything sent: wait for the next event */
		sb_reset(&c->out);
		c->off = 0;
		c->writing = 0;
		return 0;
	}
	shutdown(c->fd, SHUT_WR);
	return 1;
}

int
control_loop(void)
{
	struct pollfd *pfd;
	size_t i, n;
	int r, j;
	unsigned char sig;

	pfd = calloc(MAX_CONNS + 5, sizeof(*pfd));
	if (pfd == NULL)
		return -1;
	for (;;) {
		n = 0;
		pfd[n].fd = sig_pipe[0];
		pfd[n++].events = POLLIN;
		pfd[n].fd = wake_pipe[0];
		pfd[n++].events = POLLIN;
		for (j = 0; j < 3; j++) {
			pfd[n].fd = listen_fd[j];
			pfd[n++].events = POLLIN;
		}
		for (i = 0; i < nconns; i++) {
			/* a connection whose call runs elsewhere is not
			 * polled (its hang-up would wake us forever) */
			pfd[n].fd = conns[i]->waiting ? -1 : conns[i]->fd;
			/* a subscriber has half-closed already: only its
			 * hang-up (always reported) or our output matter */
			pfd[n++].events = conns[i]->writing ? POLLOUT :
			    conns[i]->stream ? 0 : POLLIN;
		}
		model_unlock_quiet();
		r = poll(pfd, n, -1);
		model_lock();
		if (r < 0) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			free(pfd);
			return -1;
		}
		if (pfd[1].revents & POLLIN) {
			char drain[256];

			while (read(wake_pipe[0], drain, sizeof(drain)) > 0)
				;
		}
		if (pfd[0].revents & POLLIN) {
			if (read(sig_pipe[0], &sig, 1) == 1) {
				log_info("caught signal %d, stopping", sig);
				free(pfd);
				return 0;
			}
		}
		/* existing connections first (their indices are stable
		 * until we free one; walk backwards) */
		for (i = nconns; i-- > 0;) {
			short re = pfd[5 + i].revents;
			int done = 0;

			if (conns[i]->waiting)
				continue;
			if (conns[i]->drop || conns[i]->done) {
				conn_free(i);
				continue;
			}
			/* a worker's reply or a subscriber's events
			 * arrived while we slept */
			if (re == 0 && conns[i]->writing)
				re = POLLOUT;
			if (re == 0)
				continue;
			if (conns[i]->stream && (re & (POLLHUP | POLLERR))) {
				conn_free(i);	/* the subscriber left */
				continue;
			}
			if (conns[i]->writing)
				done = conn_write(conns[i]);
			else if (re & (POLLIN | POLLHUP | POLLERR))
				done = conn_read(conns[i]);
			if (!done && conns[i]->writing)
				done = conn_write(conns[i]);
			if (done)
				conn_free(i);
		}
		for (j = 0; j < 3; j++)
			if (pfd[2 + j].revents & POLLIN)
				do_accept(listen_fd[j], sockets[j].sock);
	}
}

int
control_cleanup(void)
{
	double until = now_mono() + 4;
	int j;

	/* let running calls end (a stuck libvirt call is given up on) */
	model_set_stopping();
	while (njobs > 0 && now_mono() < until)
		model_wait(0.5);
	if (njobs > 0) {
		log_warnx("%d calls still running at exit", njobs);
		return -1;
	}
	if (stats_running) {
		/* it takes the lock to see the stop */
		model_unlock_quiet();
		pthread_join(stats_thread, NULL);
		model_lock();
		stats_running = 0;
	}

	while (nconns > 0)
		conn_free(nconns - 1);
	for (j = 0; j < 3; j++) {
		if (listen_fd[j] >= 0)
			close(listen_fd[j]);
		if (listen_path[j] != NULL && unlink(listen_path[j]) < 0)
			log_info("unlink %s: %s", listen_path[j],
			    strerror(errno));
		free(listen_path[j]);
		listen_path[j] = NULL;
		listen_fd[j] = -1;
	}
	if (sig_pipe[0] >= 0) {
		close(sig_pipe[0]);
		close(sig_pipe[1]);
	}
	model_set_wake(NULL);
	if (wake_pipe[0] >= 0) {
		close(wake_pipe[0]);
		close(wake_pipe[1]);
	}
	return 0;
}
