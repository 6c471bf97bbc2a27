/*
 * test_reflink.c - the file-reflink driver (broker/storage_reflink.c).
 *
 * Always: the revision file name parser (case table) and pool setup on a
 * directory without reflinks (TMPDIR, when its filesystem has none).
 * With REFLINK_TEST_DIR set to an empty directory on a filesystem with
 * reflinks (tests/bats/reflink.bats mounts a btrfs for it): the volume
 * life of a template and an AppVM through the driver's operations,
 * checking the files on disk after each step.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/fs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "call.h"
#include "model.h"
#include "persist.h"
#include "storage.h"
#include "unit.h"

/* Exported by storage_reflink.c (no header of their own yet). */
int	reflink_dir_supported(const char *dir);
int	reflink_parse_revision(const char *name, unsigned long long *n,
	    size_t *idlen);
int	reflink_vol_start(struct reply *r, const struct kvlist *pool,
	    struct vm *vm, const struct vol *v);
int	reflink_vol_stop(struct reply *r, const struct kvlist *pool,
	    struct vm *vm, const struct vol *v);

extern const struct storage_driver storage_driver_reflink;
static const struct storage_driver *const D = &storage_driver_reflink;

/* ---------------------------------------------------------------------
 * revision names
 */

static const struct {
	const char		*name;	/* after "<vid>.img." */
	int			 rc;
	unsigned long long	 n;
	size_t			 idlen;
} revnames[] = {
	{ "1@2024-01-02T03:04:05Z", 1, 1, 1 },
	{ "42@1999-12-31T23:59:59Z", 1, 42, 2 },
	{ "007@2024-01-02T03:04:05Z", 1, 7, 3 },
	{ "0@2024-01-02T03:04:05Z", 1, 0, 1 },
	{ "9999999999999999999@2024-01-02T03:04:05Z", 1,
	    9999999999999999999ULL, 19 },
	/* glob "?" matches anything: the timestamp is not checked */
	{ "3@abcd-ef-ghTij:kl:mnZ", 1, 3, 1 },
	/* not matching "*?@????-??-??T??:??:??Z": not a revision */
	{ "", 0, 0, 0 },
	{ "@2024-01-02T03:04:05Z", 0, 0, 0 },
	{ "1@2024-01-02T03:04:05", 0, 0, 0 },
	{ "1@2024-01-02T03:04:05Zx", 0, 0, 0 },
	{ "1@2024-01-02 03:04:05Z", 0, 0, 0 },
	{ "1@2024-1-02T03:04:05Z", 0, 0, 0 },
	{ "1-2024-01-02T03:04:05Z", 0, 0, 0 },
	{ "1@2024/01/02T03:04:05Z", 0, 0, 0 },
	{ "1@2024-01-02T03-04-05Z", 0, 0, 0 },
	{ "img~abc", 0, 0, 0 },
	/* matching the glob but failing the reference's split / int() */
	{ "x1@2024-01-02T03:04:05Z", -1, 0, 0 },
	{ "1a@2024-01-02T03:04:05Z", -1, 0, 0 },
	{ "-1@2024-01-02T03:04:05Z", -1, 0, 0 },
	{ " 1@2024-01-02T03:04:05Z", -1, 0, 0 },
	{ "1@2@2024-01-02T03:04:05Z", -1, 0, 0 },
	{ "1@20@4-01-02T03:04:05Z", -1, 0, 0 },
	{ "99999999999999999999@2024-01-02T03:04:05Z", -1, 0, 0 },
};

static void
test_revnames(void)
{
	unsigned long long n;
	size_t i, idlen;
	int rc;

	for (i = 0; i < sizeof(revnames) / sizeof(revnames[0]); i++) {
		n = 12345;
		idlen = 12345;
		rc = reflink_parse_revision(revnames[i].name, &n, &idlen);
		if (!is_int(rc, revnames[i].rc, "parse %s",
		    unit_qs(revnames[i].name)) || rc != 1)
			continue;
		is_int(n, revnames[i].n, "  number of %s",
		    unit_qs(revnames[i].name));
		is_int(idlen, revnames[i].idlen, "  id length of %s",
		    unit_qs(revnames[i].name));
	}
}

/* ---------------------------------------------------------------------
 * helpers
 */

static char root[PATH_MAX];	/* the directory under test */

static int
have_reflink(const char *dir)
{
	char a[PATH_MAX], b[PATH_MAX];
	int fa, fb, ok = 0;

	snprintf(a, sizeof(a), "%s/.probe-a", dir);
	snprintf(b, sizeof(b), "%s/.probe-b", dir);
	fa = open(a, O_RDWR | O_CREAT | O_TRUNC, 0600);
	fb = open(b, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fa != -1 && fb != -1 && write(fa, "foo", 3) == 3)
		ok = ioctl(fb, FICLONE, fa) == 0;
	if (fa != -1)
		close(fa);
	if (fb != -1)
		close(fb);
	unlink(a);
	unlink(b);
	return ok;
}

static const char *
P(const char *rel)
{
	static char bufs[4][PATH_MAX + 512];
	static unsigned k;
	char *b = bufs[k++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/pool/%.500s", root, rel);
	return b;
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static long long
fsize(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static int
same_inode(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	    sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

static int
same_mtime(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	    sa.st_mtim.tv_sec == sb.st_mtim.tv_sec &&
	    sa.st_mtim.tv_nsec == sb.st_mtim.tv_nsec;
}

static int
put(const char *path, const char *data)
{
	int fd, rc;

	if ((fd = open(path, O_WRONLY | O_CREAT, 0600)) == -1)
		return -1;
	rc = pwrite(fd, data, strlen(data), 0) == (ssize_t)strlen(data) ?
	    0 : -1;
	close(fd);
	return rc;
}

/* The first bytes of path equal data? */
static int
has(const char *path, const char *data)
{
	char buf[64];
	size_t l = strlen(data);
	int fd;
	ssize_t n;

	if ((fd = open(path, O_RDONLY)) == -1)
		return 0;
	n = pread(fd, buf, l, 0);
	close(fd);
	return n == (ssize_t)l && memcmp(buf, data, l) == 0;
}

/* Names in dir starting with prefix, sorted, each followed by a space
 * (revision names cut after the '@'). */
static const char *
ls(const char *dir, const char *prefix)
{
	static char out[4096];
	char names[64][256];
	struct dirent *de;
	size_t n = 0, i, j, o = 0;
	char tmp[256], *at;
	DIR *d;

	out[0] = '\0';
	if ((d = opendir(dir)) == NULL)
		return "(missing)";
	while ((de = readdir(d)) != NULL && n < 64) {
		if (de->d_name[0] == '.' ||
		    strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		/* revision timestamps vary: keep "<name>.img.<N>@" */
		snprintf(names[n], sizeof(names[0]), "%s", de->d_name);
		if ((at = strchr(names[n], '@')) != NULL)
			at[1] = '\0';
		n++;
	}
	closedir(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			memcpy(tmp, names[j], sizeof(tmp));
			memcpy(names[j], names[j - 1], sizeof(tmp));
			memcpy(names[j - 1], tmp, sizeof(tmp));
		}
	for (i = 0; i < n && o < sizeof(out) - 260; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s ",
		    names[i]);
	return out;
}

/* The revision ids of a volume as the driver lists them. */
static const char *
revs(const struct kvlist *pool, struct vm *vm, const char *vol)
{
	static char out[1024];
	struct reply r;
	struct vol v;

	vol_view(vm_volume(vm, vol), &v);
	reply_init(&r);
	if (D->vol_revisions(&r, pool, &v, &r.out) != API_OK)
		snprintf(out, sizeof(out), "(failed)");
	else
		snprintf(out, sizeof(out), "%s", r.out.buf ? r.out.buf : "");
	reply_free(&r);
	return out;
}

typedef int (*volop)(struct reply *, const struct kvlist *, struct vm *,
    const struct vol *);

/* Run a lifecycle op on one volume: its status; *msg gets the message. */
static int
op(volop fn, const struct kvlist *pool, struct vm *vm, const char *vol,
    char *msg, size_t msglen)
{
	struct reply r;
	struct vol v;
	int rc;

	vol_view(vm_volume(vm, vol), &v);
	reply_init(&r);
	rc = fn(&r, pool, vm, &v);
	if (msg != NULL)
		snprintf(msg, msglen, "%s", r.msg.buf ? r.msg.buf : "");
	reply_free(&r);
	return rc;
}

static int
op_all(volop fn, const struct kvlist *pool, struct vm *vm)
{
	size_t i;
	int rc;

	for (i = 0; i < vm->nvolumes; i++)
		if ((rc = op(fn, pool, vm, kvl_get(&vm->volumes[i], "name"),
		    NULL, 0)) != API_OK)
			return rc;
	return API_OK;
}

/* ---------------------------------------------------------------------
 * pool setup without reflinks
 */

static void
test_setup_no_reflink(void)
{
	char dir[PATH_MAX], want[PATH_MAX + 256];
	const char *tmp = getenv("TMPDIR");
	struct kvlist pool;
	struct reply r;
	int rc;

	snprintf(dir, sizeof(dir), "%s/test_reflink.XXXXXX",
	    tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp %s: %s", dir, strerror(errno));
		return;
	}
	is_int(reflink_dir_supported(dir), have_reflink(dir),
	    "reflink_dir_supported(TMPDIR) agrees with a probe");
	snprintf(want, sizeof(want), "%s/missing", dir);
	is_int(reflink_dir_supported(want), -1,
	    "reflink_dir_supported(missing directory): -1");
	if (have_reflink(dir)) {
		diag("%s has reflinks: no refusal to test", dir);
		rmdir(dir);
		return;
	}
	memset(&pool, 0, sizeof(pool));
	kvl_set(&pool, "name", "noreflink");
	kvl_set(&pool, "driver", "file-reflink");
	snprintf(want, sizeof(want), "%s/sub", dir);
	kvl_set(&pool, "dir_path", want);
	reply_init(&r);
	rc = D->pool_setup(&r, &pool);
	is_int(rc, API_ERROR, "setup without reflinks: error");
	is_str(r.exc, "StoragePoolException", "  class");
	snprintf(want, sizeof(want), "The filesystem for '%s/sub' does not "
	    "support reflinks. If you can live with VM startup delays and "
	    "wasted disk space, pass the \"setup_check=False\" option.", dir);
	is_str(r.msg.buf, want, "  message");
	snprintf(want, sizeof(want), "%s/sub", dir);
	ok(!exists(want), "  the directory it created is removed again");
	reply_free(&r);

	/* an existing directory stays */
	mkdir(want, 0755);
	reply_init(&r);
	is_int(D->pool_setup(&r, &pool), API_ERROR,
	    "existing directory: error");
	ok(exists(want), "  the existing directory stays");
	reply_free(&r);

	/* setup_check=False: no check, directories made */
	kvl_set(&pool, "setup_check", "False");
	reply_init(&r);
	is_int(D->pool_setup(&r, &pool), API_OK, "setup_check=False: ok");
	snprintf(want, sizeof(want), "%s/sub/appvms", dir);
	ok(exists(want), "  appvms/ made");
	rmdir(want);
	snprintf(want, sizeof(want), "%s/sub/vm-templates", dir);
	ok(exists(want), "  vm-templates/ made");
	rmdir(want);
	reply_free(&r);

	kvl_set(&pool, "setup_check", "maybe");
	reply_init(&r);
	is_int(D->pool_setup(&r, &pool), API_ERROR, "setup_check=maybe");
	is_str(r.msg.buf, "Invalid literal for boolean property: 'maybe'",
	    "  message");
	reply_free(&r);

	snprintf(want, sizeof(want), "%s/sub", dir);
	rmdir(want);
	rmdir(dir);
	kvl_free(&pool);
}

/* ---------------------------------------------------------------------
 * the life of a template and an AppVM on a reflink filesystem
 */

#define XML_HEAD \
	"<qubes><labels><label id=\"label-1\" color=\"0xcc0000\">red</label>" \
	"<label id=\"label-8\" color=\"0x000000\">black</label></labels>" \
	"<pools><pool name=\"rp\" dir_path=\"%s/pool\" " \
	"driver=\"file-reflink\" revisions_to_keep=\"1\"/></pools>" \
	"<properties/><domains>" \
	"<domain id=\"domain-0\" class=\"AdminVM\"><properties>" \
	"<property name=\"label\">black</property></properties></domain>"
/* the template sorts after the AppVM: pool.volume.List still lists it
 * first (the AppVM's root loads its template) */
#define XML_TPL \
	"<domain id=\"domain-1\" class=\"TemplateVM\"><properties>" \
	"<property name=\"label\">black</property>" \
	"<property name=\"name\">zz-tpl</property>" \
	"<property name=\"qid\">1</property>" \
	"<property name=\"uuid\">82cc7880-7c75-4408-8874-4d0645238a8c" \
	"</property></properties><volume-config>" \
	"<volume name=\"root\" pool=\"rp\" vid=\"vm-templates/zz-tpl/root\" " \
	"revisions_to_keep=\"1\" rw=\"True\" save_on_stop=\"True\" " \
	"size=\"10737418240\"/>" \
	"<volume name=\"private\" pool=\"rp\" " \
	"vid=\"vm-templates/zz-tpl/private\" revisions_to_keep=\"1\" " \
	"rw=\"True\" save_on_stop=\"True\" size=\"2147483648\"/>" \
	"<volume name=\"volatile\" pool=\"rp\" " \
	"vid=\"vm-templates/zz-tpl/volatile\" revisions_to_keep=\"0\" " \
	"rw=\"True\" size=\"10737418240\"/>" \
	"</volume-config></domain>"
#define XML_APP \
	"<domain id=\"domain-2\" class=\"AppVM\"><properties>" \
	"<property name=\"label\">red</property>" \
	"<property name=\"name\">work</property>" \
	"<property name=\"qid\">2</property>" \
	"<property name=\"uuid\">4a1a86a1-a031-4b83-8564-d9b294a04f48" \
	"</property><property name=\"template\">zz-tpl</property>" \
	"</properties><volume-config>" \
	"<volume name=\"root\" pool=\"rp\" vid=\"appvms/work/root\" " \
	"revisions_to_keep=\"0\" rw=\"True\" snap_on_start=\"True\" " \
	"size=\"10737418240\" source=\"vm-templates/zz-tpl/root\"/>" \
	"<volume name=\"private\" pool=\"rp\" vid=\"appvms/work/private\" " \
	"revisions_to_keep=\"1\" rw=\"True\" save_on_stop=\"True\" " \
	"size=\"2147483648\"/>" \
	"<volume name=\"volatile\" pool=\"rp\" vid=\"appvms/work/volatile\" " \
	"revisions_to_keep=\"0\" rw=\"True\" size=\"10737418240\"/>" \
	"<volume name=\"ro\" pool=\"rp\" vid=\"appvms/work/ro\" " \
	"revisions_to_keep=\"0\" save_on_stop=\"True\" size=\"4096\"/>" \
	"</volume-config></domain>"
#define XML_TAIL "</domains></qubes>"

static void
test_life(void)
{
	char xml[8192], path[PATH_MAX], want[PATH_MAX + 64];
	const struct kvlist *pool;
	struct vm *tpl, *work;
	struct vol_state st;
	struct pool_usage u;
	struct strbuf err;
	struct reply r;
	struct vol v;
	struct app *a = NULL;
	int rc;

	snprintf(xml, sizeof(xml), XML_HEAD XML_TPL XML_APP XML_TAIL, root);
	sb_init(&err, 4096);
	rc = persist_load_mem(xml, strlen(xml), root, &a, &err);
	if (!ok(rc == 0 && a != NULL, "load the test store")) {
		diag("%s", err.buf ? err.buf : "");
		sb_free(&err);
		return;
	}
	sb_free(&err);
	app = a;
	pool = app_pool(app, "rp");
	tpl = app_vm(app, "zz-tpl");
	work = app_vm(app, "work");
	if (!ok(pool != NULL && tpl != NULL && work != NULL, "model"))
		goto out;

	/* pool */
	is_int(reflink_dir_supported(root), 1, "reflink_dir_supported");
	reply_init(&r);
	is_int(D->pool_setup(&r, pool), API_OK, "pool setup on reflink fs");
	reply_free(&r);
	ok(exists(P("appvms")) && exists(P("vm-templates")),
	    "  appvms/ and vm-templates/ made");
	reply_init(&r);
	is_int(D->pool_setup(&r, pool), API_OK, "  again: still ok");
	reply_free(&r);
	D->pool_usage(pool, &u);
	ok(u.have_size && u.have_usage && u.size > 0 && u.usage <= u.size,
	    "pool usage: size %llu usage %llu", (unsigned long long)u.size,
	    (unsigned long long)u.usage);
	reply_init(&r);
	is_int(D->pool_usage_details(&r, pool, &r.out), API_OK,
	    "usage details");
	ok(r.out.buf != NULL && strncmp(r.out.buf, "data_size=", 10) == 0 &&
	    strstr(r.out.buf, "\ndata_usage=") != NULL, "  data_size, "
	    "data_usage: %s", unit_qs(r.out.buf));
	reply_free(&r);
	reply_init(&r);
	is_int(D->pool_volumes(&r, pool, &r.out), API_OK, "volume list");
	is_str(r.out.buf, "vm-templates/zz-tpl/root\n"
	    "vm-templates/zz-tpl/private\nvm-templates/zz-tpl/volatile\n"
	    "appvms/work/root\nappvms/work/private\nappvms/work/volatile\n"
	    "appvms/work/ro\n", "  template first (load order)");
	reply_free(&r);

	/* create */
	mkdir(P("vm-templates/zz-tpl"), 0755);
	is_int(put(P("vm-templates/zz-tpl/root.img~stale"), "x"), 0,
	    "a stale temporary");
	reply_init(&r);
	is_int(storage_create_vm(&r, tpl), API_OK, "create the template");
	reply_free(&r);
	reply_init(&r);
	is_int(storage_create_vm(&r, work), API_OK, "create the AppVM");
	reply_free(&r);
	is_str(ls(P("vm-templates/zz-tpl"), ""), "private-precache.img "
	    "private.img root-precache.img root.img ",
	    "  template files: clean + precache of origins, nothing else");
	is_int(fsize(P("vm-templates/zz-tpl/root.img")), 10737418240LL,
	    "  root.img: 10 GiB");
	ok(same_mtime(P("vm-templates/zz-tpl/root.img"),
	    P("vm-templates/zz-tpl/root-precache.img")),
	    "  precache has the clean image's mtime");
	ok(!same_inode(P("vm-templates/zz-tpl/root.img"),
	    P("vm-templates/zz-tpl/root-precache.img")),
	    "  precache is another inode");
	is_str(ls(P("appvms/work"), ""), "private-precache.img private.img "
	    "ro-precache.img ro.img ", "  AppVM files: no root, no volatile");

	/* state of a halted qube */
	vol_view(vm_volume(work, "private"), &v);
	D->vol_state(pool, work, &v, &st);
	is_int(st.size, 2147483648LL, "private: size");
	is_int(st.usage, 0, "private: usage");
	snprintf(want, sizeof(want), "%s/pool/appvms/work/private-dirty.img",
	    root);
	is_str(st.path, want, "private: path is the dirty image");
	is_int(st.is_outdated, 0, "private: not outdated");
	vol_view(vm_volume(work, "root"), &v);
	D->vol_state(pool, work, &v, &st);
	is_int(st.is_outdated, -1, "halted AppVM root: is_outdated None");
	is_int(st.size, 10737418240LL, "  size: configured");
	is_str(revs(pool, tpl, "root"), "", "no revisions yet");

	/* start the template, write, revert refused, stop */
	is_int(op_all(reflink_vol_start, pool, tpl), API_OK,
	    "start the template");
	is_str(ls(P("vm-templates/zz-tpl"), ""), "private-dirty.img "
	    "private.img root-dirty.img root.img volatile-dirty.img ",
	    "  precaches renamed to dirty images, volatile made");
	is_int(fsize(P("vm-templates/zz-tpl/volatile-dirty.img")),
	    10737418240LL, "  volatile: configured size");
	is_int(put(P("vm-templates/zz-tpl/root-dirty.img"), "one"), 0,
	    "  write 'one'");
	ok(!has(P("vm-templates/zz-tpl/root.img"), "one"),
	    "  clean image unchanged (reflink, not hardlink)");
	reply_init(&r);
	vol_view(vm_volume(tpl, "root"), &v);
	is_int(D->vol_revert(&r, pool, tpl, &v, "1"), API_ERROR,
	    "revert while running");
	is_str(r.msg.buf, "Cannot revert: vm-templates/zz-tpl/root is not "
	    "cleanly stopped", "  message");
	reply_free(&r);
	is_int(op_all(reflink_vol_stop, pool, tpl), API_OK,
	    "stop the template");
	is_str(revs(pool, tpl, "root"), "1\n", "  root: revision 1");
	is_str(ls(P("vm-templates/zz-tpl"), "root"), "root-precache.img "
	    "root.img root.img.1@ ", "  files (prefix)");
	ok(has(P("vm-templates/zz-tpl/root.img"), "one"),
	    "  committed: clean has 'one'");
	ok(same_mtime(P("vm-templates/zz-tpl/root.img"),
	    P("vm-templates/zz-tpl/root-precache.img")),
	    "  new precache");
	ok(!exists(P("vm-templates/zz-tpl/volatile-dirty.img")),
	    "  volatile removed");

	/* start the AppVM: root is a hardlink + reflink of the template's */
	is_int(put(P("appvms/work/private.img~x"), "junk"), 0,
	    "a stale temporary of the AppVM");
	is_int(put(P("appvms/work/private-import.img"), "junk"), 0,
	    "a stale import");
	is_int(op_all(reflink_vol_start, pool, work), API_OK,
	    "start the AppVM");
	ok(!exists(P("appvms/work/private.img~x")) &&
	    !exists(P("appvms/work/private-import.img")),
	    "  incomplete images removed");
	ok(same_inode(P("appvms/work/root.img"),
	    P("vm-templates/zz-tpl/root.img")),
	    "  root.img hardlinks the template's");
	ok(has(P("appvms/work/root-dirty.img"), "one"),
	    "  root-dirty has the template's data");
	vol_view(vm_volume(work, "root"), &v);
	D->vol_state(pool, work, &v, &st);
	is_int(st.is_outdated, 0, "  root not outdated");

	/* template changes: AppVM root outdated; rtk 1 prunes */
	is_int(op_all(reflink_vol_start, pool, tpl), API_OK,
	    "start the template again");
	is_int(put(P("vm-templates/zz-tpl/root-dirty.img"), "two"), 0,
	    "  write 'two'");
	is_int(op_all(reflink_vol_stop, pool, tpl), API_OK, "  stop");
	is_str(revs(pool, tpl, "root"), "2\n",
	    "  revision 2, revision 1 pruned (revisions_to_keep=1)");
	D->vol_state(pool, work, &v, &st);
	is_int(st.is_outdated, 1, "AppVM root outdated");

	/* stop the AppVM */
	is_int(put(P("appvms/work/private-dirty.img"), "priv"), 0,
	    "AppVM writes its private");
	is_int(op_all(reflink_vol_stop, pool, work), API_OK,
	    "stop the AppVM");
	is_str(ls(P("appvms/work"), ""), "private-precache.img private.img "
	    "private.img.1@ ro-precache.img ro.img ",
	    "  snapshot and volatile gone, private committed");
	ok(has(P("appvms/work/private.img"), "priv"), "  private data");

	/* revisions_to_keep 2, then revert */
	kvl_set(vm_volume(tpl, "root"), "revisions_to_keep", "2");
	is_int(op_all(reflink_vol_start, pool, tpl), API_OK,
	    "revisions_to_keep=2: start");
	is_int(put(P("vm-templates/zz-tpl/root-dirty.img"), "tri"), 0,
	    "  write 'tri'");
	is_int(op_all(reflink_vol_stop, pool, tpl), API_OK, "  stop");
	is_str(revs(pool, tpl, "root"), "2\n3\n", "  revisions 2 3");
	reply_init(&r);
	vol_view(vm_volume(tpl, "root"), &v);
	is_int(D->vol_revert(&r, pool, tpl, &v, "2"), API_OK, "revert to 2");
	reply_free(&r);
	is_str(revs(pool, tpl, "root"), "3\n4\n",
	    "  current state kept as revision 4, 2 consumed");
	ok(has(P("vm-templates/zz-tpl/root.img"), "one"),
	    "  clean has revision 2's data ('one')");
	ok(same_mtime(P("vm-templates/zz-tpl/root.img"),
	    P("vm-templates/zz-tpl/root-precache.img")),
	    "  precache refreshed");
	reply_init(&r);
	is_int(D->vol_revert(&r, pool, tpl, &v, "17"), API_REFUSE,
	    "revert to a missing revision: refused");
	reply_free(&r);

	/* resize */
	reply_init(&r);
	vol_view(vm_volume(work, "ro"), &v);
	is_int(D->vol_resize(&r, pool, work, &v, 8192), API_ERROR,
	    "resize read-only");
	is_str(r.msg.buf, "Cannot resize: appvms/work/ro is read-only",
	    "  message");
	reply_free(&r);
	reply_init(&r);
	vol_view(vm_volume(tpl, "root"), &v);
	is_int(D->vol_resize(&r, pool, tpl, &v, 1048576), API_OK,
	    "shrink a halted origin");
	reply_free(&r);
	is_int(fsize(P("vm-templates/zz-tpl/root.img")), 1048576,
	    "  clean image 1 MiB");
	ok(has(P("vm-templates/zz-tpl/root.img"), "one"), "  data kept");
	ok(same_mtime(P("vm-templates/zz-tpl/root.img"),
	    P("vm-templates/zz-tpl/root-precache.img")),
	    "  precache refreshed");
	is_str(kvl_get(vm_volume(tpl, "root"), "size"), "1048576",
	    "  size recorded");
	reply_init(&r);
	vol_view(vm_volume(work, "root"), &v);
	is_int(D->vol_resize(&r, pool, work, &v, 20971520), API_OK,
	    "resize a halted snapshot");
	reply_free(&r);
	ok(!exists(P("appvms/work/root.img")) &&
	    !exists(P("appvms/work/root-dirty.img")), "  no files made");
	is_str(kvl_get(vm_volume(work, "root"), "size"), "20971520",
	    "  configured size changed");
	is_int(op(reflink_vol_start, pool, work, "private", NULL, 0), API_OK,
	    "start the AppVM's private");
	reply_init(&r);
	vol_view(vm_volume(work, "private"), &v);
	is_int(D->vol_resize(&r, pool, work, &v, 3221225472ULL), API_OK,
	    "resize a running volume");
	reply_free(&r);
	is_int(fsize(P("appvms/work/private-dirty.img")), 3221225472LL,
	    "  dirty image grown");
	is_int(fsize(P("appvms/work/private.img")), 2147483648LL,
	    "  clean image untouched");
	D->vol_state(pool, work, &v, &st);
	is_int(st.size, 3221225472LL, "  state: size of the dirty image");
	is_int(op(reflink_vol_stop, pool, work, "private", NULL, 0), API_OK,
	    "  stop");
	is_int(fsize(P("appvms/work/private.img")), 3221225472LL,
	    "  committed at the new size");

	/* import */
	reply_init(&r);
	vol_view(vm_volume(work, "volatile"), &v);
	is_int(D->import_begin(&r, pool, work, &v, 4096, path, sizeof(path)),
	    API_REFUSE, "import into a volatile volume: refused");
	reply_free(&r);
	reply_init(&r);
	vol_view(vm_volume(work, "private"), &v);
	is_int(D->import_begin(&r, pool, work, &v, 4096, path, sizeof(path)),
	    API_OK, "import begin");
	reply_free(&r);
	snprintf(want, sizeof(want), "%s/pool/appvms/work/private-import.img",
	    root);
	is_str(path, want, "  path");
	is_int(fsize(path), 4096, "  4096 bytes");
	reply_init(&r);
	is_int(D->import_end(&r, pool, work, &v, 0), API_OK, "import failed");
	reply_free(&r);
	ok(!exists(path), "  import image removed");
	reply_init(&r);
	is_int(D->import_begin(&r, pool, work, &v, 4096, path, sizeof(path)),
	    API_OK, "import again");
	reply_free(&r);
	is_int(put(path, "imported"), 0, "  write");
	reply_init(&r);
	is_int(D->import_end(&r, pool, work, &v, 1), API_OK, "  import ok");
	reply_free(&r);
	ok(has(P("appvms/work/private.img"), "imported"), "  committed");
	is_int(fsize(P("appvms/work/private.img")), 4096, "  size 4096");
	is_str(kvl_get(vm_volume(work, "private"), "size"), "4096",
	    "  size recorded");
	is_str(revs(pool, work, "private"), "3\n",
	    "  old state became revision 3 (2 pruned)");
	ok(!exists(path), "  no import image left");

	/* clone: the template's private gets the AppVM's */
	{
		struct vol dv, sv;

		vol_view(vm_volume(tpl, "private"), &dv);
		vol_view(vm_volume(work, "private"), &sv);
		reply_init(&r);
		is_int(D->vol_clone(&r, pool, tpl, &dv, pool, work, &sv),
		    API_OK, "clone private into the template's private");
		reply_free(&r);
		ok(has(P("vm-templates/zz-tpl/private.img"), "imported"),
		    "  data copied");
		ok(!same_inode(P("vm-templates/zz-tpl/private.img"),
		    P("appvms/work/private.img")), "  a copy, not a link");
		is_str(revs(pool, tpl, "private"), "4\n",
		    "  old state became revision 4 (3 pruned)");
		vol_view(vm_volume(work, "volatile"), &sv);
		reply_init(&r);
		is_int(D->vol_clone(&r, pool, tpl, &dv, pool, work, &sv),
		    API_REFUSE, "clone from a volatile volume: refused");
		reply_free(&r);
		ok(!exists(P("vm-templates/zz-tpl/private-import.img")),
		    "  no import image left");
		vol_view(vm_volume(tpl, "volatile"), &dv);
		reply_init(&r);
		is_int(D->vol_clone(&r, pool, tpl, &dv, pool, work, &sv),
		    API_OK, "clone into a volatile volume: no-op");
		reply_free(&r);
	}

	/* a malformed revision file breaks the listing, as in qubesd */
	is_int(put(P("appvms/work/private.img.x1@2024-01-01T00:00:00Z"), ""),
	    0, "a malformed revision file");
	is_str(revs(pool, work, "private"), "(failed)", "  listing refused");
	unlink(P("appvms/work/private.img.x1@2024-01-01T00:00:00Z"));
	is_int(put(P("appvms/work/private.img.5@1999-01-01T00:00:00Z"), ""),
	    0, "an older-stamped revision with a higher number");
	is_str(revs(pool, work, "private"), "5\n3\n",
	    "  ListSnapshots order: by timestamp");

	/* the next revision number would not parse any more */
	is_int(put(P("appvms/work/private.img.9999999999999999999"
	    "@2000-01-01T00:00:00Z"), ""), 0, "the largest revision number");
	vol_view(vm_volume(work, "private"), &v);
	reply_init(&r);
	is_int(D->import_begin(&r, pool, work, &v, 4096, path, sizeof(path)),
	    API_OK, "import");
	reply_free(&r);
	reply_init(&r);
	is_int(D->import_end(&r, pool, work, &v, 1), API_REFUSE,
	    "  commit refused: revision numbers exhausted");
	reply_free(&r);

	/* remove */
	is_int(op_all(D->vol_remove, pool, work), API_OK, "remove the AppVM");
	ok(!exists(P("appvms/work")), "  its directory is gone");
	is_int(op_all(D->vol_remove, pool, tpl), API_OK,
	    "remove the template");
	ok(!exists(P("vm-templates/zz-tpl")), "  its directory is gone");
	is_str(ls(P("appvms"), ""), "", "  appvms/ empty");
out:
	app = NULL;
	app_free(a);
}

int
main(void)
{
	const char *dir;

	test_revnames();
	test_setup_no_reflink();
	dir = getenv("REFLINK_TEST_DIR");
	if (dir == NULL || *dir == '\0') {
		diag("REFLINK_TEST_DIR not set: driver life not tested "
		    "(tests/bats/reflink.bats runs it on btrfs)");
	} else if (realpath(dir, root) == NULL || !have_reflink(root)) {
		ok(0, "REFLINK_TEST_DIR=%s: no reflinks there", dir);
	} else
		test_life();
	return done_testing();
}
