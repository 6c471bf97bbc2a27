/*
 * control.c - sockets and the event loop (qubes.api.QubesDaemonProtocol,
 * qubes.tools.qubesd; OpenBSD vmd control.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
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
#include "strbuf.h"

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
	char		 src[64];
	char		 dest[64];
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
		if (!c->stream || c->drop ||
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

int
control_listen(const char *run_dir)
{
	struct strbuf sb;
	int i, j;

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
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
	sb_init(&c->out, 0);
	conns[nconns++] = c;
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
		if (ds.on) {
			c->stream = 1;
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
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return 1;	/* client gone: reply dropped */
		}
		c->off += (size_t)n;
	}
	if (c->stream) {
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

	pfd = calloc(MAX_CONNS + 4, sizeof(*pfd));
	if (pfd == NULL)
		return -1;
	for (;;) {
		n = 0;
		pfd[n].fd = sig_pipe[0];
		pfd[n++].events = POLLIN;
		for (j = 0; j < 3; j++) {
			pfd[n].fd = listen_fd[j];
			pfd[n++].events = POLLIN;
		}
		for (i = 0; i < nconns; i++) {
			pfd[n].fd = conns[i]->fd;
			/* a subscriber has half-closed already: only its
			 * hang-up (always reported) or our output matter */
			pfd[n++].events = conns[i]->writing ? POLLOUT :
			    conns[i]->stream ? 0 : POLLIN;
		}
		r = poll(pfd, n, -1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			free(pfd);
			return -1;
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
			short re = pfd[4 + i].revents;
			int done = 0;

			if (conns[i]->drop) {
				conn_free(i);
				continue;
			}
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
			if (pfd[1 + j].revents & POLLIN)
				do_accept(listen_fd[j], sockets[j].sock);
	}
}

void
control_cleanup(void)
{
	int j;

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
}
