/*
 * storage_file.c - the file pool driver (storage.md 3.1; the reference's
 * qubes/storage/file.py).
 *
 * A volume with vid V lives in <dir_path>/V.img (origin and volatile
 * volumes; snapshot volumes use their source's image) plus the
 * device-mapper COW files V-cow.img / V-cow.img.old, which only a running
 * system creates.  Everything here works on halted qubes: creation,
 * removal, import, clone and resize are file operations.
 */
#include <sys/ioctl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "props.h"
#include "storage.h"
#include "util.h"
#include "virt.h"

extern const struct storage_driver storage_driver_file;

#define COPY_BUF	(256u * 1024u)
/* the empty device-mapper snapshot header block of file.py */
#define EMPTY_SNAPSHOT_LEN	262144u

static const char *const file_params[] = {
	"revisions_to_keep", "dir_path", "ephemeral_volatile", NULL
};
static const char *const file_defaults[] = {
	"revisions_to_keep", "1", "ephemeral_volatile", "False", NULL
};

/*
 * A vid usable as a relative path: non-empty, [A-Za-z0-9_.+-/], no
 * leading '/', no empty, "." or ".." component.  Volumes made by this
 * broker always pass; anything else in qubes.xml is refused, never
 * followed outside the pool directory.
 */
static int
vid_safe(const char *vid)
{
	const char *p, *c;
	size_t n;

	if (vid == NULL || *vid == '\0' || *vid == '/')
		return 0;
	for (p = vid; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("_.+-/", *p) != NULL))
			return 0;
	for (c = vid; ; c = p + 1) {
		p = strchr(c, '/');
		n = p ? (size_t)(p - c) : strlen(c);
		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		if (p == NULL)
			break;
	}
	return 1;
}

/* <dir_path>/<vid><suffix>; -1 if the vid is unsafe or it is too long. */
static int
img_path(const struct kvlist *pool, const char *vid, const char *suffix,
    char *buf, size_t len)
{
	const char *dir = pool_param(pool, "dir_path");
	int n;

	if (dir == NULL || *dir == '\0' || !vid_safe(vid))
		return -1;
	n = snprintf(buf, len, "%s/%s%s", dir, vid, suffix);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return 0;
}

/* Make the parent directory of path (create_sparse_file: makedirs). */
static int
mkparent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	if (strlen(path) >= sizeof(dir))
		return -1;
	memcpy(dir, path, strlen(path) + 1);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	return mkdir_p(dir);
}

static int
unlink_if_exists(const char *path)
{
	if (unlink(path) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

static int
refuse_errno(struct reply *r, const char *what, const char *path)
{
	log_warn("%s %s", what, path);
	return reply_refuse(r, "storage: file operation failed");
}

/* Update the configured size from the image (FileVolume.size). */
static void
sync_size(struct vm *vm, const struct vol *vol, const char *path)
{
	struct kvlist *kv;
	struct stat st;
	char num[32];

	if (stat(path, &st) == -1 || (kv = vm_volume(vm, vol->name)) == NULL)
		return;
	if (st.st_size > 0) {
		snprintf(num, sizeof(num), "%lld", (long long)st.st_size);
		vol_set(kv, "size", num);
	} else
		vol_unset(kv, "size");
}

/* ---- pool */

static int
file_check_revisions(struct reply *r, long long n)
{
	/* FileVolume/FilePool revisions_to_keep: NotImplementedError */
	if (n < 0 || n > 1)
		return reply_refuse(r, "file pool keeps at most 1 revision");
	return API_OK;
}

/* create_dir_if_not_exists(): one level, no parents */
static int
mkdir_one(const char *path)
{
	struct stat st;

	if (mkdir(path, 0775) == 0)
		return 0;
	if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	return -1;
}

static int
file_pool_setup(struct reply *r, const struct kvlist *pool)
{
	const char *dir = kvl_get(pool, "dir_path");
	const char *rtk = kvl_get(pool, "revisions_to_keep");
	char sub[PATH_MAX];
	int i;

	if (dir == NULL || *dir != '/')
		return reply_refuse(r, "file pool needs an absolute dir_path");
	if (rtk != NULL && strcmp(rtk, "0") != 0 && strcmp(rtk, "1") != 0)
		return reply_refuse(r, "file pool revisions_to_keep is 0 or 1");
	if (mkdir_one(dir) == -1)
		return refuse_errno(r, "mkdir", dir);
	for (i = 0; i < 2; i++) {
		if (snprintf(sub, sizeof(sub), "%s/%s", dir,
		    i ? "vm-templates" : "appvms") >= (int)sizeof(sub))
			return reply_refuse(r, "dir_path too long");
		if (mkdir_one(sub) == -1)
			return refuse_errno(r, "mkdir", sub);
	}
	return API_OK;
}

static void
file_pool_usage(const struct kvlist *pool, struct pool_usage *u)
{
	const char *dir = pool_param(pool, "dir_path");
	struct statvfs sv;

	memset(u, 0, sizeof(*u));
	u->have_size = u->have_usage = 1;
	if (dir == NULL || statvfs(dir, &sv) == -1)
		return;		/* FileNotFoundError: 0 */
	u->size = (uint64_t)sv.f_frsize * sv.f_blocks;
	u->usage = (uint64_t)sv.f_frsize * (sv.f_blocks - sv.f_bfree);
}

static int
file_pool_usage_details(struct reply *r, const struct kvlist *pool,
    struct strbuf *out)
{
	struct pool_usage u;

	(void)r;
	file_pool_usage(pool, &u);
	sb_addf(out, "data_size=%llu\ndata_usage=%llu\n",
	    (unsigned long long)u.size, (unsigned long long)u.usage);
	return API_OK;
}

/*
 * Volume objects are created when qubes are loaded: each qube after its
 * template chain (a snapshot needs its source first).  That is the order
 * of FilePool._volumes, which admin.pool.volume.List prints.
 */
static void
list_vm(const struct kvlist *pool, const struct vm *vm, unsigned char *seen,
    int depth, struct strbuf *out)
{
	const char *pname = kvl_get(pool, "name");
	const struct vm *tpl = NULL;
	struct vol v;
	size_t i, idx;

	for (idx = 0; idx < app->nvms && app->vms[idx] != vm; idx++)
		;
	if (idx == app->nvms || seen[idx] || depth > 32)
		return;
	seen[idx] = 1;
	if (vmprop_applies(vm, VMP_template))
		tpl = vmprop_vm(vm, VMP_template);
	if (tpl != NULL)
		list_vm(pool, tpl, seen, depth + 1, out);
	for (i = 0; i < vm->nvolumes; i++) {
		vol_view(&vm->volumes[i], &v);
		if (v.pool != NULL && pname != NULL &&
		    strcmp(v.pool, pname) == 0 && v.vid != NULL)
			sb_addf(out, "%s\n", v.vid);
	}
}

static int
file_pool_volumes(struct reply *r, const struct kvlist *pool,
    struct strbuf *out)
{
	unsigned char *seen;
	size_t i;

	(void)r;
	seen = xcalloc(app->nvms + 1, 1);
	for (i = 0; i < app->nvms; i++)
		list_vm(pool, app->vms[i], seen, 0, out);
	free(seen);
	return API_OK;
}

/* ---- volumes */

static int
file_vol_create(struct reply *r, const struct kvlist *pool, struct vm *vm,
    const struct vol *vol)
{
	char path[PATH_MAX];

	(void)vm;
	if (vol->snap_on_start && vol->save_on_stop)
		return reply_refuse(r, "snap_on_start + save_on_stop not "
		    "supported by file driver");
	/* FileVolume.create: assert size > 0 */
	if (vol->size == 0)
		return reply_refuse(r, "volume size must be > 0");
	if (vol->snap_on_start)
		return API_OK;		/* the template's image is used */
	if (img_path(pool, vol->vid, ".img", path, sizeof(path)) < 0)
		return reply_refuse(r, "unusable volume id");
	if (mkparent(path) == -1)
		return refuse_errno(r, "mkdir for", path);
	/* create_sparse_file: an existing image is an IOError */
	if (sparse_create(path, vol->size, 0) == -1)
		return refuse_errno(r, "create", path);
	return API_OK;
}

static int
file_vol_remove(struct reply *r, const struct kvlist *pool, struct vm *vm,
    const struct vol *vol)
{
	static const char *const cow[] = { "-cow.img", "-cow.img.old",
	    "-import.img" };
	char path[PATH_MAX];
	size_t i;
	int rc = API_OK;

	if (!vid_safe(vol->vid) ||
	    img_path(pool, vol->vid, "-cow.img.old", path, sizeof(path)) < 0)
		return reply_refuse(r, "unusable volume id");
	if (!vol->snap_on_start) {
		img_path(pool, vol->vid, ".img", path, sizeof(path));
		if (unlink_if_exists(path) == -1)
			rc = refuse_errno(r, "unlink", path);
	}
	for (i = 0; i < 3; i++) {
		/* the COW files exist only for snapshot and origin
		 * volumes; a leftover import is removed too */
		if (i < 2 && !vol->snap_on_start && !vol->save_on_stop)
			continue;
		img_path(pool, vol->vid, cow[i], path, sizeof(path));
		if (unlink_if_exists(path) == -1)
			rc = refuse_errno(r, "unlink", path);
	}
	/* the per-qube directory goes with its last volume */
	if (storage_vm_dir(pool, vm, path, sizeof(path)) == 0 &&
	    rmdir(path) == -1 && errno != ENOENT && errno != ENOTEMPTY &&
	    errno != EEXIST)
		log_warn("rmdir %s", path);
	return rc;
}

/* FileVolume.path: a snapshot reads its source's image */
static int
vol_img(const struct kvlist *pool, const struct vol *vol, char *buf,
    size_t len)
{
	if (vol->snap_on_start && vol->source != NULL)
		return img_path(pool, vol->source, ".img", buf, len);
	return img_path(pool, vol->vid, ".img", buf, len);
}

static void
file_vol_state(const struct kvlist *pool, const struct vm *vm,
    const struct vol *vol, struct vol_state *st)
{
	char path[PATH_MAX];
	struct stat sb;

	(void)vm;
	memset(st, 0, sizeof(*st));
	st->size = vol->size;
	if (vol_img(pool, vol, st->path, sizeof(st->path)) < 0)
		st->path[0] = '\0';
	else if (stat(st->path, &sb) == 0)
		st->size = (uint64_t)sb.st_size;
	if ((vol->save_on_stop || vol->snap_on_start) &&
	    img_path(pool, vol->vid, "-cow.img", path, sizeof(path)) == 0)
		st->usage += file_usage(path);
	if ((vol->save_on_stop || !vol->snap_on_start) &&
	    img_path(pool, vol->vid, ".img", path, sizeof(path)) == 0)
		st->usage += file_usage(path);
	st->is_outdated = 0;
}

static int
file_vol_revisions(struct reply *r, const struct kvlist *pool,
    const struct vol *vol, struct strbuf *out)
{
	char path[PATH_MAX];
	struct stat sb;

	(void)r;
	/* the previous COW store is the only revision, named "old" */
	if (img_path(pool, vol->vid, "-cow.img.old", path, sizeof(path)) == 0 &&
	    stat(path, &sb) == 0)
		sb_adds(out, "old\n");
	return API_OK;
}

static int
file_vol_revert(struct reply *r, const struct kvlist *pool, struct vm *vm,
    const struct vol *vol, const char *revision)
{
	(void)pool;
	(void)vm;
	(void)vol;
	(void)revision;
	/* FileVolume.revert: NotImplementedError */
	return reply_refuse(r, "file pool cannot revert");
}

static int
file_vol_resize(struct reply *r, const struct kvlist *pool, struct vm *vm,
    const struct vol *vol, uint64_t size)
{
	struct vol_state st;
	struct kvlist *kv;
	char path[PATH_MAX], num[32];
	int fd;

	if (!vol->rw)
		return reply_error(r, "StoragePoolException",
		    "Can not resize readonly volume %s",
		    vol->vid ? vol->vid : "");
	if (vol->snap_on_start)
		return reply_error(r, "StoragePoolException", "Cannot resize "
		    "volume based on a template - resizethe template instead");
	file_vol_state(pool, vm, vol, &st);
	if (size < st.size)
		return reply_error(r, "StoragePoolException", "For your own "
		    "safety, shrinking of %s is disabled. If you really know "
		    "what you are doing, use `truncate` on %s manually.",
		    vol->name ? vol->name : "", vol->vid ? vol->vid : "");
	if (size > (uint64_t)INT64_MAX)
		return reply_refuse(r, "size too large");
	if (img_path(pool, vol->vid, ".img", path, sizeof(path)) < 0)
		return reply_refuse(r, "unusable volume id");
	/* open(path, 'a+b').truncate(size): created if missing */
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0664);
	if (fd == -1)
		return refuse_errno(r, "open", path);
	if (ftruncate(fd, (off_t)size) == -1) {
		close(fd);
		return refuse_errno(r, "truncate", path);
	}
	close(fd);
	if ((kv = vm_volume(vm, vol->name)) != NULL) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)size);
		vol_set(kv, "size", num);
	}
	return API_OK;
}

static int
file_import_begin(struct reply *r, const struct kvlist *pool, struct vm *vm,
    const struct vol *vol, uint64_t size, char *pathbuf, size_t pathlen)
{
	(void)vm;
	if (!vol->save_on_stop)
		return reply_error(r, "StoragePoolException",
		    "Can not import into save_on_stop=False "
		    "volume %s", vol->vid ? vol->vid : "");
	if (img_path(pool, vol->vid, "-import.img", pathbuf, pathlen) < 0)
		return reply_refuse(r, "unusable volume id");
	if (mkparent(pathbuf) == -1)
		return refuse_errno(r, "mkdir for", pathbuf);
	/*
	 * The reference aborts on a leftover V-import.img (a crashed
	 * import); it is only ever our own temporary, so it is replaced --
	 * unless an import service still copies into it: the service holds
	 * an exclusive flock on the target until it is done (or dead).
	 */
	{
		int fd = open(pathbuf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

		if (fd >= 0) {
			int busy = flock(fd, LOCK_EX | LOCK_NB) == -1 &&
			    errno == EWOULDBLOCK;

			close(fd);
			if (busy)
				return reply_error(r, "StoragePoolException",
				    "Import operation in progress on %s",
				    vol->vid ? vol->vid : "");
		}
	}
	if (sparse_create(pathbuf, size, 1) == -1)
		return refuse_errno(r, "create", pathbuf);
	return API_OK;
}

static int
file_import_end(struct reply *r, const struct kvlist *pool, struct vm *vm,
    const struct vol *vol, int success)
{
	char imp[PATH_MAX], img[PATH_MAX];

	if (img_path(pool, vol->vid, "-import.img", imp, sizeof(imp)) < 0 ||
	    img_path(pool, vol->vid, ".img", img, sizeof(img)) < 0)
		return reply_refuse(r, "unusable volume id");
	if (!success) {
		if (unlink(imp) == -1)
			return refuse_errno(r, "unlink", imp);
		return API_OK;
	}
	/* commit without keeping a revision */
	if (rename(imp, img) == -1)
		return refuse_errno(r, "rename", imp);
	sync_size(vm, vol, img);
	return API_OK;
}

/* ---- clone (import_volume) */

static int
all_zero(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* Copy [off, end) of in to out, leaving all-zero blocks as holes. */
static int
copy_range(int in, int out, off_t off, off_t end, unsigned char *buf)
{
	ssize_t n, w;
	size_t want, done;

	while (off < end) {
		want = (size_t)(end - off) < COPY_BUF ? (size_t)(end - off) :
		    COPY_BUF;
		n = pread(in, buf, want, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		if (!all_zero(buf, (size_t)n)) {
			for (done = 0; done < (size_t)n; done += (size_t)w) {
				w = pwrite(out, buf + done, (size_t)n - done,
				    off + (off_t)done);
				if (w == -1 && errno == EINTR) {
					w = 0;
					continue;
				}
				if (w <= 0)
					return -1;
			}
		}
		off += n;
	}
	return 0;
}

/*
 * cp --sparse=always --reflink=auto: a reflink when the file system can,
 * else the data extents (SEEK_DATA/SEEK_HOLE; a block device is one
 * extent) with zero blocks left as holes.  dst must not exist.
 */
static int
sparse_copy(const char *src, const char *dst)
{
	struct stat st;
	unsigned char *buf = NULL;
	uint64_t bsize;
	off_t size, data, hole;
	int in, out, rc = -1, save;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(in, &st) == -1)
		goto fail_in;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(in, BLKGETSIZE64, &bsize) == -1 ||
		    bsize > (uint64_t)INT64_MAX)
			goto fail_in;
		size = (off_t)bsize;
	} else if (S_ISREG(st.st_mode))
		size = st.st_size;
	else {
		errno = EINVAL;
		goto fail_in;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0664);
	if (out == -1)
		goto fail_in;
	if (S_ISREG(st.st_mode) && ioctl(out, FICLONE, in) == 0) {
		rc = 0;
		goto done;
	}
	if ((buf = malloc(COPY_BUF)) == NULL)
		goto done;
	if (S_ISBLK(st.st_mode)) {
		rc = copy_range(in, out, 0, size, buf);
		goto truncate;
	}
	for (data = 0; data < size; data = hole) {
		data = lseek(in, data, SEEK_DATA);
		if (data == -1 && errno == ENXIO)
			break;		/* only holes remain */
		if (data == -1) {
			/* no SEEK_DATA: the whole file is data */
			rc = copy_range(in, out, 0, size, buf);
			goto truncate;
		}
		if ((hole = lseek(in, data, SEEK_HOLE)) == -1 || hole > size)
			hole = size;
		if (copy_range(in, out, data, hole, buf) == -1)
			goto done;
	}
	rc = 0;
truncate:
	if (rc == 0 && ftruncate(out, size) == -1)
		rc = -1;
done:
	save = errno;
	free(buf);
	if (close(out) == -1 && rc == 0)
		rc = -1;
	if (rc == -1)
		unlink(dst);
	errno = save;
fail_in:
	save = errno;
	close(in);
	errno = save;
	return rc;
}

/*
 * FileVolume.is_dirty(): the COW store of a save_on_stop volume holds
 * data beyond the header of an empty device-mapper snapshot.
 */
static int
cow_dirty(const char *path)
{
	static const unsigned char hdr[16] = { 'S', 'n', 'A', 'p', 1, 0, 0, 0,
	    1, 0, 0, 0, 0, 1, 0, 0 };
	unsigned char *buf;
	struct stat st;
	uint64_t used;
	off_t hole;
	ssize_t n;
	int fd, dirty = 1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return errno != ENOENT;
	if (fstat(fd, &st) == -1)
		goto out;
	if (lseek(fd, 0, SEEK_DATA) == -1 && errno == ENXIO) {
		dirty = 0;	/* no data at all */
		goto out;
	}
	used = (uint64_t)st.st_blocks * 512u;
	if (used > EMPTY_SNAPSHOT_LEN)
		goto out;
	if ((buf = calloc(1, EMPTY_SNAPSHOT_LEN)) == NULL)
		goto out;
	n = pread(fd, buf, EMPTY_SNAPSHOT_LEN, 0);
	/* the first 256 KiB must be exactly the empty header */
	dirty = n != (ssize_t)EMPTY_SNAPSHOT_LEN ||
	    memcmp(buf, hdr, sizeof(hdr)) != 0 ||
	    !all_zero(buf + sizeof(hdr), EMPTY_SNAPSHOT_LEN - sizeof(hdr));
	free(buf);
	if (!dirty && (hole = lseek(fd, 0, SEEK_HOLE)) != -1 &&
	    used > (uint64_t)hole)
		dirty = 1;
out:
	close(fd);
	return dirty;
}

/*
 * The committed data of the source volume (its export()): the image for
 * file and file-reflink, the current LV for lvm_thin.
 */
static int
export_path(struct reply *r, const struct kvlist *spool,
    const struct vm *svm, const struct vol *src, char *buf, size_t len)
{
	const struct storage_driver *sd = pool_driver(spool);
	struct vol_state st;
	char cow[PATH_MAX];
	struct stat sb;

	if (sd == &storage_driver_file) {
		if (strcmp(virt_power_state(svm), "Halted") != 0)
			return reply_error(r, "StoragePoolException",
			    "file pool cannot export running volumes");
		if (src->save_on_stop && img_path(spool, src->vid,
		    "-cow.img", cow, sizeof(cow)) == 0 && cow_dirty(cow))
			return reply_error(r, "StoragePoolException",
			    "file pool cannot export dirty volumes");
		if (img_path(spool, src->vid, ".img", buf, len) < 0)
			return reply_refuse(r, "unusable volume id");
		return API_OK;
	}
	if (sd != NULL && strcmp(sd->name, "file-reflink") == 0) {
		if (!src->save_on_stop)
			return reply_refuse(r, "reflink export of a "
			    "non-save_on_stop volume");
		if (img_path(spool, src->vid, ".img", buf, len) < 0)
			return reply_refuse(r, "unusable volume id");
		return API_OK;
	}
	if (sd != NULL && sd->vol_state != NULL) {
		sd->vol_state(spool, svm, src, &st);
		if (st.path[0] != '\0' && stat(st.path, &sb) == 0 &&
		    snprintf(buf, len, "%s", st.path) < (int)len)
			return API_OK;
	}
	return reply_refuse(r, "cannot export the source volume");
}

static int
file_vol_clone(struct reply *r, const struct kvlist *dpool, struct vm *dvm,
    const struct vol *dst, const struct kvlist *spool, const struct vm *svm,
    const struct vol *src)
{
	char spath[PATH_MAX], dpath[PATH_MAX], tpath[PATH_MAX];
	struct stat sb;
	int rc;

	if (src->snap_on_start)
		return reply_error(r, "StoragePoolException", "Can not import "
		    "snapshot volume %s in to pool %s ",
		    src->vid ? src->vid : "", dst->vid ? dst->vid : "");
	if (!dst->save_on_stop)
		return API_OK;		/* nothing is copied */
	if (img_path(dpool, dst->vid, ".img", dpath, sizeof(dpath)) < 0 ||
	    img_path(dpool, dst->vid, ".img.clone~", tpath, sizeof(tpath)) < 0)
		return reply_refuse(r, "unusable volume id");
	if ((rc = export_path(r, spool, svm, src, spath,
	    sizeof(spath))) != API_OK)
		return rc;
	/* copy_file(): asserts the source exists */
	if (stat(spath, &sb) == -1)
		return refuse_errno(r, "stat", spath);
	if (mkparent(dpath) == -1)
		return refuse_errno(r, "mkdir for", dpath);
	/*
	 * The reference deletes the target first: a clone of a volume onto
	 * itself, or a failed copy, then loses the target's data.  Copy
	 * aside and rename over the target instead.
	 */
	if (unlink_if_exists(tpath) == -1)
		return refuse_errno(r, "unlink", tpath);
	if (sparse_copy(spath, tpath) == -1) {
		unlink(tpath);
		return refuse_errno(r, "copy to", tpath);
	}
	if (rename(tpath, dpath) == -1) {
		unlink(tpath);
		return refuse_errno(r, "rename", tpath);
	}
	sync_size(dvm, dst, dpath);
	return API_OK;
}

const struct storage_driver storage_driver_file = {
	.name = "file",
	.params = file_params,
	.defaults = file_defaults,
	.pool_setup = file_pool_setup,
	.pool_usage = file_pool_usage,
	.pool_usage_details = file_pool_usage_details,
	.pool_volumes = file_pool_volumes,
	.check_revisions = file_check_revisions,
	.vol_create = file_vol_create,
	.vol_remove = file_vol_remove,
	.vol_state = file_vol_state,
	.vol_revisions = file_vol_revisions,
	.vol_revert = file_vol_revert,
	.vol_resize = file_vol_resize,
	.import_begin = file_import_begin,
	.import_end = file_import_end,
	.vol_clone = file_vol_clone,
};
