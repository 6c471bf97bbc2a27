/*
 * storage_lvm.c - the lvm_thin pool driver (storage.md 3.3) through the
 * LVM command-line tools, as qubes/storage/lvm.py does it.
 *
 * Every LVM operation is one run of the `lvm` multi-call binary (lvs,
 * lvcreate, lvremove, lvrename, lvextend, lvchange) with an argument
 * vector, no shell, LC_ALL=C, stdin from /dev/null, bounded output and a
 * timeout.  Failures become StoragePoolException with LVM's stderr (the
 * thin over-provisioning warning filtered out, '%' doubled), as
 * _process_lvm_output() does; a failure without any stderr is the
 * reference's AssertionError, i.e. a silent close.
 *
 * The report cache.  qubes.storage.lvm keeps the output of one `lvs`
 * (size_cache) for the whole daemon: sizes, usage, pool, attributes and
 * origin of every active LV, refreshed when older than 30 s and reloaded
 * after every change.  lvm_cache below is that cache: the only mutable
 * state of this file (STYLE rule 14 exception: it is a cache of the LVM
 * state, not part of the model, and losing it only costs one `lvs`).  We
 * reload lazily: a change marks it stale and the next reader reloads.
 *
 * Like the reference, the existence of the running snapshot (-snap) and
 * of an import (-import) is checked on the device nodes /dev/<vg>/<lv>,
 * not in the cache.
 *
 * Test hooks (environment of the broker): QUBES_BROKER_LVM names the lvm
 * binary (default "lvm", found through PATH), QUBES_BROKER_LVM_DEVDIR
 * replaces "/dev" for device nodes and paths handed out
 * (tests/tools/fake-lvm keeps LVs as sparse files there).
 *
 * Blocking: every call waits for its LVM commands (each bounded by
 * LVM_TIMEOUT); CloneTo from another pool copies the data in a child
 * process, bounded by a size-dependent timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "storage.h"
#include "strbuf.h"
#include "util.h"

extern char **environ;
extern const struct storage_driver storage_driver_lvm_thin;

#define LVM_CACHE_TTL	30		/* seconds, refresh_cache() */
#define LVM_TIMEOUT	120		/* seconds per LVM command */
#define LVM_OUT_MAX	(16u << 20)	/* lvs report */
#define LVM_ERR_MAX	(64u << 10)	/* stderr kept for messages */
#define LVM_NAME_MAX	512		/* "vg/lv-suffix" */
#define COPY_BLOCK	(128u * 1024u)
#define OVERPROVISION	"exceeds the size of thin pool"

static const char *const lvm_params[] = {
	"revisions_to_keep", "volume_group", "thin_pool", "ephemeral_volatile",
	NULL
};
static const char *const lvm_defaults[] = {
	"revisions_to_keep", "1", "ephemeral_volatile", "False", NULL
};

/* One row of the lvs report (_parse_lvm_cache). */
struct lv {
	char		*name;		/* "vg/lv" */
	char		*pool_lv;
	char		*attr;
	char		*origin;
	uint64_t	 size;
	uint64_t	 usage;
	int		 have_meta;
	uint64_t	 meta_size;
	uint64_t	 meta_usage;
};

struct lv_cache {
	struct lv	*v;
	size_t		 n;
	int		 loaded;	/* ever loaded */
	int		 stale;		/* reload before the next read */
	struct timespec	 when;		/* CLOCK_MONOTONIC of the load */
};

static struct lv_cache lvm_cache;

/* A revision: <vid>-<secs>-back. */
struct lv_rev {
	long long	 secs;
	size_t		 order;		/* report order, for ties */
	char		 id[64];	/* "<secs>-back" */
};

/* ------------------------------------------------------------------ */
/* running the tools */

static const char *
lvm_prog(void)
{
	const char *s = getenv("QUBES_BROKER_LVM");

	return s != NULL && *s != '\0' ? s : "lvm";
}

static const char *
lvm_devdir(void)
{
	const char *s = getenv("QUBES_BROKER_LVM_DEVDIR");

	return s != NULL && *s != '\0' ? s : "/dev";
}

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The environment of the tools: ours with LC_ALL=C (built before fork,
 * the child may only call async-signal-safe functions). */
static char **
tool_env(void)
{
	char **env;
	size_t n = 0, i, j = 0;

	while (environ != NULL && environ[n] != NULL)
		n++;
	env = xcalloc(n + 2, sizeof(*env));
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "LC_ALL=", 7) != 0)
			env[j++] = environ[i];
	env[j++] = (char *)"LC_ALL=C";
	env[j] = NULL;
	return env;
}

/* In the child: stdin /dev/null, out/err to the given fds (-1: inherit
 * /dev/null), no other descriptors, default SIGPIPE, nothing blocked. */
static void
child_setup(int outfd, int errfd)
{
	sigset_t all;
	int nul;

	nul = open("/dev/null", O_RDWR);
	if (nul < 0)
		_exit(127);
	if (dup2(nul, 0) < 0 ||
	    dup2(outfd >= 0 ? outfd : nul, 1) < 0 ||
	    dup2(errfd >= 0 ? errfd : nul, 2) < 0)
		_exit(127);
	close_range(3, ~0U, 0);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

/* Wait for pid until the monotonic deadline, then SIGKILL it.  Returns
 * the wait status, or -1 if it had to be killed. */
static int
wait_child(pid_t pid, double deadline)
{
	struct timespec ts = { 0, 2000000 };
	int st, killed = 0;
	pid_t w;

	for (;;) {
		w = waitpid(pid, &st, killed ? 0 : WNOHANG);
		if (w == pid)
			return killed ? -1 : st;
		if (w < 0 && errno != EINTR) {
			log_warn("waitpid %ld", (long)pid);
			return -1;
		}
		if (w == 0 && !killed) {
			if (mono_now() >= deadline) {
				kill(pid, SIGKILL);
				killed = 1;
				continue;
			}
			nanosleep(&ts, NULL);
			if (ts.tv_nsec < 50000000)
				ts.tv_nsec *= 2;
		}
	}
}

/* Append at most what fits under the buffer's cap; the rest is read
 * and dropped so that the child never blocks on a full pipe. */
static void
sb_add_capped(struct strbuf *sb, const char *p, size_t n)
{
	size_t room = sb->cap > sb->len ? sb->cap - sb->len : 0;

	if (n > room)
		n = room;
	if (n > 0)
		sb_add(sb, p, n);
}

/*
 * Run argv (argv[0] through PATH) with stdout into out and stderr into
 * err (both capped).  Returns 0 with *code = exit status, or -1 (could
 * not run, killed by a signal or timed out) with a reason in err.
 */
static int
run_tool(const char *const argv[], struct strbuf *out, struct strbuf *err,
    int timeout, int *code)
{
	int op[2] = { -1, -1 }, ep[2] = { -1, -1 };
	struct pollfd pfd[2];
	char buf[8192], **env;
	double deadline;
	ssize_t n;
	pid_t pid;
	int st, i, nopen, left;

	*code = -1;
	if (pipe2(op, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0) {
		sb_addf(err, "cannot run %s: %s", argv[0], strerror(errno));
		goto fail;
	}
	env = tool_env();
	pid = fork();
	if (pid < 0) {
		free(env);
		sb_addf(err, "cannot run %s: %s", argv[0], strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		child_setup(op[1], ep[1]);
		execvpe(argv[0], (char *const *)argv, env);
		_exit(127);
	}
	free(env);
	close(op[1]);
	close(ep[1]);
	op[1] = ep[1] = -1;
	deadline = mono_now() + timeout;
	pfd[0].fd = op[0];
	pfd[1].fd = ep[0];
	nopen = 2;
	while (nopen > 0) {
		left = (int)((deadline - mono_now()) * 1000);
		if (left <= 0)
			break;
		pfd[0].events = pfd[1].events = POLLIN;
		if (poll(pfd, 2, left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				nopen--;
				continue;
			}
			sb_add_capped(i == 0 ? out : err, buf, (size_t)n);
		}
	}
	for (i = 0; i < 2; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	op[0] = ep[0] = -1;
	st = wait_child(pid, deadline);
	if (st == -1) {
		sb_addf(err, "%s timed out after %d s", argv[0], timeout);
		return -1;
	}
	if (WIFSIGNALED(st)) {
		sb_addf(err, "%s killed by signal %d", argv[0], WTERMSIG(st));
		return -1;
	}
	*code = WEXITSTATUS(st);
	return 0;
fail:
	for (i = 0; i < 2; i++) {
		if (op[i] >= 0)
			close(op[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* the report cache */

static void
lv_free(struct lv *lv)
{
	free(lv->name);
	free(lv->pool_lv);
	free(lv->attr);
	free(lv->origin);
}

static void
cache_clear(struct lv_cache *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		lv_free(&c->v[i]);
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

/* Strict decimal integer (the sizes of --units b --nosuffix). */
static int
parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* A percentage of the report ("12.34"); LC_ALL=C gives '.'. */
static int
parse_pct(const char *s, double *out)
{
	char *end;

	if (*s == '\0')
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	return *end != '\0' || errno != 0 ? -1 : 0;
}

/* int(size / 100 * float(percent)) of _parse_lvm_cache. */
static uint64_t
pct_of(uint64_t size, double pct)
{
	double v = (double)size / 100.0 * pct;

	return v > 0 ? (uint64_t)v : 0;
}

#define LVS_FIELDS	9

/* Parse one report line "vg;pool;lv;size;data%;attr;origin;msize;m%"
 * (leading blanks of --noheadings allowed).  0 if kept, -1 if skipped
 * (the reference skips rows with an empty vg, name, size or data%). */
static int
parse_lvs_line(char *line, struct lv *lv)
{
	char *f[LVS_FIELDS], *p = line;
	double pct;
	size_t n = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	f[n++] = p;
	for (; *p != '\0'; p++) {
		if (*p != ';')
			continue;
		if (n == LVS_FIELDS)
			return -1;
		*p = '\0';
		f[n++] = p + 1;
	}
	if (n != LVS_FIELDS)
		return -1;
	if (*f[0] == '\0' || *f[2] == '\0' || *f[3] == '\0' || *f[4] == '\0')
		return -1;
	memset(lv, 0, sizeof(*lv));
	if (parse_u64(f[3], &lv->size) < 0 || parse_pct(f[4], &pct) < 0)
		return -1;
	lv->usage = pct_of(lv->size, pct);
	if (*f[7] != '\0' && parse_u64(f[7], &lv->meta_size) == 0) {
		lv->have_meta = 1;
		if (parse_pct(f[8], &pct) == 0)
			lv->meta_usage = pct_of(lv->meta_size, pct);
	}
	lv->name = xcalloc(1, strlen(f[0]) + strlen(f[2]) + 2);
	snprintf(lv->name, strlen(f[0]) + strlen(f[2]) + 2, "%s/%s", f[0],
	    f[2]);
	lv->pool_lv = xstrdup(f[1]);
	lv->attr = xstrdup(f[5]);
	lv->origin = xstrdup(f[6]);
	return 0;
}

/* Load the report (reset_cache); -1 with the reason in err.  On failure
 * the previous content stays. */
static int
cache_load(struct strbuf *err)
{
	const char *argv[] = {
		lvm_prog(), "lvs", "--noheadings", "--units", "b", "--nosuffix",
		"--separator", ";", "-o",
		"vg_name,pool_lv,lv_name,lv_size,data_percent,lv_attr,origin,"
		"lv_metadata_size,metadata_percent",
		NULL
	};
	struct strbuf out;
	struct lv *v = NULL, *nv;
	size_t n = 0, alloc = 0;
	char *line, *nl;
	int code, rc = -1;

	sb_init(&out, LVM_OUT_MAX);
	if (run_tool(argv, &out, err, LVM_TIMEOUT, &code) < 0)
		goto done;
	if (code != 0) {
		if (err->len == 0)
			sb_addf(err, "lvs exited with status %d", code);
		goto done;
	}
	if (err->len > 0)
		log_warnx("lvs: %.*s", (int)err->len, err->buf);
	if (out.len == LVM_OUT_MAX) {
		sb_adds(err, "lvs report too large");
		goto done;
	}
	for (line = out.buf; line != NULL && *line != '\0'; line = nl) {
		nl = strchr(line, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			nv = realloc(v, alloc * sizeof(*v));
			if (nv == NULL)
				fatalx("out of memory");
			v = nv;
		}
		if (parse_lvs_line(line, &v[n]) == 0)
			n++;
	}
	cache_clear(&lvm_cache);
	lvm_cache.v = v;
	lvm_cache.n = n;
	v = NULL;
	lvm_cache.loaded = 1;
	lvm_cache.stale = 0;
	clock_gettime(CLOCK_MONOTONIC, &lvm_cache.when);
	rc = 0;
done:
	free(v);
	sb_free(&out);
	return rc;
}

/* The cache, reloaded first if stale, never loaded or older than 30 s
 * (refresh_cache()); a failed reload is logged and the old rows used. */
static const struct lv_cache *
cache_get(void)
{
	struct strbuf err;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (lvm_cache.loaded && !lvm_cache.stale &&
	    now.tv_sec - lvm_cache.when.tv_sec <= LVM_CACHE_TTL)
		return &lvm_cache;
	sb_init(&err, LVM_ERR_MAX);
	if (cache_load(&err) < 0)
		log_warnx("cannot read the LVM report: %s",
		    err.buf != NULL ? err.buf : "");
	sb_free(&err);
	return &lvm_cache;
}

static void
cache_invalidate(void)
{
	lvm_cache.stale = 1;
}

static const struct lv *
cache_find(const char *name)
{
	const struct lv_cache *c = cache_get();
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0)
			return &c->v[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* LVM actions (_get_lvm_cmdline, qubes_lvm_coro) */

static int
dev_path(const char *vid, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", lvm_devdir(), vid);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* os.path.exists('/dev/' + vid) */
static int
dev_exists(const char *vid)
{
	char path[LVM_NAME_MAX + 256];
	struct stat st;

	if (dev_path(vid, path, sizeof(path)) < 0)
		return 0;
	return stat(path, &st) == 0;
}

/*
 * Run `lvm ARGS...` (_process_lvm_output): success, else the filtered
 * stderr as StoragePoolException; a failure that printed nothing is an
 * assertion in the reference (silent close).  Every action may change
 * the LVs, so the cache is marked stale whatever the outcome.
 */
static int
lvm_run(struct reply *r, const char *const args[])
{
	const char *argv[16];
	struct strbuf out, err, msg;
	const char *p, *e;
	size_t i;
	int code, rc;

	argv[0] = lvm_prog();
	for (i = 0; args[i] != NULL && i + 2 < sizeof(argv) / sizeof(*argv);
	    i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	sb_init(&out, LVM_ERR_MAX);
	sb_init(&err, LVM_ERR_MAX);
	sb_init(&msg, LVM_ERR_MAX);
	cache_invalidate();
	if (run_tool(argv, &out, &err, LVM_TIMEOUT, &code) < 0) {
		log_warnx("lvm %s: %s", args[0], err.buf ? err.buf : "");
		rc = reply_error(r, "StoragePoolException", "%s",
		    err.buf ? err.buf : "");
		goto done;
	}
	/* drop the over-provisioning warning (rhbz#1347008) */
	for (p = err.buf; p != NULL && *p != '\0'; p = e) {
		e = strchr(p, '\n');
		i = e != NULL ? (size_t)(e - p) : strlen(p);
		if (e != NULL)
			e++;
		if (memmem(p, i, OVERPROVISION, sizeof(OVERPROVISION) - 1) !=
		    NULL)
			continue;
		if (msg.len > 0)
			sb_addc(&msg, '\n');
		sb_add(&msg, p, i);
	}
	if (code == 0) {
		if (msg.len > 0)
			log_warnx("lvm %s: %s", args[0], msg.buf);
		rc = API_OK;
		goto done;
	}
	if (msg.len == 0) {
		log_warnx("lvm %s exited with status %d and no message",
		    args[0], code);
		rc = reply_refuse(r, "lvm failed without a message");
		goto done;
	}
	log_warnx("lvm %s: %s", args[0], msg.buf);
	sb_reset(&out);
	for (p = msg.buf; *p != '\0'; p++) {
		if (*p == '%')
			sb_addc(&out, '%');
		sb_addc(&out, *p);
	}
	rc = reply_error(r, "StoragePoolException", "%s", out.buf);
done:
	sb_free(&out);
	sb_free(&err);
	sb_free(&msg);
	return rc;
}

/* 'remove': nothing if the device node is missing; blkdiscard first
 * (errors ignored), then lvremove. */
static int
lv_remove(struct reply *r, const char *vid)
{
	char path[LVM_NAME_MAX + 256];
	const char *dargv[] = { "blkdiscard", "-p", "1G", path, NULL };
	const char *args[] = { "lvremove", "--force", "--", vid, NULL };
	struct strbuf o, e;
	int code;

	if (vid[0] == '/' || strchr(vid, '/') == NULL)
		return reply_refuse(r, "refusing to remove a whole VG");
	if (!dev_exists(vid) || dev_path(vid, path, sizeof(path)) < 0)
		return API_OK;
	sb_init(&o, 4096);
	sb_init(&e, 4096);
	(void)run_tool(dargv, &o, &e, LVM_TIMEOUT, &code);
	sb_free(&o);
	sb_free(&e);
	return lvm_run(r, args);
}

/* 'clone': thin snapshot of origin (vg/lv) named like vid. */
static int
lv_clone(struct reply *r, const char *origin, const char *vid)
{
	char name[LVM_NAME_MAX + 8];
	const char *lv = strchr(vid, '/');
	const char *args[] = { "lvcreate", "--setactivationskip=n",
	    "--activate=y", "--snapshot", "--type=thin", name, "--", origin,
	    NULL };

	snprintf(name, sizeof(name), "--name=%s", lv != NULL ? lv + 1 : vid);
	return lvm_run(r, args);
}

/* 'create': thin LV lvname of size bytes in vg/thin_pool. */
static int
lv_create(struct reply *r, const char *vg, const char *tpool,
    const char *lvname, uint64_t size)
{
	char name[LVM_NAME_MAX + 8], vsize[48], pool[LVM_NAME_MAX];
	const char *args[] = { "lvcreate", "--thin", "--setactivationskip=n",
	    "--activate=y", name, vsize, "--", pool, NULL };

	snprintf(name, sizeof(name), "--name=%s", lvname);
	snprintf(vsize, sizeof(vsize), "--virtualsize=%" PRIu64 "B", size);
	snprintf(pool, sizeof(pool), "%s/%s", vg, tpool);
	return lvm_run(r, args);
}

static int
lv_extend(struct reply *r, const char *vid, uint64_t size)
{
	char sz[48];
	const char *args[] = { "lvextend", sz, "--", vid, NULL };

	snprintf(sz, sizeof(sz), "--size=%" PRIu64 "B", size);
	return lvm_run(r, args);
}

static int
lv_rename(struct reply *r, const char *from, const char *to)
{
	const char *args[] = { "lvrename", "--", from, to, NULL };

	return lvm_run(r, args);
}

static int
lv_activate(struct reply *r, const char *vid)
{
	const char *args[] = { "lvchange", "--activate=y", "--", vid, NULL };

	return lvm_run(r, args);
}

/* ------------------------------------------------------------------ */
/* volumes */

/* buf = vid + suffix; -1 if too long. */
static int
vid_with(char *buf, size_t len, const char *vid, const char *suffix)
{
	int n = snprintf(buf, len, "%s%s", vid, suffix);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int
rev_cmp(const void *a, const void *b)
{
	const struct lv_rev *x = a, *y = b;

	if (x->secs != y->secs)
		return x->secs < y->secs ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * Revisions of vid (ThinVolume.revisions), oldest first: LVs
 * "<vid>-<secs>-back".  Names with more dashes belong to another qube
 * whose name has this one as a prefix (QubesOS#4680) and are skipped;
 * so are non-numeric times (the reference would crash on them).
 * Returns a malloc'd array (caller frees) and its length in *n.
 */
static struct lv_rev *
vol_revs(const char *vid, size_t *n)
{
	const struct lv_cache *c = cache_get();
	struct lv_rev *revs;
	size_t i, vl = strlen(vid), k = 0, rl;
	const char *rest, *dash;
	uint64_t secs;
	char num[32];

	revs = xcalloc(c->n + 1, sizeof(*revs));
	for (i = 0; i < c->n; i++) {
		if (strncmp(c->v[i].name, vid, vl) != 0 ||
		    c->v[i].name[vl] != '-')
			continue;
		rest = c->v[i].name + vl + 1;
		rl = strlen(rest);
		if (rl < 5 || strcmp(rest + rl - 5, "-back") != 0)
			continue;
		dash = strchr(rest, '-');
		if ((size_t)(dash - rest) != rl - 5 ||
		    rl - 5 >= sizeof(num) || rl >= sizeof(revs[k].id))
			continue;
		memcpy(num, rest, rl - 5);
		num[rl - 5] = '\0';
		if (parse_u64(num, &secs) < 0 || secs > INT64_MAX)
			continue;
		revs[k].secs = (long long)secs;
		revs[k].order = i;
		memcpy(revs[k].id, rest, rl + 1);
		k++;
	}
	qsort(revs, k, sizeof(*revs), rev_cmp);
	*n = k;
	return revs;
}

/* _vid_current: vid if it is in the report, else its newest revision,
 * else vid. */
static void
vid_current(const char *vid, char *buf, size_t len)
{
	struct lv_rev *revs;
	size_t n;

	snprintf(buf, len, "%s", vid);
	if (cache_find(vid) != NULL)
		return;
	revs = vol_revs(vid, &n);
	if (n > 0)
		snprintf(buf, len, "%s-%s", vid, revs[n - 1].id);
	free(revs);
}

/* is_dirty(): save_on_stop and the -snap device exists. */
static int
vol_dirty(const struct vol *v)
{
	char snap[LVM_NAME_MAX];

	if (!v->save_on_stop || vid_with(snap, sizeof(snap), v->vid,
	    "-snap") < 0)
		return 0;
	return dev_exists(snap);
}

/* An import is running (only save_on_stop volumes have _vid_import). */
static int
vol_importing(const struct vol *v)
{
	char imp[LVM_NAME_MAX];

	if (!v->save_on_stop || vid_with(imp, sizeof(imp), v->vid,
	    "-import") < 0)
		return 0;
	return dev_exists(imp);
}

/* ThinVolume.size: the -snap LV while it exists, else the current LV,
 * else the configured size. */
static uint64_t
vol_size(const struct vol *v)
{
	char name[LVM_NAME_MAX];
	const struct lv *lv;

	if ((v->snap_on_start || v->save_on_stop) &&
	    vid_with(name, sizeof(name), v->vid, "-snap") == 0 &&
	    dev_exists(name)) {
		lv = cache_find(name);
		return lv != NULL ? lv->size : v->size;
	}
	vid_current(v->vid, name, sizeof(name));
	lv = cache_find(name);
	return lv != NULL ? lv->size : v->size;
}

static long long
vol_keep(const struct kvlist *pool, const struct vol *v)
{
	return v->revisions_to_keep >= 0 ? v->revisions_to_keep :
	    pool_revisions(pool);
}

/*
 * _commit(): make `from` the current state: the current LV becomes the
 * revision <vid>-<now>-back, `from` is renamed (or, with keep, thin
 * snapshotted) to vid, then revisions beyond revisions_to_keep are
 * removed (oldest first, errors ignored).  Nothing if `from` is gone.
 */
static int
vol_commit(struct reply *r, const struct kvlist *pool, const struct vol *v,
    const char *from, int keep)
{
	char cur[LVM_NAME_MAX], back[LVM_NAME_MAX], suffix[48], rev[LVM_NAME_MAX];
	struct reply junk;
	struct lv_rev *revs;
	long long keepn;
	size_t n, i, drop;
	int rc;

	if (!v->save_on_stop || !v->rw)
		return reply_refuse(r, "commit of a volume without "
		    "save_on_stop or rw");
	if (!dev_exists(from))
		return API_OK;
	vid_current(v->vid, cur, sizeof(cur));
	if (strcmp(cur, v->vid) == 0) {
		snprintf(suffix, sizeof(suffix), "-%lld-back",
		    (long long)time(NULL));
		if (vid_with(back, sizeof(back), v->vid, suffix) < 0)
			return reply_refuse(r, "volume id too long");
		if ((rc = lv_rename(r, v->vid, back)) != API_OK)
			return rc;
	}
	rc = keep ? lv_clone(r, from, v->vid) : lv_rename(r, from, v->vid);
	if (rc != API_OK)
		return rc;

	keepn = vol_keep(pool, v);
	revs = vol_revs(v->vid, &n);
	drop = keepn <= 0 ? n : (size_t)keepn >= n ? 0 : n - (size_t)keepn;
	for (i = 0; i < drop; i++) {
		snprintf(rev, sizeof(rev), "%s-%s", v->vid, revs[i].id);
		reply_init(&junk);
		(void)lv_remove(&junk, rev);
		reply_free(&junk);
	}
	free(revs);
	return API_OK;
}

/* "vg/lv" with '-' doubled and '/' turned into '-' (device-mapper). */
static void
dm_name(const char *vid, char *buf, size_t len)
{
	size_t o = 0;

	for (; *vid != '\0' && o + 3 < len; vid++) {
		if (*vid == '-') {
			buf[o++] = '-';
			buf[o++] = '-';
		} else
			buf[o++] = *vid == '/' ? '-' : *vid;
	}
	buf[o] = '\0';
}

static int
pool_names(const struct kvlist *pool, const char **vg, const char **tp)
{
	*vg = pool_param(pool, "volume_group");
	*tp = pool_param(pool, "thin_pool");
	return *vg != NULL && *tp != NULL ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* pool operations */

static int
lvm_pool_setup(struct reply *r, const struct kvlist *pool)
{
	struct strbuf err;
	const struct lv *lv;
	const char *vg, *tp;
	char key[LVM_NAME_MAX];
	int rc;

	/* missing required parameters: TypeError in the constructor */
	if (pool_names(pool, &vg, &tp) < 0)
		return reply_refuse(r, "lvm_thin pool without volume_group "
		    "or thin_pool");
	sb_init(&err, LVM_ERR_MAX);
	if (cache_load(&err) < 0) {
		while (err.len > 0 && (err.buf[err.len - 1] == '\n' ||
		    err.buf[err.len - 1] == '\r'))
			err.buf[--err.len] = '\0';
		rc = reply_error(r, "StoragePoolException", "%s",
		    err.buf != NULL ? err.buf : "");
		sb_free(&err);
		return rc;
	}
	sb_free(&err);
	snprintf(key, sizeof(key), "%s/%s", vg, tp);
	lv = cache_find(key);
	if (lv == NULL)
		return reply_error(r, "StoragePoolException",
		    "Thin pool %s does not exist", key);
	if (lv->attr[0] != 't')
		return reply_error(r, "StoragePoolException",
		    "Volume %s is not a thin pool", key);
	return API_OK;
}

static const struct lv *
pool_lv(const struct kvlist *pool)
{
	const char *vg, *tp;
	char key[LVM_NAME_MAX];

	if (pool_names(pool, &vg, &tp) < 0)
		return NULL;
	snprintf(key, sizeof(key), "%s/%s", vg, tp);
	return cache_find(key);
}

static void
lvm_pool_usage(const struct kvlist *pool, struct pool_usage *u)
{
	const struct lv *lv = pool_lv(pool);

	u->have_size = u->have_usage = 1;
	u->size = lv != NULL ? lv->size : 0;
	u->usage = lv != NULL ? lv->usage : 0;
}

static int
lvm_pool_usage_details(struct reply *r, const struct kvlist *pool,
    struct strbuf *out)
{
	const struct lv *lv = pool_lv(pool);

	(void)r;
	sb_addf(out, "data_size=%" PRIu64 "\ndata_usage=%" PRIu64 "\n",
	    lv != NULL ? lv->size : 0, lv != NULL ? lv->usage : 0);
	if (lv == NULL)
		sb_adds(out, "metadata_size=0\nmetadata_usage=0\n");
	else if (!lv->have_meta)
		/* str('') and str(None) */
		sb_adds(out, "metadata_size=\nmetadata_usage=None\n");
	else
		sb_addf(out, "metadata_size=%" PRIu64 "\nmetadata_usage=%"
		    PRIu64 "\n", lv->meta_size, lv->meta_usage);
	return API_OK;
}

/* Every LV in this thin pool but the -snap/-import/-back helpers, in
 * report order. */
static int
lvm_pool_volumes(struct reply *r, const struct kvlist *pool,
    struct strbuf *out)
{
	const struct lv_cache *c = cache_get();
	const char *vg, *tp, *name;
	size_t i, vl, nl;

	if (pool_names(pool, &vg, &tp) < 0)
		return reply_refuse(r, "lvm_thin pool without volume_group "
		    "or thin_pool");
	vl = strlen(vg);
	for (i = 0; i < c->n; i++) {
		name = c->v[i].name;
		nl = strlen(name);
		if (strncmp(name, vg, vl) != 0 || name[vl] != '/' ||
		    strcmp(c->v[i].pool_lv, tp) != 0)
			continue;
		if ((nl >= 5 && strcmp(name + nl - 5, "-snap") == 0) ||
		    (nl >= 7 && strcmp(name + nl - 7, "-import") == 0) ||
		    (nl >= 5 && strcmp(name + nl - 5, "-back") == 0))
			continue;
		sb_adds(out, name);
		sb_addc(out, '\n');
	}
	return API_OK;
}

/* ------------------------------------------------------------------ */
/* volume operations */

/* create(): only save_on_stop volumes get an LV now (a fresh thin LV, or
 * a snapshot of the source's current LV); the others are made at start. */
static int
lvm_vol_create(struct reply *r, const struct kvlist *pool, struct vm *vm,
    const struct vol *vol)
{
	const char *vg, *tp, *lv;
	char src[LVM_NAME_MAX];

	(void)vm;
	if (vol->vid == NULL || pool_names(pool, &vg, &tp) < 0)
		return reply_refuse(r, "lvm volume without vid");
	if (vol_size(vol) == 0)
		return reply_refuse(r, "lvm volume of size 0");
	if (!vol->save_on_stop)
		return API_OK;
	if (vol->source != NULL) {
		vid_current(vol->source, src, sizeof(src));
		return lv_clone(r, src, vol->vid);
	}
	lv = strchr(vol->vid, '/');
	if (lv == NULL)
		return reply_refuse(r, "lvm vid without volume group");
	return lv_create(r, vg, tp, lv + 1, vol->size);
}

/* remove(): -snap, -import, every revision (errors ignored), current. */
static int
lvm_vol_remove(struct reply *r, const struct kvlist *pool, struct vm *vm,
    const struct vol *vol)
{
	char name[LVM_NAME_MAX];
	struct reply junk;
	struct lv_rev *revs;
	size_t n, i;
	int rc;

	(void)pool;
	(void)vm;
	if (vol->vid == NULL)
		return reply_refuse(r, "lvm volume without vid");
	if ((vol->snap_on_start || vol->save_on_stop) &&
	    vid_with(name, sizeof(name), vol->vid, "-snap") == 0 &&
	    dev_exists(name) && (rc = lv_remove(r, name)) != API_OK)
		return rc;
	if (vol->save_on_stop &&
	    vid_with(name, sizeof(name), vol->vid, "-import") == 0 &&
	    dev_exists(name) && (rc = lv_remove(r, name)) != API_OK)
		return rc;
	revs = vol_revs(vol->vid, &n);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s-%s", vol->vid, revs[i].id);
		reply_init(&junk);
		(void)lv_remove(&junk, name);
		reply_free(&junk);
	}
	free(revs);
	vid_current(vol->vid, name, sizeof(name));
	if (!dev_exists(name))
		return API_OK;
	return lv_remove(r, name);
}

static void
lvm_vol_state(const struct kvlist *pool, const struct vm *vm,
    const struct vol *vol, struct vol_state *st)
{
	char cur[LVM_NAME_MAX], dm[2 * LVM_NAME_MAX], snap[LVM_NAME_MAX];
	const struct lv *lv, *slv;

	(void)pool;
	(void)vm;
	memset(st, 0, sizeof(*st));
	if (vol->vid == NULL) {
		st->size = vol->size;
		return;
	}
	st->size = vol_size(vol);
	vid_current(vol->vid, cur, sizeof(cur));
	lv = cache_find(cur);
	st->usage = lv != NULL ? lv->usage : 0;
	dm_name(cur, dm, sizeof(dm));
	snprintf(st->path, sizeof(st->path), "%s/mapper/%s", lvm_devdir(), dm);
	/* is_outdated(): the running snapshot is not of the source's
	 * current LV any more */
	if (vol->snap_on_start && vol->source != NULL &&
	    vid_with(snap, sizeof(snap), vol->vid, "-snap") == 0) {
		const char *base;

		/* no lv pointer may be held across a call that reloads */
		vid_current(vol->source, cur, sizeof(cur));
		base = strrchr(cur, '/');
		if ((slv = cache_find(snap)) != NULL)
			st->is_outdated = strcmp(slv->origin,
			    base != NULL ? base + 1 : cur) != 0;
	}
}

static int
lvm_vol_revisions(struct reply *r, const struct kvlist *pool,
    const struct vol *vol, struct strbuf *out)
{
	struct lv_rev *revs;
	size_t n, i;

	(void)r;
	(void)pool;
	if (vol->vid == NULL)
		return API_OK;
	revs = vol_revs(vol->vid, &n);
	for (i = 0; i < n; i++) {
		sb_adds(out, revs[i].id);
		sb_addc(out, '\n');
	}
	free(revs);
	return API_OK;
}

/* revert(): the current LV is discarded (not kept as a revision) and
 * replaced by a thin snapshot of the revision, which stays. */
static int
lvm_vol_revert(struct reply *r, const struct kvlist *pool, struct vm *vm,
    const struct vol *vol, const char *revision)
{
	char old[LVM_NAME_MAX], path[LVM_NAME_MAX + 256], suffix[80];
	struct lv_rev *revs;
	size_t n;
	int rc;

	(void)pool;
	(void)vm;
	if (vol->vid == NULL)
		return reply_refuse(r, "lvm volume without vid");
	if (vol_dirty(vol))
		return reply_error(r, "StoragePoolException",
		    "Cannot revert dirty volume %s, stop the qube first",
		    vol->vid);
	if (vol_importing(vol))
		return reply_error(r, "StoragePoolException",
		    "Import operation in progress on %s", vol->vid);
	if (revision == NULL) {
		revs = vol_revs(vol->vid, &n);
		if (n > 0)
			snprintf(suffix, sizeof(suffix), "-%s",
			    revs[n - 1].id);
		free(revs);
		if (n == 0)
			return reply_refuse(r, "no revision to revert to");
	} else if ((size_t)snprintf(suffix, sizeof(suffix), "-%s", revision)
	    >= sizeof(suffix))
		return reply_refuse(r, "revision id too long");
	if (vid_with(old, sizeof(old), vol->vid, suffix) < 0 ||
	    dev_path(old, path, sizeof(path)) < 0)
		return reply_refuse(r, "volume id too long");
	if (!dev_exists(old))
		return reply_error(r, "StoragePoolException",
		    "Volume %s has no %s", vol->vid, path);
	if (cache_find(vol->vid) != NULL &&
	    (rc = lv_remove(r, vol->vid)) != API_OK)
		return rc;
	return lv_clone(r, old, vol->vid);
}

static int
lvm_vol_resize(struct reply *r, const struct kvlist *pool, struct vm *vm,
    const struct vol *vol, uint64_t size)
{
	char name[LVM_NAME_MAX], num[32];
	struct kvlist *kv;
	uint64_t cur;
	int rc = API_OK;

	(void)pool;
	if (vol->vid == NULL)
		return reply_refuse(r, "lvm volume without vid");
	if (!vol->rw)
		return reply_error(r, "StoragePoolException",
		    "Can not resize readonly volume %s", vol->vid);
	cur = vol_size(vol);
	if (size < cur)
		return reply_error(r, "StoragePoolException",
		    "For your own safety, shrinking of %s is disabled "
		    "(%" PRIu64 " < %" PRIu64 "). If you really know what you "
		    "are doing, use `lvresize` on %s manually.",
		    vol->name, size, cur, vol->vid);
	if (size == cur)
		return API_OK;
	if (vol_dirty(vol) || vol->snap_on_start) {
		if (vid_with(name, sizeof(name), vol->vid, "-snap") < 0)
			return reply_refuse(r, "volume id too long");
		rc = lv_extend(r, name, size);
	} else if (vol_importing(vol)) {
		if (vid_with(name, sizeof(name), vol->vid, "-import") < 0)
			return reply_refuse(r, "volume id too long");
		rc = lv_extend(r, name, size);
	} else if (vol->save_on_stop) {
		vid_current(vol->vid, name, sizeof(name));
		rc = lv_extend(r, name, size);
	}
	if (rc != API_OK)
		return rc;
	/* the configured size follows (self._size = size) */
	kv = vm_volume(vm, vol->name);
	snprintf(num, sizeof(num), "%" PRIu64, size);
	if (kv != NULL && vol_set(kv, "size", num) < 0)
		return reply_error(r, "StoragePoolException", "out of memory");
	return API_OK;
}

static int
lvm_import_begin(struct reply *r, const struct kvlist *pool, struct vm *vm,
    const struct vol *vol, uint64_t size, char *pathbuf, size_t pathlen)
{
	char imp[LVM_NAME_MAX];
	const char *vg, *tp;
	int rc;

	(void)vm;
	if (vol->vid == NULL || pool_names(pool, &vg, &tp) < 0)
		return reply_refuse(r, "lvm volume without vid");
	if (vol_dirty(vol))
		return reply_error(r, "StoragePoolException",
		    "Cannot import data to dirty volume %s, stop the qube "
		    "first", vol->vid);
	if (vol_importing(vol))
		return reply_error(r, "StoragePoolException",
		    "Import operation in progress on %s", vol->vid);
	/* no _vid_import without save_on_stop: AttributeError */
	if (!vol->save_on_stop)
		return reply_refuse(r, "import into a volume without "
		    "save_on_stop");
	if (vid_with(imp, sizeof(imp), vol->vid, "-import") < 0 ||
	    strchr(imp, '/') == NULL || dev_path(imp, pathbuf, pathlen) < 0)
		return reply_refuse(r, "volume id too long");
	rc = lv_create(r, vg, tp, strchr(imp, '/') + 1, size);
	if (rc != API_OK)
		pathbuf[0] = '\0';
	return rc;
}

static int
lvm_import_end(struct reply *r, const struct kvlist *pool, struct vm *vm,
    const struct vol *vol, int success)
{
	char imp[LVM_NAME_MAX];

	(void)vm;
	if (vol->vid == NULL || !vol->save_on_stop)
		return reply_refuse(r, "import into a volume without "
		    "save_on_stop");
	if (vid_with(imp, sizeof(imp), vol->vid, "-import") < 0)
		return reply_refuse(r, "volume id too long");
	if (!dev_exists(imp))
		return reply_error(r, "StoragePoolException",
		    "No import operation in progress on %s", vol->vid);
	if (success)
		return vol_commit(r, pool, vol, imp, 0);
	return lv_remove(r, imp);
}

/* Seconds allowed for copying size bytes: 10 min plus 1 s per 16 MiB,
 * at most a week. */
static double
copy_timeout(uint64_t size)
{
	uint64_t s = size >> 24;

	return 600.0 + (double)(s < 604800 ? s : 604800);
}

/*
 * dd conv=sparse,nocreat,fsync bs=128K, in a child process: copy src to
 * the existing dst, seeking over all-zero blocks (dst is a fresh, zeroed
 * thin LV).  Returns the child's exit status (0 ok, 1 I/O error, -1
 * killed or timed out).
 */
static int
copy_sparse(const char *src, const char *dst, uint64_t size)
{
	unsigned char *buf;
	size_t have;
	ssize_t n;
	pid_t pid;
	int in, out, st;

	buf = malloc(COPY_BLOCK);
	if (buf == NULL)
		return 1;
	pid = fork();
	if (pid < 0) {
		log_warn("fork");
		free(buf);
		return 1;
	}
	if (pid == 0) {
		child_setup(-1, -1);
		in = open(src, O_RDONLY | O_CLOEXEC);
		out = open(dst, O_WRONLY | O_CLOEXEC);
		if (in < 0 || out < 0)
			_exit(1);
		for (;;) {
			have = 0;
			while (have < COPY_BLOCK) {
				n = read(in, buf + have, COPY_BLOCK - have);
				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0)
					_exit(1);
				if (n == 0)
					break;
				have += (size_t)n;
			}
			if (have == 0)
				break;
			if (buf[0] == 0 &&
			    memcmp(buf, buf + 1, have - 1) == 0) {
				if (lseek(out, (off_t)have, SEEK_CUR) < 0)
					_exit(1);
			} else {
				size_t off = 0;

				while (off < have) {
					n = write(out, buf + off, have - off);
					if (n < 0 && errno == EINTR)
						continue;
					if (n <= 0)
						_exit(1);
					off += (size_t)n;
				}
			}
			if (have < COPY_BLOCK)
				break;
		}
		if (fsync(out) < 0 && errno != EINVAL)
			_exit(1);
		_exit(0);
	}
	free(buf);
	st = wait_child(pid, mono_now() + copy_timeout(size));
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/*
 * Where CloneTo reads the source's last committed data (export()):
 * lvm_thin the activated current LV, file / file-reflink the clean image
 * <dir_path>/<vid>.img.
 */
static int
src_export(struct reply *r, const struct kvlist *spool,
    const struct vol *src, char *path, size_t len)
{
	const struct storage_driver *d = pool_driver(spool);
	char cur[LVM_NAME_MAX];
	const char *dir;
	int rc, n;

	if (d == &storage_driver_lvm_thin) {
		vid_current(src->vid, cur, sizeof(cur));
		if ((rc = lv_activate(r, cur)) != API_OK)
			return rc;
		if (dev_path(cur, path, len) < 0)
			return reply_refuse(r, "volume id too long");
		return API_OK;
	}
	if (d != NULL && (strcmp(d->name, "file") == 0 ||
	    strcmp(d->name, "file-reflink") == 0) &&
	    (dir = pool_param(spool, "dir_path")) != NULL) {
		n = snprintf(path, len, "%s/%s.img", dir, src->vid);
		if (n < 0 || (size_t)n >= len)
			return reply_refuse(r, "path too long");
		return API_OK;
	}
	return reply_refuse(r, "cannot export from this pool driver");
}

/* import_volume(): same thin pool → thin snapshot of the source's
 * current LV committed; otherwise a new -import LV filled with a sparse
 * copy of the source, committed. */
static int
lvm_vol_clone(struct reply *r, const struct kvlist *dpool, struct vm *dvm,
    const struct vol *dst, const struct kvlist *spool, const struct vm *svm,
    const struct vol *src)
{
	const struct storage_driver *sd = pool_driver(spool);
	char imp[LVM_NAME_MAX], cur[LVM_NAME_MAX], from[PATH_MAX];
	char to[LVM_NAME_MAX + 256];
	const char *vg, *tp, *svg, *stp;
	struct vol_state st;
	struct reply junk;
	uint64_t size;
	int rc, code;

	(void)dvm;
	if (dst->vid == NULL || src->vid == NULL ||
	    pool_names(dpool, &vg, &tp) < 0)
		return reply_refuse(r, "lvm volume without vid");
	if (!src->save_on_stop)
		return API_OK;
	if (vol_dirty(dst))
		return reply_error(r, "StoragePoolException",
		    "Cannot import to dirty volume %s - start and stop a qube "
		    "to cleanup", dst->vid);
	if (vol_importing(dst))
		return reply_error(r, "StoragePoolException",
		    "Import operation in progress on %s", dst->vid);
	if (sd == &storage_driver_lvm_thin &&
	    pool_names(spool, &svg, &stp) == 0 &&
	    strcmp(svg, vg) == 0 && strcmp(stp, tp) == 0) {
		vid_current(src->vid, cur, sizeof(cur));
		return vol_commit(r, dpool, dst, cur, 1);
	}
	if (!dst->save_on_stop)
		return reply_refuse(r, "import into a volume without "
		    "save_on_stop");
	if (sd == NULL || sd->vol_state == NULL)
		return reply_refuse(r, "source pool without a driver");
	sd->vol_state(spool, svm, src, &st);
	size = st.size;
	if (vid_with(imp, sizeof(imp), dst->vid, "-import") < 0 ||
	    strchr(imp, '/') == NULL || dev_path(imp, to, sizeof(to)) < 0)
		return reply_refuse(r, "volume id too long");
	if ((rc = lv_create(r, vg, tp, strchr(imp, '/') + 1, size)) != API_OK)
		return rc;
	rc = src_export(r, spool, src, from, sizeof(from));
	if (rc != API_OK) {
		reply_init(&junk);
		(void)lv_remove(&junk, imp);
		reply_free(&junk);
		return rc;
	}
	code = copy_sparse(from, to, size);
	if (code != 0) {
		reply_init(&junk);
		(void)lv_remove(&junk, imp);
		reply_free(&junk);
		return reply_error(r, "StoragePoolException",
		    "Failed to import volume '%s:%s', dd exit code: %d",
		    src->pool != NULL ? src->pool : "", src->vid, code);
	}
	return vol_commit(r, dpool, dst, imp, 0);
}

const struct storage_driver storage_driver_lvm_thin = {
	.name = "lvm_thin",
	.params = lvm_params,
	.defaults = lvm_defaults,
	.pool_setup = lvm_pool_setup,
	.pool_usage = lvm_pool_usage,
	.pool_usage_details = lvm_pool_usage_details,
	.pool_volumes = lvm_pool_volumes,
	.vol_create = lvm_vol_create,
	.vol_remove = lvm_vol_remove,
	.vol_state = lvm_vol_state,
	.vol_revisions = lvm_vol_revisions,
	.vol_revert = lvm_vol_revert,
	.vol_resize = lvm_vol_resize,
	.import_begin = lvm_import_begin,
	.import_end = lvm_import_end,
	.vol_clone = lvm_vol_clone,
};
