/*
 * storage_run.c - a qube's volumes around its start and stop
 * (qubes.storage.Storage.start/stop, storage.md 5).
 *
 * file: a volatile volume (neither snap_on_start nor save_on_stop) is
 * recreated empty at every start.  file-reflink: its start/stop
 * operations (dirty copies, commits, revisions).  Snapshot layering of the
 * file and lvm_thin drivers (device-mapper) is not done: their
 * snap_on_start volumes are attached read-only (docs/divergences.md).
 */
#include <string.h>

#include "lifecycle.h"
#include "log.h"
#include "storage.h"

static int
vol_start(struct reply *r, struct vm *vm, size_t i)
{
	const struct kvlist *pool;
	const char *drv;
	struct vol v;
	struct vol_state st;

	vol_view(&vm->volumes[i], &v);
	if (v.pool == NULL || (pool = app_pool(app, v.pool)) == NULL)
		return reply_error(r, "QubesException", "Volume %s of %s: "
		    "no such pool", v.name ? v.name : "?", vm->name);
	drv = pool_attr(pool, "driver");
	if (drv == NULL)
		return API_OK;
	if (strcmp(drv, "file-reflink") == 0)
		return reflink_vol_start(r, pool, vm, &v);
	if (strcmp(drv, "file") == 0 && !v.snap_on_start &&
	    !v.save_on_stop) {
		memset(&st, 0, sizeof(st));
		pool_driver(pool)->vol_state(pool, vm, &v, &st);
		if (st.path[0] != '\0' && sparse_create(st.path, v.size,
		    1) < 0)
			return reply_error(r, "StoragePoolException",
			    "Cannot create volatile image %s", st.path);
	}
	return API_OK;
}

static void
vol_stop(struct vm *vm, size_t i)
{
	const struct kvlist *pool;
	const char *drv;
	struct vol v;
	struct reply r;

	vol_view(&vm->volumes[i], &v);
	if (v.pool == NULL || (pool = app_pool(app, v.pool)) == NULL)
		return;
	drv = pool_attr(pool, "driver");
	if (drv == NULL || strcmp(drv, "file-reflink") != 0)
		return;
	reply_init(&r);
	if (reflink_vol_stop(&r, pool, vm, &v) != API_OK)
		log_warnx("%s: stopping volume %s: %s", vm->name,
		    v.name ? v.name : "?", r.msg.buf ? r.msg.buf : "failed");
	reply_free(&r);
}

int
storage_start_vm(struct reply *r, struct vm *vm)
{
	size_t i, j;
	int rc;

	for (i = 0; i < vm->nvolumes; i++) {
		if ((rc = vol_start(r, vm, i)) != API_OK) {
			for (j = 0; j < i; j++)
				vol_stop(vm, j);
			return rc;
		}
	}
	return API_OK;
}

void
storage_stop_vm(struct vm *vm)
{
	size_t i;

	for (i = 0; i < vm->nvolumes; i++)
		vol_stop(vm, i);
}
