/*
 * storage.c - driver registry, pool parameters, volume views and the
 * helpers shared by the file-based drivers (storage.md 1-4).
 *
 * Pools and volumes are plain kvlists in the model (storage.h); this file
 * only interprets them.  Qube-level operations (create / remove every
 * volume of a qube) dispatch to the drivers.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "call.h"
#include "log.h"
#include "model.h"
#include "storage.h"

extern const struct storage_driver storage_driver_file;
extern const struct storage_driver storage_driver_reflink;
extern const struct storage_driver storage_driver_kernel;
extern const struct storage_driver storage_driver_lvm_thin;

/*
 * admin.pool.ListDrivers order.  The reference also lists callback and
 * zfs; we list only what we implement (docs/divergences.md).
 */
/*
 * callback and zfs are listed by qubesd 4.2 (admin.pool.ListDrivers), so
 * they are listed here too, with their parameters; this broker does not
 * implement them: adding such a pool is refused by their setup.
 */
static int
unsupported_setup(struct reply *r, const struct kvlist *pool)
{
	return reply_error(r, "StoragePoolException", "The %s driver is not "
	    "supported by this implementation", kvl_get(pool, "driver") ?
	    kvl_get(pool, "driver") : "?");
}

static const char *const callback_params[] = { "conf_id", NULL };
static const char *const zfs_params[] = {
	"revisions_to_keep", "container", "ephemeral_volatile",
	"snap_on_start_forensics", NULL
};
static const char *const no_defaults[] = { NULL };

static const struct storage_driver storage_driver_callback = {
	.name = "callback",
	.params = callback_params,
	.defaults = no_defaults,
	.pool_setup = unsupported_setup,
};

static const struct storage_driver storage_driver_zfs = {
	.name = "zfs",
	.params = zfs_params,
	.defaults = no_defaults,
	.pool_setup = unsupported_setup,
};

/* admin.pool.ListDrivers order of qubesd 4.2 (entry points, sorted) */
const struct storage_driver *const storage_drivers[] = {
	&storage_driver_callback,
	&storage_driver_file,
	&storage_driver_reflink,
	&storage_driver_kernel,
	&storage_driver_lvm_thin,
	&storage_driver_zfs,
	NULL
};

const struct storage_driver *
storage_driver(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; storage_drivers[i] != NULL; i++)
		if (strcmp(storage_drivers[i]->name, name) == 0)
			return storage_drivers[i];
	return NULL;
}

const struct storage_driver *
pool_driver(const struct kvlist *pool)
{
	if (pool == NULL)
		return NULL;
	return storage_driver(kvl_get(pool, "driver"));
}

const char *
pool_param(const struct kvlist *pool, const char *key)
{
	const struct storage_driver *d;
	const char *v;
	size_t i;

	if (pool == NULL)
		return NULL;
	if ((v = kvl_get(pool, key)) != NULL)
		return v;
	if ((d = pool_driver(pool)) == NULL || d->defaults == NULL)
		return NULL;
	for (i = 0; d->defaults[i] != NULL && d->defaults[i + 1] != NULL;
	    i += 2)
		if (strcmp(d->defaults[i], key) == 0)
			return d->defaults[i + 1];
	return NULL;
}

/* Strict decimal (optional leading '-'), no overflow; -1 if invalid. */
static int
parse_ll(const char *s, long long *out)
{
	long long v = 0;
	int neg = 0, d;

	if (s == NULL || *s == '\0')
		return -1;
	if (*s == '-') {
		neg = 1;
		s++;
		if (*s == '\0')
			return -1;
	}
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		d = *s - '0';
		if (v > (LLONG_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = neg ? -v : v;
	return 0;
}

static int
driver_has_param(const struct storage_driver *d, const char *key)
{
	size_t i;

	if (d == NULL || d->params == NULL)
		return 0;
	for (i = 0; d->params[i] != NULL; i++)
		if (strcmp(d->params[i], key) == 0)
			return 1;
	return 0;
}

long long
pool_revisions(const struct kvlist *pool)
{
	long long n;

	/* linux-kernel has no such parameter: always 0 (storage.md 2.1) */
	if (!driver_has_param(pool_driver(pool), "revisions_to_keep"))
		return 0;
	if (parse_ll(pool_param(pool, "revisions_to_keep"), &n) < 0)
		return 1;
	return n;
}

int
storage_parse_bool(const char *s)
{
	static const char *const f[] = { "0", "no", "false", "off" };
	static const char *const t[] = { "1", "yes", "true", "on" };
	char low[8];
	size_t i, n;

	if (s == NULL)
		return -1;
	n = strlen(s);
	if (n == 0 || n >= sizeof(low))
		return -1;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return -1;
		low[i] = (s[i] >= 'A' && s[i] <= 'Z') ? s[i] - 'A' + 'a' :
		    s[i];
	}
	low[n] = '\0';
	for (i = 0; i < 4; i++) {
		if (strcmp(low, f[i]) == 0)
			return 0;
		if (strcmp(low, t[i]) == 0)
			return 1;
	}
	return -1;
}

/* ---- volumes */

struct kvlist *
vm_volume(const struct vm *vm, const char *name)
{
	const char *n;
	size_t i;

	if (vm == NULL || name == NULL)
		return NULL;
	for (i = 0; i < vm->nvolumes; i++) {
		n = kvl_get(&vm->volumes[i], "name");
		if (n != NULL && strcmp(n, name) == 0)
			return &vm->volumes[i];
	}
	return NULL;
}

/*
 * Stored booleans: qubes.xml writes only "True"; an absent, empty or
 * "False" attribute is false.
 */
static int
kv_bool(const struct kvlist *kv, const char *key)
{
	const char *v = kvl_get(kv, key);

	return v != NULL && *v != '\0' && strcmp(v, "False") != 0;
}

void
vol_view(const struct kvlist *kv, struct vol *out)
{
	const struct kvlist *pool;
	const char *v;
	long long n;

	memset(out, 0, sizeof(*out));
	out->kv = kv;
	out->name = kvl_get(kv, "name");
	out->pool = kvl_get(kv, "pool");
	out->vid = kvl_get(kv, "vid");
	out->source = kvl_get(kv, "source");
	if (out->source != NULL && *out->source == '\0')
		out->source = NULL;
	out->rw = kv_bool(kv, "rw");
	out->save_on_stop = kv_bool(kv, "save_on_stop");
	out->snap_on_start = kv_bool(kv, "snap_on_start");
	v = kvl_get(kv, "ephemeral");
	if (v == NULL || *v == '\0')
		out->ephemeral = -1;
	else
		out->ephemeral = strcmp(v, "False") != 0;
	if ((v = kvl_get(kv, "size")) != NULL && parse_ll(v, &n) == 0 &&
	    n > 0)
		out->size = (uint64_t)n;
	v = kvl_get(kv, "revisions_to_keep");
	if (v != NULL && parse_ll(v, &n) == 0)
		out->revisions_to_keep = n;
	else {
		/* the pool default, as the reference fills it in */
		pool = out->pool != NULL && app != NULL ?
		    app_pool(app, out->pool) : NULL;
		out->revisions_to_keep = pool != NULL ?
		    pool_revisions(pool) : 0;
		v = pool != NULL ? kvl_get(pool, "driver") : NULL;
		if (!out->save_on_stop && v != NULL &&
		    strcmp(v, "file") == 0)
			out->revisions_to_keep = 0;
	}
}

/* qubes.xml attribute order of <volume> (storage.md 4.1) */
static int
vol_key_rank(const char *key)
{
	static const char *const order[] = { "name", "pool", "vid",
	    "revisions_to_keep", "rw", "save_on_stop", "snap_on_start",
	    "ephemeral", "size", "source", NULL };
	int i;

	for (i = 0; order[i] != NULL; i++)
		if (strcmp(order[i], key) == 0)
			return i;
	return i;	/* other attributes after these, in their order */
}

int
vol_set(struct kvlist *kv, const char *key, const char *value)
{
	struct kv tmp;
	size_t i;

	if (kvl_set(kv, key, value) < 0)
		return -1;
	/* a new attribute was appended: move it to its place */
	for (i = kv->n - 1; i > 0 && strcmp(kv->v[i].key, key) == 0 &&
	    vol_key_rank(kv->v[i - 1].key) > vol_key_rank(key); i--) {
		tmp = kv->v[i - 1];
		kv->v[i - 1] = kv->v[i];
		kv->v[i] = tmp;
	}
	return 0;
}

void
vol_unset(struct kvlist *kv, const char *key)
{
	kvl_del(kv, key);
}

int
vol_effective_ephemeral(const struct vol *v, const struct kvlist *pool)
{
	if (v->ephemeral != -1)
		return v->ephemeral;
	/* backend domain is always dom0 here */
	if (v->snap_on_start || v->save_on_stop || !v->rw)
		return 0;
	return storage_parse_bool(pool_param(pool, "ephemeral_volatile")) ==
	    1;
}

/* ---- qube storage */

int
storage_create_vm(struct reply *r, struct vm *vm)
{
	const struct storage_driver *d;
	const struct kvlist *pool;
	struct reply scratch;
	struct vol v;
	size_t i, j;
	int rc;

	for (i = 0; i < vm->nvolumes; i++) {
		vol_view(&vm->volumes[i], &v);
		pool = v.pool != NULL ? app_pool(app, v.pool) : NULL;
		if ((d = pool_driver(pool)) == NULL) {
			rc = reply_error(r, "QubesException",
			    "Unknown storage pool %s", v.pool ? v.pool : "");
			goto undo;
		}
		if (d->vol_create == NULL)
			continue;
		if ((rc = d->vol_create(r, pool, vm, &v)) != API_OK)
			goto undo;
	}
	return API_OK;
undo:
	/* remove only what this call created, never older data */
	for (j = 0; j < i; j++) {
		vol_view(&vm->volumes[j], &v);
		pool = v.pool != NULL ? app_pool(app, v.pool) : NULL;
		if ((d = pool_driver(pool)) == NULL || d->vol_remove == NULL)
			continue;
		reply_init(&scratch);
		if (d->vol_remove(&scratch, pool, vm, &v) != API_OK)
			log_warnx("%s: volume %s: cleanup failed: %s",
			    vm->name, v.name ? v.name : "",
			    scratch.msg.buf ? scratch.msg.buf : "");
		reply_free(&scratch);
	}
	return rc;
}

void
storage_remove_vm(struct vm *vm)
{
	const struct storage_driver *d;
	const struct kvlist *pool;
	struct reply scratch;
	struct vol v;
	size_t i;

	for (i = 0; i < vm->nvolumes; i++) {
		vol_view(&vm->volumes[i], &v);
		pool = v.pool != NULL ? app_pool(app, v.pool) : NULL;
		if ((d = pool_driver(pool)) == NULL) {
			log_warnx("%s: volume %s: unknown pool", vm->name,
			    v.name ? v.name : "");
			continue;
		}
		if (d->vol_remove == NULL)
			continue;
		reply_init(&scratch);
		if (d->vol_remove(&scratch, pool, vm, &v) != API_OK)
			log_warnx("%s: volume %s: removal failed: %s %s",
			    vm->name, v.name ? v.name : "",
			    scratch.exc ? scratch.exc : "refused",
			    scratch.msg.buf ? scratch.msg.buf : "");
		reply_free(&scratch);
	}
}

int
storage_vm_dir(const struct kvlist *pool, const struct vm *vm, char *buf,
    size_t len)
{
	const char *dir = pool_param(pool, "dir_path");
	int n;

	if (dir == NULL || *dir == '\0') {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(buf, len, "%s/%s/%s", dir,
	    vm->cls == VMC_TEMPLATE ? "vm-templates" : "appvms", vm->name);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* ---- file helpers */

int
sparse_create(const char *path, uint64_t size, int replace)
{
	int fd, save;

	if (size > (uint64_t)INT64_MAX) {
		errno = EFBIG;
		return -1;
	}
	/*
	 * Replace by unlink + exclusive create, never O_TRUNC: the file may
	 * be a hardlink shared with another volume (file-reflink snapshots).
	 */
	if (replace && unlink(path) == -1 && errno != ENOENT)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0664);
	if (fd == -1)
		return -1;
	if (fchmod(fd, 0664) == -1 || ftruncate(fd, (off_t)size) == -1) {
		save = errno;
		close(fd);
		unlink(path);
		errno = save;
		return -1;
	}
	if (close(fd) == -1) {
		save = errno;
		unlink(path);
		errno = save;
		return -1;
	}
	return 0;
}

uint64_t
file_usage(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return 0;
	return (uint64_t)st.st_blocks * 512u;
}

int
mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	struct stat st;
	size_t len, i;

	len = strlen(path);
	if (len == 0 || len >= sizeof(buf)) {
		errno = len == 0 ? ENOENT : ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		if (buf[i - 1] == '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0775) == -1) {
			if (errno != EEXIST || stat(buf, &st) == -1)
				return -1;
			if (!S_ISDIR(st.st_mode)) {
				errno = ENOTDIR;
				return -1;
			}
		}
		if (i < len)
			buf[i] = '/';
	}
	return 0;
}
