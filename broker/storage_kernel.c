/*
 * storage_kernel.c - the linux-kernel pool driver (storage.md 3.4; the
 * reference's qubes/storage/kernels.py).
 *
 * A read-only pool of kernels in <dir_path>/<version>/.  A qube's kernel
 * volume has no data of its own: its vid is the qube's current `kernel`
 * property and its path <dir_path>/<kernel>/modules.img.  Nothing is ever
 * created or removed on disk.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "props.h"
#include "storage.h"

extern const struct storage_driver storage_driver_kernel;

static const char *const kernel_params[] = { "dir_path", NULL };

static int
kernel_pool_setup(struct reply *r, const struct kvlist *pool)
{
	const char *dir = kvl_get(pool, "dir_path");

	/* LinuxKernel.__init__: assert dir_path; setup() does nothing */
	if (dir == NULL || *dir != '/')
		return reply_refuse(r, "linux-kernel pool needs an absolute "
		    "dir_path");
	return API_OK;
}

static void
kernel_pool_usage(const struct kvlist *pool, struct pool_usage *u)
{
	(void)pool;
	memset(u, 0, sizeof(*u));	/* size and usage unknown */
}

static int
kernel_pool_usage_details(struct reply *r, const struct kvlist *pool,
    struct strbuf *out)
{
	(void)r;
	(void)pool;
	(void)out;
	return API_OK;
}

/* LinuxKernel.volumes: os.listdir(dir_path), in directory order */
static int
kernel_pool_volumes(struct reply *r, const struct kvlist *pool,
    struct strbuf *out)
{
	const char *dir = pool_param(pool, "dir_path");
	struct dirent *de;
	DIR *d;

	if (dir == NULL || (d = opendir(dir)) == NULL) {
		log_warn("opendir %s", dir ? dir : "(no dir_path)");
		return reply_refuse(r, "kernel directory unreadable");
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		sb_addf(out, "%s\n", de->d_name);
	}
	closedir(d);
	return API_OK;
}

static int
kernel_check_revisions(struct reply *r, long long n)
{
	if (n != 0)
		return reply_error(r, "QubesValueError",
		    "LinuxModules supports only revisions_to_keep=0");
	return API_OK;
}

static void
kernel_vol_state(const struct kvlist *pool, const struct vm *vm,
    const struct vol *vol, struct vol_state *st)
{
	const char *dir = pool_param(pool, "dir_path");
	char *kernel = NULL;
	int n;

	memset(st, 0, sizeof(*st));
	st->size = vol->size;
	if (vmprop_get(vm, VMP_kernel, &kernel) == VAL_SET &&
	    *kernel != '\0' && dir != NULL && strchr(kernel, '/') == NULL) {
		n = snprintf(st->path, sizeof(st->path), "%s/%s/modules.img",
		    dir, kernel);
		if (n < 0 || (size_t)n >= sizeof(st->path))
			st->path[0] = '\0';
	}
	free(kernel);
}

static int
kernel_vol_clone(struct reply *r, const struct kvlist *dpool, struct vm *dvm,
    const struct vol *dst, const struct kvlist *spool, const struct vm *svm,
    const struct vol *src)
{
	(void)dpool;
	(void)dvm;
	(void)dst;
	(void)svm;
	(void)src;
	if (pool_driver(spool) == &storage_driver_kernel)
		return API_OK;		/* nothing to copy */
	return reply_error(r, "StoragePoolException", "clone of LinuxModules "
	    "volume from different volume type is not supported");
}

static int
kernel_check_rw(struct reply *r, int rw)
{
	if (rw)
		return reply_error(r, "QubesValueError",
		    "LinuxModules supports only read-only volumes");
	return API_OK;
}

static int
kernel_check_ephemeral(struct reply *r, int eph)
{
	(void)eph;
	/* LinuxModules has no ephemeral setter: AttributeError */
	return reply_refuse(r, "linux-kernel volumes have no ephemeral");
}

const struct storage_driver storage_driver_kernel = {
	.name = "linux-kernel",
	.params = kernel_params,
	.pool_setup = kernel_pool_setup,
	.pool_usage = kernel_pool_usage,
	.pool_usage_details = kernel_pool_usage_details,
	.pool_volumes = kernel_pool_volumes,
	.check_revisions = kernel_check_revisions,
	.vol_state = kernel_vol_state,
	.vol_clone = kernel_vol_clone,
	.check_rw = kernel_check_rw,
	.check_ephemeral = kernel_check_ephemeral,
};
