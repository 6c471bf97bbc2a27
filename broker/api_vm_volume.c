/*
 * api_vm_volume.c - admin.vm.volume.List, Info, ListSnapshots,
 * Set.revisions_to_keep, Set.rw, Set.ephemeral (storage.md 6).
 *
 * The argument must name one of the destination's volumes, else the
 * call is refused (dom0 has none).  Volume attributes live in
 * vm->volumes (storage.h); the drivers report state and veto values.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_handlers.h"
#include "frame.h"
#include "model.h"
#include "persist.h"
#include "props.h"
#include "storage.h"
#include "validate.h"
#include "virt.h"

extern const struct storage_driver storage_driver_kernel;

/* The volume named by the argument with its pool and driver. */
struct volarg {
	struct kvlist			*kv;
	struct vol			 v;
	const struct kvlist		*pool;
	const struct storage_driver	*d;
};

static int
volume_call(struct call *c, struct reply *r, struct volarg *va)
{
	memset(va, 0, sizeof(*va));
	if ((va->kv = vm_volume(c->dest, c->arg)) == NULL)
		return reply_refuse(r, "no such volume");
	vol_view(va->kv, &va->v);
	va->pool = va->v.pool != NULL ? app_pool(app, va->v.pool) : NULL;
	if ((va->d = pool_driver(va->pool)) == NULL)
		return reply_refuse(r, "volume in an unknown pool");
	return API_OK;
}

static const char *
tf(int b)
{
	return b ? "True" : "False";
}

int
api_vm_volume_list(struct call *c, struct reply *r)
{
	const char *n;
	size_t i;

	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	for (i = 0; i < c->dest->nvolumes; i++)
		if ((n = kvl_get(&c->dest->volumes[i], "name")) != NULL)
			sb_addf(&r->out, "%s\n", n);
	return API_OK;
}

/*
 * The line order of qubesd's vm_volume_info; is_outdated may be None
 * (driver value -1: file-reflink without a clean image).
 */
int
api_vm_volume_info(struct call *c, struct reply *r)
{
	struct volarg va;
	struct vol_state st;
	char *kernel = NULL;
	const char *vid;
	int rw, save, snap, eph;
	long long rtk;

	if (volume_call(c, r, &va) != API_OK)
		return API_REFUSE;
	memset(&st, 0, sizeof(st));
	if (va.d->vol_state != NULL)
		va.d->vol_state(va.pool, c->dest, &va.v, &st);
	else
		st.size = va.v.size;
	vid = va.v.vid ? va.v.vid : "";
	rw = va.v.rw;
	save = va.v.save_on_stop;
	snap = va.v.snap_on_start;
	rtk = va.v.revisions_to_keep;
	eph = vol_effective_ephemeral(&va.v, va.pool);
	if (va.d == &storage_driver_kernel) {
		/* LinuxModules: the vid is the qube's current kernel;
		 * read-only, no revisions, a lone snap_on_start dropped */
		if (vmprop_get(c->dest, VMP_kernel, &kernel) == VAL_SET)
			vid = kernel;
		else
			vid = "";
		rw = save = eph = 0;
		snap = snap && va.v.source != NULL;
		rtk = 0;
	}
	sb_addf(&r->out, "pool=%s\nvid=%s\nsize=%llu\nusage=%llu\nrw=%s\n"
	    "source=%s\npath=%s\nsave_on_stop=%s\nsnap_on_start=%s\n"
	    "revisions_to_keep=%lld\nephemeral=%s\nis_outdated=%s\n",
	    va.v.pool, vid, (unsigned long long)st.size,
	    (unsigned long long)st.usage, tf(rw),
	    va.v.source ? va.v.source : "", st.path, tf(save), tf(snap),
	    rtk, tf(eph), st.is_outdated < 0 ? "None" : tf(st.is_outdated));
	free(kernel);
	return API_OK;
}

int
api_vm_volume_listsnapshots(struct call *c, struct reply *r)
{
	struct volarg va;

	if (volume_call(c, r, &va) != API_OK)
		return API_REFUSE;
	if (va.d->vol_revisions == NULL)
		return API_OK;
	return va.d->vol_revisions(r, va.pool, &va.v, &r->out);
}

int
api_vm_volume_set_revisions_to_keep(struct call *c, struct reply *r)
{
	struct volarg va;
	uint64_t n;
	char num[32];
	int rc;

	if (volume_call(c, r, &va) != API_OK)
		return API_REFUSE;
	/* sanitize start */
	if (parse_size((const char *)c->untrusted_payload, c->payload_len,
	    &n) < 0 || n > (uint64_t)INT64_MAX)
		return reply_refuse(r, "invalid number");
	/* sanitize end */
	/* permission event: nothing vetoes it here; no running check */
	if (va.d->check_revisions != NULL &&
	    (rc = va.d->check_revisions(r, (long long)n)) != API_OK)
		return rc;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)n);
	if (vol_set(va.kv, "revisions_to_keep", num) < 0)
		fatalx("out of memory");
	return persist_commit(r);
}

/* Set.rw / Set.ephemeral: boolean payload, then the halted check. */
static int
bool_call(struct call *c, struct reply *r, struct volarg *va, int *val)
{
	const char *p = (const char *)c->untrusted_payload;

	if (volume_call(c, r, va) != API_OK)
		return API_REFUSE;
	/* sanitize start */
	if (!frame_is_ascii(p, c->payload_len) ||
	    memchr(p, '\0', c->payload_len) != NULL ||
	    parse_pybool(p, val) < 0)
		return reply_refuse(r, "invalid boolean");
	/* sanitize end */
	/* permission event: nothing vetoes it here */
	if (strcmp(virt_power_state(c->dest), "Halted") != 0)
		return reply_error(r, "QubesVMNotHaltedError",
		    "Domain is not powered off: '%s'", c->dest->name);
	return API_OK;
}

int
api_vm_volume_set_rw(struct call *c, struct reply *r)
{
	struct volarg va;
	int rw, rc;

	if ((rc = bool_call(c, r, &va, &rw)) != API_OK)
		return rc;
	if (va.d->check_rw != NULL && (rc = va.d->check_rw(r, rw)) != API_OK)
		return rc;
	if (rw) {
		if (vol_set(va.kv, "rw", "True") < 0)
			fatalx("out of memory");
	} else
		vol_unset(va.kv, "rw");
	return persist_commit(r);
}

int
api_vm_volume_set_ephemeral(struct call *c, struct reply *r)
{
	struct volarg va;
	int eph, rc;

	if ((rc = bool_call(c, r, &va, &eph)) != API_OK)
		return rc;
	if (va.d->check_ephemeral != NULL &&
	    (rc = va.d->check_ephemeral(r, eph)) != API_OK)
		return rc;
	/* Volume.ephemeral setter (backend domain is always dom0) */
	if (eph && (va.v.snap_on_start || va.v.save_on_stop || !va.v.rw))
		return reply_error(r, "QubesValueError", "Cannot enable "
		    "ephemeral on snap_on_start or save_on_stop or non-dom0 "
		    "or not writable volume");
	/*
	 * qubes.xml keeps ephemeral only when true; an explicit false is
	 * stored as "unset" (qubesd forgets it at its next start).
	 */
	if (eph) {
		if (vol_set(va.kv, "ephemeral", "True") < 0)
			fatalx("out of memory");
	} else
		vol_unset(va.kv, "ephemeral");
	return persist_commit(r);
}
