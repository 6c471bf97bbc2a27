/*
 * storage_reflink.c - the file-reflink pool driver (storage.md 3.2):
 * plain image files, reflink (FICLONE) copies, numbered revisions.
 *
 * Behaviour of qubes/storage/reflink.py (qubes-core-admin 4.2.39).  For a
 * volume with vid V in a pool with directory D (made absolute):
 *
 *	D/V.img			clean image: the last commit
 *	D/V-dirty.img		image of the running qube; also Info "path"
 *	D/V-precache.img	reflink of V.img with its mtime, made after
 *				each commit so that the next start is a rename
 *	D/V-import.img		import in progress
 *	D/V.img.N@<ts>Z		revision N; <ts> = mtime of the clean image
 *				(UTC, seconds) when it became a revision
 *	D/V*.img*~*		temporaries of replace_file(); removed on
 *				start, create and remove
 *
 * Every file is written as the reference's qubes.utils.replace_file()
 * does: a temporary "<dst>~XXXXXX" next to it, fchmod 0600, fsync,
 * rename, fsync of the directory.  Removals and renames fsync the
 * directory too.
 *
 * Copies are reflinks (ioctl FICLONE) and nothing else: where the
 * reference falls back to `cp --sparse=always`, this driver answers
 * StoragePoolException (a reflink pool that silently copies gigabytes on
 * the broker's loop would defeat its purpose).
 *
 * Errors: the reference's StoragePoolException messages are reproduced;
 * what it raises as OSError / NotImplementedError / KeyError is a
 * refusal (silent close) here, with a log line.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <linux/fs.h>
#include <linux/loop.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "model.h"
#include "props.h"
#include "storage.h"
#include "util.h"
#include "virt.h"

#define EXC_POOL	"StoragePoolException"

extern const struct storage_driver storage_driver_reflink;

/* "YYYY-MM-DDTHH:MM:SS" */
#define REV_TS_LEN	19
/* "@" + timestamp + "Z": the fixed tail of a revision file name */
#define REV_TAIL_LEN	(REV_TS_LEN + 2)
/* digits of a revision number (fits unsigned long long, +1 too) */
#define REV_ID_MAX	19
/* revisions of one volume we are willing to look at */
#define REV_MAX		4096

static const char *const reflink_params[] = {
	"revisions_to_keep", "dir_path", "setup_check", "ephemeral_volatile",
	NULL
};
static const char *const reflink_defaults[] = {
	"revisions_to_keep", "1", "ephemeral_volatile", "False", NULL
};

/* The files of one volume (absolute paths). */
struct rpaths {
	char	dir[PATH_MAX];		/* pool directory */
	char	vid[PATH_MAX];		/* <dir>/<vid> */
	char	clean[PATH_MAX];	/* <vid>.img */
	char	dirty[PATH_MAX];	/* <vid>-dirty.img */
	char	precache[PATH_MAX];	/* <vid>-precache.img */
	char	import[PATH_MAX];	/* <vid>-import.img */
};

struct rev {
	unsigned long long	 n;
	size_t			 seq;		/* directory order */
	char			 id[REV_ID_MAX + 1];
	char			 ts[REV_TS_LEN + 1];
};

/* Revisions by number (the reference's `revisions` OrderedDict). */
struct revs {
	struct rev	*v;
	size_t		 n;
};

/* A replace_file() temporary. */
struct tmpfile {
	int	 fd;
	char	 path[PATH_MAX];
};

/* ---------------------------------------------------------------------
 * paths
 */

static int
fmt_path(char *buf, size_t len, const char *fmt, ...) PRINTF_LIKE(3, 4);

static int
fmt_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * os.path.abspath(): a relative path is taken from the current directory,
 * then normalised lexically as posixpath.normpath() does ("." and empty
 * components dropped, ".." pops one, exactly two leading slashes kept).
 */
static int
abspath(const char *in, char *out, size_t outlen)
{
	char full[PATH_MAX], cwd[PATH_MAX];
	const char *comp[PATH_MAX / 2];
	size_t ncomp = 0, lead, i, o, l;
	char *p, *save = NULL;

	if (in[0] == '/') {
		if (fmt_path(full, sizeof(full), "%s", in) == -1)
			return -1;
	} else {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return -1;
		if (fmt_path(full, sizeof(full), "%s/%s", cwd, in) == -1)
			return -1;
	}
	for (lead = 0; full[lead] == '/'; lead++)
		;
	lead = lead == 2 ? 2 : 1;
	for (p = strtok_r(full, "/", &save); p != NULL;
	    p = strtok_r(NULL, "/", &save)) {
		if (strcmp(p, ".") == 0)
			continue;
		if (strcmp(p, "..") == 0) {
			if (ncomp > 0)
				ncomp--;
			continue;
		}
		comp[ncomp++] = p;
	}
	if (outlen <= lead) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (o = 0; o < lead; o++)
		out[o] = '/';
	for (i = 0; i < ncomp; i++) {
		l = strlen(comp[i]);
		if (o + l + 2 > outlen) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (i > 0)
			out[o++] = '/';
		memcpy(out + o, comp[i], l);
		o += l;
	}
	out[o] = '\0';
	return 0;
}

/* The pool directory, absolute; -1 if dir_path is missing. */
static int
pool_dir(const struct kvlist *pool, char *buf, size_t len)
{
	const char *d = pool_param(pool, "dir_path");

	if (d == NULL) {
		errno = EINVAL;
		return -1;
	}
	return abspath(d, buf, len);
}

/*
 * A vid must stay below the pool directory: relative, no "." or ".."
 * component, no empty component.  (The reference joins whatever
 * qubes.xml says; ours come from volconfig.c or qubes.xml.)
 */
static int
vid_safe(const char *vid)
{
	const char *p, *e;
	size_t l;

	if (vid == NULL || *vid == '\0' || *vid == '/')
		return 0;
	for (p = vid; *p != '\0'; p = *e ? e + 1 : e) {
		e = strchr(p, '/');
		if (e == NULL)
			e = p + strlen(p);
		l = (size_t)(e - p);
		if (l == 0 || (l == 1 && p[0] == '.') ||
		    (l == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (*e == '/' && e[1] == '\0')
			return 0;
	}
	return 1;
}

/* os.path.join(dir, vid) + suffix */
static int
join_vid(char *buf, size_t len, const char *dir, const char *vid,
    const char *suffix)
{
	size_t dl = strlen(dir);

	return fmt_path(buf, len, "%s%s%s%s", dir,
	    dl > 0 && dir[dl - 1] == '/' ? "" : "/", vid, suffix);
}

static int
paths_init(struct rpaths *p, const struct kvlist *pool, const char *vid)
{
	if (pool_dir(pool, p->dir, sizeof(p->dir)) == -1)
		return -1;
	if (!vid_safe(vid)) {
		errno = EINVAL;
		return -1;
	}
	if (join_vid(p->vid, sizeof(p->vid), p->dir, vid, "") == -1 ||
	    join_vid(p->clean, sizeof(p->clean), p->dir, vid, ".img") == -1 ||
	    join_vid(p->dirty, sizeof(p->dirty), p->dir, vid,
	    "-dirty.img") == -1 ||
	    join_vid(p->precache, sizeof(p->precache), p->dir, vid,
	    "-precache.img") == -1 ||
	    join_vid(p->import, sizeof(p->import), p->dir, vid,
	    "-import.img") == -1)
		return -1;
	return 0;
}

/* dirname(): everything before the last slash ("/" for "/x"). */
static int
path_dirname(const char *path, char *buf, size_t len)
{
	const char *s = strrchr(path, '/');
	size_t l;

	if (s == NULL)
		return fmt_path(buf, len, ".");
	l = s == path ? 1 : (size_t)(s - path);
	if (l >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, l);
	buf[l] = '\0';
	return 0;
}

static const char *
path_basename(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

/* ---------------------------------------------------------------------
 * durable file operations (qubes.utils / reflink.py helpers)
 */

/* A refusal for an OSError of the reference; logs errno. */
static int
io_fail(struct reply *r, const char *what, const char *path)
{
	log_warn("file-reflink: %s %s", what, path);
	return reply_refuse(r, "file-reflink: I/O error");
}

static int
fsync_path(const char *path)
{
	int fd, rc, save;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	rc = fsync(fd);
	save = errno;
	close(fd);
	errno = save;
	return rc;
}

static int
fsync_dirname(const char *path)
{
	char dir[PATH_MAX];

	if (path_dirname(path, dir, sizeof(dir)) == -1)
		return -1;
	return fsync_path(dir);
}

/* 1 if removed, 0 if it was not there, -1 on error. */
static int
remove_file(const char *path)
{
	if (unlink(path) == -1)
		return errno == ENOENT ? 0 : -1;
	if (fsync_dirname(path) == -1)
		return -1;
	log_debug("file-reflink: removed %s", path);
	return 1;
}

static int
rename_file(const char *src, const char *dst)
{
	char sdir[PATH_MAX], ddir[PATH_MAX];

	if (path_dirname(src, sdir, sizeof(sdir)) == -1 ||
	    path_dirname(dst, ddir, sizeof(ddir)) == -1)
		return -1;
	if (rename(src, dst) == -1)
		return -1;
	if (fsync_path(ddir) == -1)
		return -1;
	if (strcmp(sdir, ddir) != 0 && fsync_path(sdir) == -1)
		return -1;
	log_debug("file-reflink: renamed %s -> %s", src, dst);
	return 0;
}

/* mkdir (one level); 1 if created, 0 if already a directory. */
static int
create_dir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0777) == -1) {
		if (errno != EEXIST)
			return -1;
		if (stat(path, &st) == -1)
			return -1;
		if (!S_ISDIR(st.st_mode)) {
			errno = EEXIST;
			return -1;
		}
		return 0;
	}
	if (fsync_dirname(path) == -1)
		return -1;
	log_debug("file-reflink: created directory %s", path);
	return 1;
}

/* rmdir if empty; 1 if removed, 0 if missing or not empty. */
static int
remove_empty_dir(const char *path)
{
	if (rmdir(path) == -1) {
		if (errno == ENOENT || errno == ENOTEMPTY || errno == EEXIST)
			return 0;
		return -1;
	}
	if (fsync_dirname(path) == -1)
		return -1;
	log_debug("file-reflink: removed empty directory %s", path);
	return 1;
}

static int
replace_open(struct tmpfile *t, const char *dst)
{
	char dir[PATH_MAX];

	t->fd = -1;
	t->path[0] = '\0';
	if (path_dirname(dst, dir, sizeof(dir)) == -1 ||
	    create_dir(dir) == -1)
		return -1;
	if (fmt_path(t->path, sizeof(t->path), "%s~XXXXXX", dst) == -1)
		return -1;
	t->fd = mkostemp(t->path, O_CLOEXEC);
	if (t->fd == -1) {
		t->path[0] = '\0';
		return -1;
	}
	return 0;
}

/* Drop the temporary; errno is preserved. */
static void
replace_abort(struct tmpfile *t)
{
	int save = errno;

	if (t->fd != -1)
		close(t->fd);
	t->fd = -1;
	if (t->path[0] != '\0' && remove_file(t->path) == -1)
		log_warn("file-reflink: removing %s", t->path);
	t->path[0] = '\0';
	errno = save;
}

static int
replace_commit(struct tmpfile *t, const char *dst)
{
	int fd = t->fd;

	t->fd = -1;
	if (fchmod(fd, 0600) == -1 || fsync(fd) == -1) {
		t->fd = fd;
		goto fail;
	}
	if (close(fd) == -1)
		goto fail;
	if (rename_file(t->path, dst) == -1)
		goto fail;
	t->path[0] = '\0';
	return 0;
fail:
	replace_abort(t);
	return -1;
}

static int
create_sparse(const char *path, uint64_t size)
{
	struct tmpfile t;

	if (size > (uint64_t)INT64_MAX) {
		errno = EFBIG;
		return -1;
	}
	if (replace_open(&t, path) == -1)
		return -1;
	if (ftruncate(t.fd, (off_t)size) == -1) {
		replace_abort(&t);
		return -1;
	}
	return replace_commit(&t, path);
}

/* The errnos after which the reference falls back to `cp`. */
static int
ficlone_unsupported(int e)
{
	return e == EBADF || e == EINVAL || e == EOPNOTSUPP || e == EXDEV ||
	    e == ENOTTY;
}

static int
reflink_failed(struct reply *r, const char *src, const char *dst, int e)
{
	reply_error(r, EXC_POOL, "%s", "Cannot reflink ");
	sb_add_pyrepr(&r->msg, src);
	sb_adds(&r->msg, " to ");
	sb_add_pyrepr(&r->msg, dst);
	sb_addf(&r->msg, ": %s (the file-reflink driver does not copy "
	    "without reflinks)", strerror(e));
	return API_ERROR;
}

/*
 * _copy_file(): a new inode at dst with src's data, as a reflink.
 * resize: truncate the copy to dst_size (0: no data at all, as the
 * reference skips the clone then).  copy_mtime: give it src's mtime
 * (and the same atime).
 */
static int
copy_file(struct reply *r, const char *src, const char *dst, int resize,
    uint64_t dst_size, int copy_mtime)
{
	struct timespec ts[2];
	struct tmpfile t;
	struct stat st;
	int sfd, e;

	if (resize && dst_size > (uint64_t)INT64_MAX) {
		errno = EFBIG;
		return io_fail(r, "resize", dst);
	}
	sfd = open(src, O_RDONLY | O_CLOEXEC);
	if (sfd == -1)
		return io_fail(r, "open", src);
	if (replace_open(&t, dst) == -1) {
		e = errno;
		close(sfd);
		errno = e;
		return io_fail(r, "temporary file for", dst);
	}
	if (!(resize && dst_size == 0) && ioctl(t.fd, FICLONE, sfd) == -1) {
		e = errno;
		replace_abort(&t);
		close(sfd);
		if (ficlone_unsupported(e))
			return reflink_failed(r, src, dst, e);
		errno = e;
		return io_fail(r, "reflink to", dst);
	}
	if (resize && ftruncate(t.fd, (off_t)dst_size) == -1)
		goto fail;
	if (copy_mtime) {
		if (fstat(sfd, &st) == -1)
			goto fail;
		ts[0] = st.st_mtim;
		ts[1] = st.st_mtim;
		if (futimens(t.fd, ts) == -1)
			goto fail;
	}
	close(sfd);
	if (replace_commit(&t, dst) == -1)
		return io_fail(r, "write", dst);
	log_debug("file-reflink: reflinked %s -> %s", src, dst);
	return API_OK;
fail:
	e = errno;
	replace_abort(&t);
	close(sfd);
	errno = e;
	return io_fail(r, "write", dst);
}

static int
hardlink_file(const char *src, const char *dst)
{
	char dir[PATH_MAX];

	if (path_dirname(dst, dir, sizeof(dir)) == -1 ||
	    create_dir(dir) == -1)
		return -1;
	if (link(src, dst) == -1)
		return -1;
	if (fsync_path(dir) == -1)
		return -1;
	log_debug("file-reflink: hardlinked %s -> %s", src, dst);
	return 0;
}

/* Size and allocation of the first of dirty / clean that exists. */
static int
current_stat(const struct rpaths *p, struct stat *st)
{
	if (stat(p->dirty, st) == 0)
		return 0;
	return stat(p->clean, st);
}

/* ---------------------------------------------------------------------
 * revisions
 */

/*
 * A directory entry "<vid>.img.<rest>" is a revision if <rest> matches
 * the reference's glob "*?@????-??-??T??:??:??Z" (returns 0 if not).
 * The reference then splits <rest> at '@' and takes int() of the first
 * part; when that fails it raises (the whole listing fails): -1 here.
 * We accept only plain digits (at most REV_ID_MAX) before the '@'.
 * On success *n is the number and *idlen the length of the id (the text
 * before the '@'); the timestamp is the REV_TS_LEN bytes after it.
 */
int
reflink_parse_revision(const char *name, unsigned long long *n,
    size_t *idlen)
{
	/* "@????-??-??T??:??:??Z", '#' for '?' (no trigraphs) */
	static const char tail[] = "@####-##-##T##:##:##Z";
	const char *t;
	unsigned long long v = 0;
	size_t len, head, i;

	len = strlen(name);
	if (len < REV_TAIL_LEN + 1)
		return 0;
	head = len - REV_TAIL_LEN;
	t = name + head;
	for (i = 0; i < REV_TAIL_LEN; i++)
		if (tail[i] != '#' && t[i] != tail[i])
			return 0;
	/* glob matched; from here on a bad name is fatal in the reference */
	if (memchr(name, '@', head) != NULL ||
	    memchr(t + 1, '@', REV_TS_LEN) != NULL)
		return -1;
	if (head > REV_ID_MAX)
		return -1;
	for (i = 0; i < head; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		v = v * 10 + (unsigned long long)(name[i] - '0');
	}
	*n = v;
	*idlen = head;
	return 1;
}

static void
revs_free(struct revs *rv)
{
	free(rv->v);
	rv->v = NULL;
	rv->n = 0;
}

static int
rev_cmp_n(const void *a, const void *b)
{
	const struct rev *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * The `revisions` property: every revision file, ordered by number
 * (stable: ties in directory order).  A duplicated id (which only the
 * number's spelling can cause, "1" vs "01" are different ids) keeps the
 * first position and the last timestamp, as the OrderedDict does.
 */
static int
revs_load(struct reply *r, const struct rpaths *p, struct revs *rv)
{
	char dir[PATH_MAX], prefix[PATH_MAX], esc[128];
	const char *base, *rest;
	struct dirent *de;
	struct rev *nv;
	unsigned long long n;
	size_t plen, idlen, alloc = 0, i, j, k;
	DIR *d;
	int rc;

	rv->v = NULL;
	rv->n = 0;
	if (path_dirname(p->clean, dir, sizeof(dir)) == -1)
		return io_fail(r, "directory of", p->clean);
	base = path_basename(p->clean);
	if (fmt_path(prefix, sizeof(prefix), "%s.", base) == -1)
		return io_fail(r, "name of", p->clean);
	plen = strlen(prefix);
	/* glob() yields nothing for a directory it cannot read */
	if ((d = opendir(dir)) == NULL)
		return API_OK;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, plen) != 0)
			continue;
		rest = de->d_name + plen;
		rc = reflink_parse_revision(rest, &n, &idlen);
		if (rc == 0)
			continue;
		if (rc < 0) {
			log_warnx("file-reflink: %s: bad revision file %s", dir,
			    log_escape(esc, sizeof(esc), de->d_name,
			    strlen(de->d_name)));
			closedir(d);
			revs_free(rv);
			return reply_refuse(r, "file-reflink: bad revision");
		}
		if (rv->n == REV_MAX) {
			log_warnx("file-reflink: more than %d revisions of %s",
			    REV_MAX, p->clean);
			closedir(d);
			revs_free(rv);
			return reply_refuse(r, "file-reflink: too many "
			    "revisions");
		}
		if (rv->n == alloc) {
			alloc = alloc ? alloc * 2 : 8;
			nv = realloc(rv->v, alloc * sizeof(*nv));
			if (nv == NULL) {
				closedir(d);
				revs_free(rv);
				return reply_refuse(r, "out of memory");
			}
			rv->v = nv;
		}
		nv = &rv->v[rv->n];
		nv->n = n;
		nv->seq = rv->n;
		memcpy(nv->id, rest, idlen);
		nv->id[idlen] = '\0';
		memcpy(nv->ts, rest + idlen + 1, REV_TS_LEN);
		nv->ts[REV_TS_LEN] = '\0';
		rv->n++;
	}
	closedir(d);
	if (rv->n > 1)
		qsort(rv->v, rv->n, sizeof(*rv->v), rev_cmp_n);
	/* same id twice: equal numbers, so adjacent */
	for (i = 1; i < rv->n; i++) {
		for (j = i; j > 0 && rv->v[j - 1].n == rv->v[i].n; j--) {
			if (strcmp(rv->v[j - 1].id, rv->v[i].id) != 0)
				continue;
			memcpy(rv->v[j - 1].ts, rv->v[i].ts,
			    sizeof(rv->v[i].ts));
			for (k = i + 1; k < rv->n; k++)
				rv->v[k - 1] = rv->v[k];
			rv->n--;
			i--;
			break;
		}
	}
	return API_OK;
}

static const struct rev *
revs_find(const struct revs *rv, const char *id)
{
	size_t i;

	for (i = 0; i < rv->n; i++)
		if (strcmp(rv->v[i].id, id) == 0)
			return &rv->v[i];
	return NULL;
}

/* _path_revision(): "<vid>.img.<id>@<ts>Z" */
static int
rev_path(char *buf, size_t len, const struct rpaths *p, const char *id,
    const char *ts)
{
	return fmt_path(buf, len, "%s.%s@%sZ", p->clean, id, ts);
}

/* qubes.storage.isodate(int(mtime)) */
static int
isodate(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 1 ||
	    tm.tm_year + 1900 > 9999) {
		errno = EOVERFLOW;
		return -1;
	}
	return fmt_path(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
}

/* _add_revision(): copy the clean image to revision <last + 1>. */
static int
add_revision(struct reply *r, const struct rpaths *p, long long keep)
{
	char ts[REV_TS_LEN + 1], id[32], path[PATH_MAX];
	unsigned long long next;
	struct revs rv;
	struct stat st;
	int rc;

	if (keep == 0)
		return API_OK;
	if (stat(p->clean, &st) == -1)
		return io_fail(r, "stat", p->clean);
	if (isodate(st.st_mtim.tv_sec, ts, sizeof(ts)) == -1)
		return io_fail(r, "timestamp of", p->clean);
	if ((rc = revs_load(r, p, &rv)) != API_OK)
		return rc;
	next = rv.n ? rv.v[rv.n - 1].n + 1 : 1;
	revs_free(&rv);
	/* the next number must still parse (REV_ID_MAX digits) */
	if (next > 9999999999999999999ULL) {
		log_warnx("file-reflink: revision numbers of %s exhausted",
		    p->clean);
		return reply_refuse(r, "file-reflink: revision numbers "
		    "exhausted");
	}
	snprintf(id, sizeof(id), "%llu", next);
	if (rev_path(path, sizeof(path), p, id, ts) == -1)
		return io_fail(r, "name of revision of", p->clean);
	return copy_file(r, p->clean, path, 0, 0, 0);
}

/* _prune_revisions(keep): remove all but the newest `keep` (0: all). */
static int
prune_revisions(struct reply *r, const struct rpaths *p, long long keep)
{
	char path[PATH_MAX];
	struct revs rv;
	size_t i, end;
	int rc;

	if ((rc = revs_load(r, p, &rv)) != API_OK)
		return rc;
	/* list(...)[:-keep or None] */
	if (keep == 0)
		end = rv.n;
	else if (keep > 0)
		end = (unsigned long long)keep >= rv.n ? 0 :
		    rv.n - (size_t)keep;
	else
		end = (unsigned long long)-keep >= rv.n ? rv.n :
		    (size_t)-keep;
	for (i = 0; i < end; i++) {
		if (rev_path(path, sizeof(path), p, rv.v[i].id,
		    rv.v[i].ts) == -1 || remove_file(path) == -1) {
			rc = io_fail(r, "remove revision", path);
			break;
		}
	}
	revs_free(&rv);
	return rc;
}

/* ---------------------------------------------------------------------
 * volume helpers
 */

static int
vol_paths(struct reply *r, struct rpaths *p, const struct kvlist *pool,
    const struct vol *v)
{
	if (paths_init(p, pool, v->vid) == -1) {
		log_warn("file-reflink: pool %s: volume %s", pool_attr(pool,
		    "name") ? pool_attr(pool, "name") : "",
		    v->vid ? v->vid : "(no vid)");
		return reply_refuse(r, "file-reflink: bad pool or vid");
	}
	return API_OK;
}

static int
is_dirty(const struct rpaths *p, const struct vol *v)
{
	return v->save_on_stop && access(p->dirty, F_OK) == 0;
}

/* Record the size of the image as the volume's size (the reference's
 * `size` property, which qubes.xml stores, reads the image). */
static void
set_size_attr(struct vm *vm, const struct vol *v, uint64_t size)
{
	struct kvlist *kv;
	char buf[32];

	if (vm == NULL || (kv = vm_volume(vm, v->name)) == NULL)
		return;
	if (size == 0) {
		vol_unset(kv, "size");
		return;
	}
	snprintf(buf, sizeof(buf), "%" PRIu64, size);
	if (vol_set(kv, "size", buf) == -1)
		log_warnx("file-reflink: %s: cannot record size", vm->name);
}

static void
sync_size_attr(struct vm *vm, const struct vol *v, const struct rpaths *p)
{
	struct stat st;

	if (current_stat(p, &st) == 0)
		set_size_attr(vm, v, (uint64_t)st.st_size);
}

/* _remove_incomplete_images(): "<vid>*.img*~*" and the import image. */
static int
remove_incomplete(struct reply *r, const struct rpaths *p)
{
	char dir[PATH_MAX], path[PATH_MAX];
	const char *base, *rest, *img;
	struct dirent *de;
	size_t blen;
	DIR *d;
	int rc = API_OK;

	if (path_dirname(p->vid, dir, sizeof(dir)) == -1)
		return io_fail(r, "directory of", p->vid);
	base = path_basename(p->vid);
	blen = strlen(base);
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' ||
			    strncmp(de->d_name, base, blen) != 0)
				continue;
			rest = de->d_name + blen;
			if ((img = strstr(rest, ".img")) == NULL ||
			    strchr(img + 4, '~') == NULL)
				continue;
			if (fmt_path(path, sizeof(path), "%s/%s", dir,
			    de->d_name) == -1 || remove_file(path) == -1) {
				rc = io_fail(r, "remove", path);
				break;
			}
		}
		closedir(d);
	}
	if (rc == API_OK && remove_file(p->import) == -1)
		rc = io_fail(r, "remove", p->import);
	return rc;
}

/* _remove_all_images() */
static int
remove_all_images(struct reply *r, const struct rpaths *p)
{
	int rc;

	if ((rc = remove_incomplete(r, p)) != API_OK)
		return rc;
	if ((rc = prune_revisions(r, p, 0)) != API_OK)
		return rc;
	if (remove_file(p->clean) == -1)
		return io_fail(r, "remove", p->clean);
	if (remove_file(p->precache) == -1)
		return io_fail(r, "remove", p->precache);
	if (remove_file(p->dirty) == -1)
		return io_fail(r, "remove", p->dirty);
	return API_OK;
}

/*
 * The reference's _update_precache() context: drop the precache, change
 * the clean image (rename `from` over it), then make a new precache.
 */
static int
precache_before(struct reply *r, const struct rpaths *p)
{
	if (remove_file(p->precache) == -1)
		return io_fail(r, "remove", p->precache);
	return API_OK;
}

static int
precache_after(struct reply *r, const struct rpaths *p)
{
	return copy_file(r, p->clean, p->precache, 0, 0, 1);
}

/* _commit(path_from): revision, prune, fsync, rename over clean. */
static int
commit(struct reply *r, const struct rpaths *p, const struct vol *v,
    const char *from)
{
	int rc;

	if ((rc = add_revision(r, p, v->revisions_to_keep)) != API_OK)
		return rc;
	if ((rc = prune_revisions(r, p, v->revisions_to_keep)) != API_OK)
		return rc;
	if (fsync_path(from) == -1)
		return io_fail(r, "fsync", from);
	if ((rc = precache_before(r, p)) != API_OK)
		return rc;
	if (rename_file(from, p->clean) == -1)
		return io_fail(r, "rename to clean image", from);
	return precache_after(r, p);
}

/*
 * _update_loopdev_sizes(): every loop device whose backing file is img
 * learns its new size (LOOP_SET_CAPACITY).
 */
static int
update_loopdev_sizes(struct reply *r, const char *img)
{
	char real[PATH_MAX], sys[PATH_MAX], dev[PATH_MAX], buf[PATH_MAX + 2];
	struct dirent *de;
	ssize_t n;
	size_t rl;
	DIR *d;
	int fd, rc = API_OK;

	if (realpath(img, real) == NULL)
		return io_fail(r, "realpath", img);
	rl = strlen(real);
	if ((d = opendir("/sys/block")) == NULL)
		return API_OK;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "loop", 4) != 0 ||
		    de->d_name[4] < '0' || de->d_name[4] > '9')
			continue;
		if (fmt_path(sys, sizeof(sys),
		    "/sys/block/%s/loop/backing_file", de->d_name) == -1)
			continue;
		if ((fd = open(sys, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		n = read(fd, buf, sizeof(buf));
		close(fd);
		if (n != (ssize_t)rl + 1 || memcmp(buf, real, rl) != 0 ||
		    buf[rl] != '\n')
			continue;
		if (fmt_path(dev, sizeof(dev), "/dev/%s", de->d_name) == -1 ||
		    (fd = open(dev, O_RDONLY | O_CLOEXEC)) == -1) {
			rc = io_fail(r, "open", dev);
			break;
		}
		if (ioctl(fd, LOOP_SET_CAPACITY, 0) == -1) {
			rc = io_fail(r, "LOOP_SET_CAPACITY on", dev);
			close(fd);
			break;
		}
		close(fd);
	}
	closedir(d);
	return rc;
}

/* ---------------------------------------------------------------------
 * lifecycle (start / stop): not used by any call yet
 */

/*
 * _remove_stale_precache(): a precache whose mtime or size differs from
 * the clean image (written by an older Qubes) is discarded.
 */
static int
remove_stale_precache(struct reply *r, const struct rpaths *p)
{
	struct stat sc, sp;

	if (stat(p->clean, &sc) == -1)
		return io_fail(r, "stat", p->clean);
	if (stat(p->precache, &sp) == -1)
		return errno == ENOENT ? API_OK :
		    io_fail(r, "stat", p->precache);
	if (sc.st_mtim.tv_sec == sp.st_mtim.tv_sec &&
	    sc.st_mtim.tv_nsec == sp.st_mtim.tv_nsec &&
	    sc.st_size == sp.st_size)
		return API_OK;
	if (remove_file(p->precache) == -1)
		return io_fail(r, "remove", p->precache);
	log_warnx("file-reflink: removed stale file %s", p->precache);
	return API_OK;
}

/* ReflinkVolume.start() */
int
reflink_vol_start(struct reply *r, const struct kvlist *pool, struct vm *vm,
    const struct vol *v)
{
	struct rpaths p, sp;
	int rc;

	(void)vm;
	if ((rc = vol_paths(r, &p, pool, v)) != API_OK)
		return rc;
	if ((rc = remove_incomplete(r, &p)) != API_OK)
		return rc;
	if (is_dirty(&p, v))
		return API_OK;
	if (v->snap_on_start) {
		if (v->source == NULL || paths_init(&sp, pool, v->source) ==
		    -1)
			return reply_refuse(r, "file-reflink: no source");
		if (remove_file(p.clean) == -1)
			return io_fail(r, "remove", p.clean);
		if (hardlink_file(sp.clean, p.clean) == -1)
			return io_fail(r, "hardlink to", p.clean);
		return copy_file(r, p.clean, p.dirty, 0, 0, 0);
	}
	if (v->save_on_stop) {
		if ((rc = remove_stale_precache(r, &p)) != API_OK)
			return rc;
		if (rename_file(p.precache, p.dirty) == 0)
			return API_OK;
		if (errno != ENOENT)
			return io_fail(r, "rename", p.precache);
		return copy_file(r, p.clean, p.dirty, 0, 0, 0);
	}
	if (create_sparse(p.dirty, v->size) == -1)
		return io_fail(r, "create", p.dirty);
	return API_OK;
}

/* ReflinkVolume.stop() */
int
reflink_vol_stop(struct reply *r, const struct kvlist *pool, struct vm *vm,
    const struct vol *v)
{
	struct rpaths p;
	struct stat st;
	int rc;

	if ((rc = vol_paths(r, &p, pool, v)) != API_OK)
		return rc;
	if (is_dirty(&p, v)) {
		if ((rc = commit(r, &p, v, p.dirty)) != API_OK)
			return rc;
		sync_size_attr(vm, v, &p);
		return API_OK;
	}
	if (v->save_on_stop)
		return API_OK;
	/* volatile: keep a manual resize of the image */
	if (!v->snap_on_start && current_stat(&p, &st) == 0)
		set_size_attr(vm, v, (uint64_t)st.st_size);
	if (remove_file(p.dirty) == -1)
		return io_fail(r, "remove", p.dirty);
	if (remove_file(p.clean) == -1)
		return io_fail(r, "remove", p.clean);
	return API_OK;
}

/* ---------------------------------------------------------------------
 * pool operations
 */

static int
tmpfile_in(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	/* tempfile.TemporaryFile(): O_TMPFILE, else mkstemp + unlink */
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd != -1)
		return fd;
	if (fmt_path(path, sizeof(path), "%s/tmpXXXXXX", dir) == -1)
		return -1;
	if ((fd = mkostemp(path, O_CLOEXEC)) == -1)
		return -1;
	unlink(path);
	return fd;
}

/*
 * qubes.storage.reflink.is_supported(): can dir hold a reflink of a file
 * in dir?  1 yes, 0 no, -1 with errno on other errors (no temporary file
 * possible: the reference raises; its store creation keeps "file" only
 * for PermissionError).
 */
int
reflink_dir_supported(const char *dir)
{
	int src, dst, rc = 1, e = 0;

	if ((src = tmpfile_in(dir)) == -1)
		return -1;
	if ((dst = tmpfile_in(dir)) == -1) {
		e = errno;
		close(src);
		errno = e;
		return -1;
	}
	/* don't let any fs get clever with empty files */
	if (write(src, "foo", 3) != 3)
		rc = -1;
	else if (ioctl(dst, FICLONE, src) == -1)
		rc = ficlone_unsupported(errno) ? 0 : -1;
	e = errno;
	close(src);
	close(dst);
	errno = e;
	return rc;
}

/* ReflinkPool.__init__ + setup() */
static int
reflink_pool_setup(struct reply *r, const struct kvlist *pool)
{
	char dir[PATH_MAX], sub[PATH_MAX];
	const char *check;
	int created, ok, rc;

	if (pool_param(pool, "dir_path") == NULL) {
		log_warnx("file-reflink: pool without dir_path");
		return reply_refuse(r, "file-reflink: dir_path missing");
	}
	check = pool_param(pool, "setup_check");
	ok = check == NULL ? 1 : storage_parse_bool(check);
	if (ok < 0) {
		reply_error(r, "QubesValueError", "%s",
		    "Invalid literal for boolean property: ");
		sb_add_pyrepr(&r->msg, check);
		return API_ERROR;
	}
	if (pool_dir(pool, dir, sizeof(dir)) == -1)
		return io_fail(r, "directory", pool_param(pool, "dir_path"));
	if ((created = create_dir(dir)) == -1)
		return io_fail(r, "mkdir", dir);
	if (ok) {
		rc = reflink_dir_supported(dir);
		if (rc != 1) {
			if (rc == -1)
				log_warn("file-reflink: reflink check in %s",
				    dir);
			if (created && remove_empty_dir(dir) == -1)
				log_warn("file-reflink: rmdir %s", dir);
			if (rc == -1)
				return reply_refuse(r, "file-reflink: "
				    "reflink check failed");
			reply_error(r, EXC_POOL, "%s", "The filesystem for ");
			sb_add_pyrepr(&r->msg, dir);
			sb_adds(&r->msg, " does not support reflinks. If you "
			    "can live with VM startup delays and wasted disk "
			    "space, pass the \"setup_check=False\" option.");
			return API_ERROR;
		}
	}
	if (join_vid(sub, sizeof(sub), dir, "appvms", "") == -1 ||
	    create_dir(sub) == -1)
		return io_fail(r, "mkdir", sub);
	if (join_vid(sub, sizeof(sub), dir, "vm-templates", "") == -1 ||
	    create_dir(sub) == -1)
		return io_fail(r, "mkdir", sub);
	return API_OK;
}

/* usage_details: statvfs of the directory; nothing if it is missing. */
static int
pool_statvfs(const struct kvlist *pool, unsigned long long *size,
    unsigned long long *usage)
{
	char dir[PATH_MAX];
	struct statvfs sv;

	if (pool_dir(pool, dir, sizeof(dir)) == -1 || statvfs(dir, &sv) == -1)
		return -1;
	*size = (unsigned long long)sv.f_frsize * sv.f_blocks;
	*usage = (unsigned long long)sv.f_frsize * (sv.f_blocks - sv.f_bfree);
	return 0;
}

static void
reflink_pool_usage(const struct kvlist *pool, struct pool_usage *u)
{
	unsigned long long size, usage;

	memset(u, 0, sizeof(*u));
	if (pool_statvfs(pool, &size, &usage) == -1)
		return;
	u->have_size = u->have_usage = 1;
	u->size = size;
	u->usage = usage;
}

static int
reflink_pool_usage_details(struct reply *r, const struct kvlist *pool,
    struct strbuf *out)
{
	unsigned long long size, usage;

	if (pool_statvfs(pool, &size, &usage) == -1) {
		if (errno == ENOENT)
			return API_OK;
		return io_fail(r, "statvfs", pool_param(pool, "dir_path") ?
		    pool_param(pool, "dir_path") : "");
	}
	sb_addf(out, "data_size=%llu\ndata_usage=%llu\n", size, usage);
	return API_OK;
}

/*
 * admin.pool.volume.List: the pool's volume dict in creation order.  At
 * load the reference creates each qube's volumes in collection order,
 * except that the first snapshot volume of a qube first creates the
 * volumes of its template (recursively).  Duplicate vids are listed once.
 */
struct vlist {
	const char	 *pool;
	unsigned char	 *done;		/* per app->vms index */
	char		**seen;
	size_t		  nseen, cap;
	struct strbuf	 *out;
};

static size_t
vm_index(const struct vm *vm)
{
	size_t i;

	for (i = 0; i < app->nvms; i++)
		if (app->vms[i] == vm)
			return i;
	return app->nvms;
}

static void
vlist_add(struct vlist *l, const char *vid)
{
	size_t i;

	for (i = 0; i < l->nseen; i++)
		if (strcmp(l->seen[i], vid) == 0)
			return;
	if (l->nseen == l->cap)
		return;
	l->seen[l->nseen++] = xstrdup(vid);
	sb_addf(l->out, "%s\n", vid);
}

static void
vlist_vm(struct vlist *l, const struct vm *vm)
{
	const struct vm *tpl;
	char buf[PATH_MAX];
	struct vol v;
	size_t i, idx;

	idx = vm_index(vm);
	if (idx >= app->nvms || l->done[idx])
		return;
	l->done[idx] = 1;
	for (i = 0; i < vm->nvolumes; i++) {
		vol_view(&vm->volumes[i], &v);
		if (v.snap_on_start || v.source != NULL) {
			tpl = vmprop_applies(vm, VMP_template) ?
			    vmprop_vm(vm, VMP_template) : NULL;
			if (tpl != NULL)
				vlist_vm(l, tpl);
		}
		if (v.pool == NULL || strcmp(v.pool, l->pool) != 0)
			continue;
		if (v.vid == NULL) {
			/* init_volume() default */
			if (v.name == NULL || fmt_path(buf, sizeof(buf),
			    "%s/%s/%s", vm->cls == VMC_TEMPLATE ?
			    "vm-templates" : "appvms", vm->name, v.name) == -1)
				continue;
			vlist_add(l, buf);
		} else
			vlist_add(l, v.vid);
	}
}

static int
reflink_pool_volumes(struct reply *r, const struct kvlist *pool,
    struct strbuf *out)
{
	struct vlist l;
	size_t i;

	(void)r;
	memset(&l, 0, sizeof(l));
	l.pool = pool_attr(pool, "name");
	if (l.pool == NULL || app->nvms == 0)
		return API_OK;
	l.out = out;
	l.done = xcalloc(app->nvms, 1);
	for (i = 0; i < app->nvms; i++)
		l.cap += app->vms[i]->nvolumes;
	l.seen = xcalloc(l.cap ? l.cap : 1, sizeof(*l.seen));
	for (i = 0; i < app->nvms; i++)
		vlist_vm(&l, app->vms[i]);
	for (i = 0; i < l.nseen; i++)
		free(l.seen[i]);
	free(l.seen);
	free(l.done);
	return API_OK;
}

/* ---------------------------------------------------------------------
 * volume operations
 */

/* ReflinkVolume.create() */
static int
reflink_vol_create(struct reply *r, const struct kvlist *pool,
    struct vm *vm, const struct vol *v)
{
	struct rpaths p;
	int rc;

	(void)vm;
	if ((rc = vol_paths(r, &p, pool, v)) != API_OK)
		return rc;
	if ((rc = remove_all_images(r, &p)) != API_OK)
		return rc;
	if (!v->save_on_stop || v->snap_on_start)
		return API_OK;
	if ((rc = precache_before(r, &p)) != API_OK)
		return rc;
	if (create_sparse(p.clean, v->size) == -1)
		return io_fail(r, "create", p.clean);
	return precache_after(r, &p);
}

/* ReflinkVolume.remove() */
static int
reflink_vol_remove(struct reply *r, const struct kvlist *pool,
    struct vm *vm, const struct vol *v)
{
	char dir[PATH_MAX];
	struct rpaths p;
	int rc;

	(void)vm;
	if ((rc = vol_paths(r, &p, pool, v)) != API_OK)
		return rc;
	if ((rc = remove_all_images(r, &p)) != API_OK)
		return rc;
	if (path_dirname(p.vid, dir, sizeof(dir)) == -1 ||
	    remove_empty_dir(dir) == -1)
		return io_fail(r, "rmdir", dir);
	return API_OK;
}

/*
 * size, usage, path, is_outdated.  is_outdated is -1 ("None" in the
 * reference) for a snapshot volume when its image or the source's clean
 * image is missing, as for every halted AppVM root.
 */
static void
reflink_vol_state(const struct kvlist *pool, const struct vm *vm,
    const struct vol *v, struct vol_state *st)
{
	struct rpaths p, sp;
	struct stat s1, s2;

	(void)vm;
	memset(st, 0, sizeof(*st));
	st->size = v->size;
	if (paths_init(&p, pool, v->vid) == -1)
		return;
	snprintf(st->path, sizeof(st->path), "%s", p.dirty);
	if (current_stat(&p, &s1) == 0) {
		st->size = (uint64_t)s1.st_size;
		st->usage = (uint64_t)s1.st_blocks * 512u;
	}
	if (!v->snap_on_start)
		return;
	if (v->source == NULL || paths_init(&sp, pool, v->source) == -1 ||
	    stat(sp.clean, &s1) == -1 || stat(p.clean, &s2) == -1) {
		st->is_outdated = -1;
		return;
	}
	st->is_outdated = s1.st_ino != s2.st_ino || s1.st_dev != s2.st_dev;
}

static int
rev_cmp_ts(const void *a, const void *b)
{
	const struct rev *x = *(const struct rev *const *)a;
	const struct rev *y = *(const struct rev *const *)b;
	int c = strcmp(x->ts, y->ts);

	if (c != 0)
		return c;
	/* stable: keep the by-number order (index in the array) */
	return x < y ? -1 : x > y;
}

/*
 * Revision ids in admin.vm.volume.ListSnapshots order: by timestamp,
 * ties by number (the reference sorts the by-number dict by timestamp,
 * stably).  Usually the same as by number; a revert can make a newer
 * number carry an older timestamp.
 */
static int
reflink_vol_revisions(struct reply *r, const struct kvlist *pool,
    const struct vol *v, struct strbuf *out)
{
	const struct rev **ix;
	struct rpaths p;
	struct revs rv;
	size_t i;
	int rc;

	if ((rc = vol_paths(r, &p, pool, v)) != API_OK)
		return rc;
	if ((rc = revs_load(r, &p, &rv)) != API_OK)
		return rc;
	if (rv.n == 0)
		return API_OK;
	ix = xcalloc(rv.n, sizeof(*ix));
	for (i = 0; i < rv.n; i++)
		ix[i] = &rv.v[i];
	qsort(ix, rv.n, sizeof(*ix), rev_cmp_ts);
	for (i = 0; i < rv.n; i++)
		sb_addf(out, "%s\n", ix[i]->id);
	free(ix);
	revs_free(&rv);
	return API_OK;
}

/* ReflinkVolume.revert(): the current clean image becomes a revision. */
static int
reflink_vol_revert(struct reply *r, const struct kvlist *pool,
    struct vm *vm, const struct vol *v, const char *revision)
{
	char path[PATH_MAX];
	const struct rev *rev;
	struct rpaths p;
	struct revs rv;
	int rc;

	if ((rc = vol_paths(r, &p, pool, v)) != API_OK)
		return rc;
	if (is_dirty(&p, v))
		return reply_error(r, EXC_POOL,
		    "Cannot revert: %s is not cleanly stopped", v->vid);
	if ((rc = revs_load(r, &p, &rv)) != API_OK)
		return rc;
	rev = revision != NULL ? revs_find(&rv, revision) : NULL;
	if (rev == NULL || rev_path(path, sizeof(path), &p, rev->id,
	    rev->ts) == -1) {
		revs_free(&rv);
		/* KeyError in the reference */
		return reply_refuse(r, "file-reflink: no such revision");
	}
	revs_free(&rv);
	if ((rc = add_revision(r, &p, v->revisions_to_keep)) != API_OK)
		return rc;
	if ((rc = precache_before(r, &p)) != API_OK)
		return rc;
	if (rename_file(path, p.clean) == -1)
		return io_fail(r, "rename", path);
	if ((rc = precache_after(r, &p)) != API_OK)
		return rc;
	sync_size_attr(vm, v, &p);
	return API_OK;
}

/*
 * ReflinkVolume.resize(): shrinking is allowed.  Running: the dirty
 * image is truncated and its loop devices told; halted origin: a resized
 * reflink of the clean image replaces it; otherwise only the configured
 * size changes.
 */
static int
reflink_vol_resize(struct reply *r, const struct kvlist *pool,
    struct vm *vm, const struct vol *v, uint64_t size)
{
	struct rpaths p;
	int fd, rc;

	if (!v->rw)
		return reply_error(r, EXC_POOL,
		    "Cannot resize: %s is read-only", v->vid);
	if ((rc = vol_paths(r, &p, pool, v)) != API_OK)
		return rc;
	if (size > (uint64_t)INT64_MAX) {
		errno = EFBIG;
		return io_fail(r, "resize", p.dirty);
	}
	fd = open(p.dirty, O_RDWR | O_CLOEXEC);
	if (fd != -1) {
		if (ftruncate(fd, (off_t)size) == -1 || fsync(fd) == -1) {
			rc = errno;
			close(fd);
			errno = rc;
			return io_fail(r, "resize", p.dirty);
		}
		if (close(fd) == -1)
			return io_fail(r, "resize", p.dirty);
		if ((rc = update_loopdev_sizes(r, p.dirty)) != API_OK)
			return rc;
	} else if (errno != ENOENT) {
		return io_fail(r, "open", p.dirty);
	} else if (v->save_on_stop && !v->snap_on_start) {
		if ((rc = precache_before(r, &p)) != API_OK)
			return rc;
		if ((rc = copy_file(r, p.clean, p.clean, 1, size, 0)) !=
		    API_OK)
			return rc;
		if ((rc = precache_after(r, &p)) != API_OK)
			return rc;
	}
	set_size_attr(vm, v, size);
	return API_OK;
}

/* import_data(size): a new sparse V-import.img */
static int
reflink_import_begin(struct reply *r, const struct kvlist *pool,
    struct vm *vm, const struct vol *v, uint64_t size, char *pathbuf,
    size_t pathlen)
{
	struct rpaths p;
	int rc;

	(void)vm;
	if (!v->save_on_stop) {
		/* NotImplementedError in the reference */
		log_warnx("file-reflink: Cannot import_data: %s is not "
		    "save_on_stop", v->vid ? v->vid : "");
		return reply_refuse(r, "file-reflink: not save_on_stop");
	}
	if ((rc = vol_paths(r, &p, pool, v)) != API_OK)
		return rc;
	if (fmt_path(pathbuf, pathlen, "%s", p.import) == -1)
		return io_fail(r, "path", p.import);
	if (create_sparse(p.import, size) == -1)
		return io_fail(r, "create", p.import);
	return API_OK;
}

/* import_data_end(success): commit like a stop, or discard */
static int
reflink_import_end(struct reply *r, const struct kvlist *pool,
    struct vm *vm, const struct vol *v, int success)
{
	struct rpaths p;
	int rc;

	if ((rc = vol_paths(r, &p, pool, v)) != API_OK)
		return rc;
	if (!success) {
		if (remove_file(p.import) == -1)
			return io_fail(r, "remove", p.import);
		return API_OK;
	}
	if ((rc = commit(r, &p, v, p.import)) != API_OK)
		return rc;
	sync_size_attr(vm, v, &p);
	return API_OK;
}

/*
 * The source's export(): where its last committed data is.  file-reflink:
 * the clean image, of save_on_stop volumes only (NotImplementedError
 * otherwise).  file: refused while the qube runs; its image otherwise
 * (its `path`, which is the template's image for snapshot volumes).
 * Other drivers: their `path`.  (A vol_export operation in storage.h
 * would let every driver answer for itself, with the file driver's
 * dirty check.)
 */
static int
src_export(struct reply *r, const struct kvlist *spool, const struct vm *svm,
    const struct vol *src, char *buf, size_t len)
{
	const struct storage_driver *sd = pool_driver(spool);
	struct vol_state st;
	struct rpaths sp;

	if (sd == &storage_driver_reflink) {
		if (!src->save_on_stop) {
			log_warnx("file-reflink: Cannot export: %s is not "
			    "save_on_stop", src->vid ? src->vid : "");
			return reply_refuse(r, "file-reflink: not "
			    "save_on_stop");
		}
		if (paths_init(&sp, spool, src->vid) == -1 ||
		    fmt_path(buf, len, "%s", sp.clean) == -1)
			return io_fail(r, "source volume", src->vid ?
			    src->vid : "(no vid)");
		return API_OK;
	}
	if (sd != NULL && strcmp(sd->name, "file") == 0 &&
	    strcmp(virt_power_state(svm), "Halted") != 0)
		return reply_error(r, EXC_POOL,
		    "file pool cannot export running volumes");
	if (sd == NULL || sd->vol_state == NULL)
		return reply_refuse(r, "file-reflink: cannot export source");
	sd->vol_state(spool, svm, src, &st);
	if (st.path[0] == '\0' || fmt_path(buf, len, "%s", st.path) == -1)
		return reply_refuse(r, "file-reflink: cannot export source");
	return API_OK;
}

/*
 * import_volume(src): only into save_on_stop volumes (else a no-op).
 * The source's export is reflinked to V-import.img and committed like
 * an import; on failure V-import.img is removed.
 */
static int
reflink_vol_clone(struct reply *r, const struct kvlist *dpool,
    struct vm *dvm, const struct vol *dst, const struct kvlist *spool,
    const struct vm *svm, const struct vol *src)
{
	char from[PATH_MAX];
	struct rpaths dp;
	int rc;

	if (!dst->save_on_stop)
		return API_OK;
	if ((rc = vol_paths(r, &dp, dpool, dst)) != API_OK)
		return rc;
	if ((rc = src_export(r, spool, svm, src, from, sizeof(from))) !=
	    API_OK)
		goto discard;
	if ((rc = copy_file(r, from, dp.import, 0, 0, 0)) != API_OK)
		goto discard;
	if ((rc = commit(r, &dp, dst, dp.import)) != API_OK)
		return rc;
	sync_size_attr(dvm, dst, &dp);
	return API_OK;
discard:
	if (remove_file(dp.import) == -1)
		log_warn("file-reflink: remove %s", dp.import);
	return rc;
}

const struct storage_driver storage_driver_reflink = {
	.name = "file-reflink",
	.params = reflink_params,
	.defaults = reflink_defaults,
	.pool_setup = reflink_pool_setup,
	.pool_usage = reflink_pool_usage,
	.pool_usage_details = reflink_pool_usage_details,
	.pool_volumes = reflink_pool_volumes,
	.check_revisions = NULL,
	.vol_create = reflink_vol_create,
	.vol_remove = reflink_vol_remove,
	.vol_state = reflink_vol_state,
	.vol_revisions = reflink_vol_revisions,
	.vol_revert = reflink_vol_revert,
	.vol_resize = reflink_vol_resize,
	.import_begin = reflink_import_begin,
	.import_end = reflink_import_end,
	.vol_clone = reflink_vol_clone,
	.check_rw = NULL,
	.check_ephemeral = NULL,
};
