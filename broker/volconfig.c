/*
 * volconfig.c - the <volume-config> of a new qube: per-class volume
 * layout (properties.md 5, qubes-xml.md 7.7).  Only the configuration;
 * creating the images is the storage layer's job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "props.h"
#include "util.h"
#include "volconfig.h"

#define GIB	1073741824ULL

static const char *const vol_names[4] = { "root", "private", "volatile",
    "kernel" };
static const int vol_gprop[4] = { GP_default_pool_root,
    GP_default_pool_private, GP_default_pool_volatile, GP_default_pool_kernel };

static const struct kvlist *
find_volume(const struct vm *vm, const char *name)
{
	size_t i;
	const char *n;

	for (i = 0; i < vm->nvolumes; i++) {
		n = kvl_get(&vm->volumes[i], "name");
		if (n != NULL && strcmp(n, name) == 0)
			return &vm->volumes[i];
	}
	return NULL;
}

static char *
make_vid(const struct kvlist *pool, const struct vm *vm, const char *vol)
{
	const char *drv = kvl_get(pool, "driver");
	char buf[512];
	char *kernel = NULL;

	if (drv != NULL && strcmp(drv, "lvm_thin") == 0)
		snprintf(buf, sizeof(buf), "%s/vm-%s-%s",
		    kvl_get(pool, "volume_group") ?
		    kvl_get(pool, "volume_group") : "", vm->name, vol);
	else if (drv != NULL && strcmp(drv, "linux-kernel") == 0) {
		if (vmprop_get(vm, VMP_kernel, &kernel) != VAL_SET)
			kernel = xstrdup("");
		snprintf(buf, sizeof(buf), "%s", kernel);
		free(kernel);
	} else
		snprintf(buf, sizeof(buf), "%s/%s/%s",
		    vm->cls == VMC_TEMPLATE ? "vm-templates" : "appvms",
		    vm->name, vol);
	return xstrdup(buf);
}

int
volconfig_create(struct vm *vm, const char *pool_all,
    const char *const pools[4], struct strbuf *err)
{
	struct kvlist *vols;
	const struct kvlist *pool, *src;
	const struct vm *tpl = NULL;
	const char *pname, *drv, *rtk;
	char *vid, *gp = NULL, size[32];
	int i, snap, save, rw;
	unsigned long long sz;

	if (vmprop_applies(vm, VMP_template))
		tpl = vmprop_vm(vm, VMP_template);
	vols = xcalloc(4, sizeof(*vols));
	for (i = 0; i < 4; i++) {
		snap = (i == 0 && tpl != NULL) ||
		    (i == 1 && vm->cls == VMC_DISP);
		save = !snap && i < 2;
		rw = i < 3;
		src = NULL;
		if (snap) {
			/* snapshot of the template's volume, same pool */
			src = find_volume(tpl, vol_names[i]);
			if (pools[i] != NULL) {
				snprintf(size, sizeof(size), "%s", "");
				sb_addf(err, "Snapshot volume %s must be in the "
				    "same pool as its origin (%s volume of "
				    "template),cannot move to pool %s ",
				    vol_names[i], vol_names[i], pools[i]);
				goto fail;
			}
		}
		if (src != NULL && kvl_get(src, "pool") != NULL)
			pname = kvl_get(src, "pool");
		else if (pools[i] != NULL)
			pname = pools[i];
		else if (pool_all != NULL && rw && !snap)
			pname = pool_all;
		else {
			free(gp);
			gp = NULL;
			if (gprop_get(vol_gprop[i], &gp) != VAL_SET) {
				sb_addf(err, "no default pool for %s",
				    vol_names[i]);
				goto fail;
			}
			pname = gp;
		}
		pool = app_pool(app, pname);
		if (pool == NULL) {
			sb_addf(err, "Unknown storage pool %s", pname);
			goto fail;
		}
		drv = kvl_get(pool, "driver");
		kvl_set(&vols[i], "name", vol_names[i]);
		kvl_set(&vols[i], "pool", pname);
		vid = make_vid(pool, vm, vol_names[i]);
		kvl_set(&vols[i], "vid", vid);
		free(vid);
		rtk = kvl_get(pool, "revisions_to_keep");
		/* FilePool.init_volume only (file-reflink keeps the
		 * pool's value: qubes-xml.md 7.7) */
		if (!save && drv != NULL && strcmp(drv, "file") == 0)
			rtk = "0";
		if (drv != NULL && strcmp(drv, "linux-kernel") == 0)
			rtk = "0";
		kvl_set(&vols[i], "revisions_to_keep", rtk ? rtk : "0");
		if (rw)
			kvl_set(&vols[i], "rw", "True");
		if (save)
			kvl_set(&vols[i], "save_on_stop", "True");
		if (snap)
			kvl_set(&vols[i], "snap_on_start", "True");
		sz = 0;
		if (i == 0)
			sz = 10 * GIB;
		else if (i == 1)
			sz = 2 * GIB;
		else if (i == 2)
			sz = vm->cls == VMC_DISP ? 12 * GIB : 10 * GIB;
		if (src != NULL && kvl_get(src, "size") != NULL)
			sz = strtoull(kvl_get(src, "size"), NULL, 10);
		if (sz) {
			snprintf(size, sizeof(size), "%llu", sz);
			kvl_set(&vols[i], "size", size);
		}
		if (src != NULL) {
			const char *s = kvl_get(src, "snap_on_start") &&
			    kvl_get(src, "source") ? kvl_get(src, "source") :
			    kvl_get(src, "vid");

			if (s != NULL)
				kvl_set(&vols[i], "source", s);
		}
	}
	free(gp);
	vm->volumes = vols;
	vm->nvolumes = 4;
	vm->has_volume_config = 1;
	return 0;
fail:
	free(gp);
	for (i = 0; i < 4; i++)
		kvl_free(&vols[i]);
	free(vols);
	return -1;
}
