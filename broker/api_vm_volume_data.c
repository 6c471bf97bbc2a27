/*
 * api_vm_volume_data.c - the data operations on volumes (storage.md 7):
 * admin.vm.volume.Revert, Resize, Clear, CloneFrom, CloneTo, and the
 * broker's half of admin.vm.volume.Import / ImportWithSize, the internal
 * calls internal.vm.volume.ImportBegin and ImportEnd (protocol.md 9).
 *
 * Check order and messages follow qubes/api/admin.py and
 * qubes/api/internal.py of qubesd 4.2; the driver part is the struct
 * storage_driver operation (storage.h), which replies with the driver's
 * own errors.  A NULL operation is qubesd's NotImplementedError: a
 * silent close.
 *
 * The permission hook (protocol.md 4.3) of these calls vetoes nothing in
 * 4.2 (no extension handles admin-permission:admin.vm.volume.*), so the
 * places where qubesd fires it are only marked.  The bulk data of Import
 * never reaches the broker: the service executable
 * (services/qubes-admin-vm-volume-import.c) writes it to the path that
 * ImportBegin answers.
 *
 * Writes save with persist_commit(), which also releases the queued
 * events.  ImportBegin, ImportEnd and a failed Clear do not save (as in
 * qubesd) but their events were fired by qubesd before it answered, so
 * they release the events with ev_commit().  After persist_commit() the
 * model may have been reloaded (failed save): nothing below it touches
 * a model pointer.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_handlers.h"
#include "clonetok.h"
#include "events.h"
#include "frame.h"
#include "log.h"
#include "model.h"
#include "persist.h"
#include "pystrip.h"
#include "storage.h"
#include "validate.h"
#include "virt.h"

/* One volume of a qube with its pool and driver. */
struct voldata {
	struct vm			*vm;
	struct kvlist			*kv;
	const struct kvlist		*pool;
	const struct storage_driver	*d;
	struct vol			 v;
};

/*
 * self.enforce(self.arg in self.dest.volumes.keys()): the argument must
 * name a volume of the qube (dom0 has none), else a silent close.
 */
static int
voldata_get(struct vm *vm, const char *name, struct reply *r,
    struct voldata *out)
{
	memset(out, 0, sizeof(*out));
	out->vm = vm;
	out->kv = vm_volume(vm, name);
	if (out->kv == NULL)
		return reply_refuse(r, "no such volume");
	vol_view(out->kv, &out->v);
	out->pool = out->v.pool != NULL ? app_pool(app, out->v.pool) : NULL;
	out->d = pool_driver(out->pool);
	/* qubesd cannot even load such a qube; never happens after a load */
	if (out->d == NULL)
		return reply_refuse(r, "volume of an unknown pool or driver");
	return API_OK;
}

/* Re-parse after a driver call: the driver may have changed attributes. */
static void
voldata_refresh(struct voldata *vd)
{
	vol_view(vd->kv, &vd->v);
}

/* Volume.size: the current size where the driver knows it. */
static uint64_t
voldata_size(const struct voldata *vd)
{
	struct vol_state st;

	if (vd->d->vol_state == NULL)
		return vd->v.size;
	memset(&st, 0, sizeof(st));
	vd->d->vol_state(vd->pool, vd->vm, &vd->v, &st);
	return st.size;
}

static int
vm_is_halted(const struct vm *vm)
{
	return strcmp(virt_power_state(vm), "Halted") == 0;
}

static void
fire_import_begin(const struct vm *vm, const char *volume, uint64_t size)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, size);
	ev_fire(vm->name, "domain-volume-import-begin", "volume", volume,
	    "size", num, NULL);
}

static void
fire_import_end(const struct vm *vm, const char *volume, int success)
{
	ev_fire(vm->name, "domain-volume-import-end", "volume", volume,
	    "success", success ? "True" : "False", NULL);
}

/* Discard an import this call started and cannot finish (log only). */
static void
import_discard(struct voldata *vd)
{
	struct reply scratch;

	if (vd->d->import_end == NULL)
		return;
	voldata_refresh(vd);
	reply_init(&scratch);
	if (vd->d->import_end(&scratch, vd->pool, vd->vm, &vd->v, 0) !=
	    API_OK)
		log_warnx("%s: volume %s: discarding the import failed: %s",
		    vd->vm->name, vd->v.name ? vd->v.name : "",
		    scratch.msg.buf ? scratch.msg.buf : "");
	reply_free(&scratch);
}

/* pathlib.Path(path).touch(): bump the times, else create the file. */
static int
touch(const char *path)
{
	int fd;

	if (utimensat(AT_FDCWD, path, NULL, 0) == 0)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0666);
	if (fd < 0)
		return -1;
	return close(fd);
}

/*
 * Is untrusted_rev[0..len) one of the volume's revision ids?  The
 * driver lists them one per line; a driver without revisions has none.
 * Sets *found; returns API_OK, or the driver's status when listing
 * failed.
 */
static int
has_revision(struct voldata *vd, struct reply *r,
    const unsigned char *untrusted_rev, size_t len, int *found)
{
	struct strbuf ids;
	const char *p, *nl, *end;
	int rc;

	*found = 0;
	if (vd->d->vol_revisions == NULL)
		return API_OK;
	sb_init(&ids, 1024 * 1024);
	rc = vd->d->vol_revisions(r, vd->pool, &vd->v, &ids);
	if (rc == API_OK && !sb_ok(&ids))
		rc = reply_refuse(r, "revision list too long");
	if (rc == API_OK && ids.buf != NULL) {
		p = ids.buf;
		end = ids.buf + ids.len;
		while (p < end) {
			nl = memchr(p, '\n', (size_t)(end - p));
			if (nl == NULL)
				nl = end;
			if ((size_t)(nl - p) == len &&
			    memcmp(p, untrusted_rev, len) == 0)
				*found = 1;
			p = nl + 1;
		}
	}
	sb_free(&ids);
	return rc;
}

/* admin.vm.volume.Revert (storage.md 7.1) */
int
api_vm_volume_revert(struct call *c, struct reply *r)
{
	struct voldata vd;
	const unsigned char *untrusted_rev;
	char *revision;
	size_t len;
	int rc, found;

	if ((rc = voldata_get(c->dest, c->arg, r, &vd)) != API_OK)
		return rc;
	/* sanitize start */
	if (!frame_is_ascii(c->untrusted_payload, c->payload_len))
		return reply_refuse(r, "revision is not ASCII");
	untrusted_rev = pystrip_str(c->untrusted_payload, c->payload_len,
	    &len);
	if ((rc = has_revision(&vd, r, untrusted_rev, len, &found)) !=
	    API_OK)
		return rc;
	if (!found)
		return reply_refuse(r, "no such revision");
	/* sanitize end: it is one of the driver's ids (no NUL inside) */
	/* permission hook admin-permission:admin.vm.volume.Revert (volume,
	 * revision): nothing vetoes in 4.2 */
	if (vd.d->vol_revert == NULL)
		return reply_refuse(r, "driver cannot revert");
	revision = strndup((const char *)untrusted_rev, len);
	if (revision == NULL)
		return reply_refuse(r, "out of memory");
	rc = vd.d->vol_revert(r, vd.pool, vd.vm, &vd.v, revision);
	free(revision);
	if (rc != API_OK)
		return rc;
	return persist_commit(r);
}

/* admin.vm.volume.Resize (storage.md 7.2) */
int
api_vm_volume_resize(struct call *c, struct reply *r)
{
	struct voldata vd;
	const unsigned char *untrusted_size;
	uint64_t size;
	size_t len;
	int rc, src;

	if ((rc = voldata_get(c->dest, c->arg, r, &vd)) != API_OK)
		return rc;
	/* sanitize start: validate_size(untrusted_payload.strip()) */
	untrusted_size = pystrip_bytes(c->untrusted_payload, c->payload_len,
	    &len);
	if (parse_size((const char *)untrusted_size, len, &size) < 0)
		return reply_refuse(r, "protocol error (size)");
	/* sanitize end */
	/* permission hook (size): nothing vetoes in 4.2 */
	if (vd.d->vol_resize == NULL)
		rc = reply_refuse(r, "driver cannot resize");
	else
		rc = vd.d->vol_resize(r, vd.pool, vd.vm, &vd.v, size);
	if (rc == API_OK && !vm_is_halted(vd.vm)) {
		/*
		 * qubesd now runs qubes.ResizeDisk in the qube as root.  The
		 * broker has no qrexec connection to qubes (and must not
		 * block its loop on one): the filesystem is left to the
		 * user, with qubesd's own message for a failed online resize
		 * (docs/divergences.md).
		 */
		voldata_refresh(&vd);
		rc = reply_error(r, "StoragePoolException",
		    "Online resize of volume %s failed (you need to resize "
		    "filesystem manually): qubes.ResizeDisk cannot be called "
		    "by this broker", vd.v.vid ? vd.v.vid : "");
	}
	/* "finally: self.app.save()": saved after a failure too; a failed
	 * save replaces the driver's answer, as the exception in finally */
	src = persist_commit(r);
	return src != API_OK ? src : rc;
}

/*
 * Import path of Clear, ImportBegin: the driver's zero-filled target of
 * `size` bytes into path (PATH_MAX).
 */
static int
import_begin(struct voldata *vd, struct reply *r, uint64_t size,
    char *path, size_t pathlen)
{
	int rc;

	if (vd->d->import_begin == NULL)
		return reply_refuse(r, "driver cannot import");
	path[0] = '\0';
	rc = vd->d->import_begin(r, vd->pool, vd->vm, &vd->v, size, path,
	    pathlen);
	voldata_refresh(vd);
	if (rc == API_OK && (path[0] == '\0' ||
	    memchr(path, '\0', pathlen) == NULL)) {
		import_discard(vd);
		return reply_refuse(r, "driver returned no import path");
	}
	return rc;
}

/* admin.vm.volume.Clear (storage.md 7.3): import empty data */
int
api_vm_volume_clear(struct call *c, struct reply *r)
{
	struct voldata vd;
	char path[PATH_MAX];
	uint64_t size;
	int rc;

	if ((rc = voldata_get(c->dest, c->arg, r, &vd)) != API_OK)
		return rc;
	/* permission hook: nothing vetoes in 4.2; no halted check */
	size = voldata_size(&vd);
	if ((rc = import_begin(&vd, r, size, path, sizeof(path))) != API_OK)
		return rc;
	fire_import_begin(vd.vm, c->arg, size);
	if (touch(path) < 0) {
		/* qubesd: OSError, a silent close that leaves the import
		 * pending; we discard it (docs/divergences.md) */
		log_warn("%s: volume %s: touch %s", vd.vm->name, c->arg, path);
		import_discard(&vd);
		ev_commit();
		return reply_refuse(r, "cannot touch the import target");
	}
	if (vd.d->import_end != NULL)
		rc = vd.d->import_end(r, vd.pool, vd.vm, &vd.v, 1);
	if (rc != API_OK) {
		fire_import_end(vd.vm, c->arg, 0);
		ev_commit();
		return rc;
	}
	fire_import_end(vd.vm, c->arg, 1);
	return persist_commit(r);
}

/* admin.vm.volume.CloneFrom (storage.md 7.4) */
int
api_vm_volume_clonefrom(struct call *c, struct reply *r)
{
	struct voldata vd;
	struct clonetok_src src;
	char token[CLONETOK_LEN + 1];
	int rc;

	if ((rc = voldata_get(c->dest, c->arg, r, &vd)) != API_OK)
		return rc;
	/* permission hook (volume): nothing vetoes in 4.2 */
	src.vm = vd.vm->name;
	src.volume = (char *)c->arg;
	src.pool = (char *)vd.v.pool;
	src.vid = (char *)(vd.v.vid != NULL ? vd.v.vid : "");
	rc = clonetok_issue(&src, token);
	if (rc == 1)
		return reply_refuse(r, "clone token collision");
	if (rc < 0)
		return reply_refuse(r, "cannot draw a clone token");
	sb_add(&r->out, token, CLONETOK_LEN);
	memset(token, 0, sizeof(token));
	return API_OK;
}

/*
 * The source volume of a token: `src_volume in pool.volumes`, i.e. a
 * volume of that pool with that vid (Volume.__eq__ compares pool and
 * vid).  The pool's volumes are the volumes of the qubes in the model;
 * the token's own qube and volume name are tried first, then any qube.
 */
static int
clone_source(const struct clonetok_src *t, struct voldata *out)
{
	struct vm *vm;
	struct vol v;
	size_t i, j;

	memset(out, 0, sizeof(*out));
	vm = app_vm(app, t->vm);
	out->kv = vm != NULL ? vm_volume(vm, t->volume) : NULL;
	if (out->kv != NULL) {
		vol_view(out->kv, &v);
		if (v.pool != NULL && v.vid != NULL &&
		    strcmp(v.pool, t->pool) == 0 && strcmp(v.vid, t->vid) == 0)
			goto found;
	}
	for (i = 0; i < app->nvms; i++) {
		vm = app->vms[i];
		for (j = 0; j < vm->nvolumes; j++) {
			vol_view(&vm->volumes[j], &v);
			if (v.pool != NULL && v.vid != NULL &&
			    strcmp(v.pool, t->pool) == 0 &&
			    strcmp(v.vid, t->vid) == 0) {
				out->kv = &vm->volumes[j];
				goto found;
			}
		}
	}
	return -1;
found:
	out->vm = vm;
	vol_view(out->kv, &out->v);
	out->pool = app_pool(app, t->pool);
	out->d = pool_driver(out->pool);
	return out->d != NULL ? 0 : -1;
}

/* admin.vm.volume.CloneTo (storage.md 7.4) */
int
api_vm_volume_cloneto(struct call *c, struct reply *r)
{
	struct voldata dst, src;
	struct clonetok_src t;
	const unsigned char *untrusted_tok;
	size_t len;
	int rc;

	/* the target first: a bad target does not consume the token */
	if ((rc = voldata_get(c->dest, c->arg, r, &dst)) != API_OK)
		return rc;
	/* sanitize start */
	if (!frame_is_ascii(c->untrusted_payload, c->payload_len))
		return reply_refuse(r, "token is not ASCII");
	untrusted_tok = pystrip_str(c->untrusted_payload, c->payload_len,
	    &len);
	/* removed from the table here, whatever happens next */
	if (!clonetok_take((const char *)untrusted_tok, len, &t))
		return reply_refuse(r, "no such clone token (or expired)");
	/* sanitize end */
	if (app_pool(app, t.pool) == NULL) {
		clonetok_src_free(&t);
		return reply_refuse(r, "source pool is gone");
	}
	if (clone_source(&t, &src) < 0) {
		clonetok_src_free(&t);
		return reply_refuse(r, "source volume is gone");
	}
	clonetok_src_free(&t);
	/* permission hook (src_volume, dst_volume): nothing vetoes */
	if (dst.d->vol_clone == NULL)
		return reply_refuse(r, "driver cannot import a volume");
	rc = dst.d->vol_clone(r, dst.pool, dst.vm, &dst.v, src.pool, src.vm,
	    &src.v);
	if (rc != API_OK)
		return rc;
	return persist_commit(r);
}

/* internal.vm.volume.ImportBegin (storage.md 7.7) */
int
api_internal_vm_volume_importbegin(struct call *c, struct reply *r)
{
	struct voldata vd;
	char path[PATH_MAX];
	uint64_t size;
	int rc;

	if ((rc = voldata_get(c->dest, c->arg, r, &vd)) != API_OK)
		return rc;
	/*
	 * permission hook, fired under the public name:
	 * admin-permission:admin.vm.volume.Import (empty payload) or
	 * admin-permission:admin.vm.volume.ImportWithSize (dest, arg);
	 * nothing vetoes in 4.2
	 */
	if (!vm_is_halted(vd.vm))
		return reply_error(r, "QubesVMNotHaltedError",
		    "Domain is not powered off: '%s'", vd.vm->name);
	/* sanitize start: validate_size(untrusted_payload), not stripped */
	if (c->payload_len > 0) {
		if (parse_size((const char *)c->untrusted_payload,
		    c->payload_len, &size) < 0)
			return reply_refuse(r, "protocol error (size)");
	} else
		size = voldata_size(&vd);
	/* sanitize end */
	if ((rc = import_begin(&vd, r, size, path, sizeof(path))) != API_OK)
		return rc;
	if (strchr(path, ' ') != NULL) {
		/* qubesd: enforce (silent close) and the target stays
		 * pending; we discard it (docs/divergences.md) */
		import_discard(&vd);
		return reply_refuse(r, "import path contains a space");
	}
	fire_import_begin(vd.vm, c->arg, size);
	ev_commit();
	sb_addf(&r->out, "%" PRIu64 " %s", size, path);
	return API_OK;
}

/* internal.vm.volume.ImportEnd (storage.md 7.8): never saves */
int
api_internal_vm_volume_importend(struct call *c, struct reply *r)
{
	struct voldata vd;
	const unsigned char *nl;
	int rc, success;

	if ((rc = voldata_get(c->dest, c->arg, r, &vd)) != API_OK)
		return rc;
	success = c->payload_len == 2 &&
	    memcmp(c->untrusted_payload, "ok", 2) == 0;
	/* Volume.import_data_end() does nothing by default (not a
	 * NotImplementedError) */
	if (vd.d->import_end != NULL)
		rc = vd.d->import_end(r, vd.pool, vd.vm, &vd.v, success);
	if (rc != API_OK) {
		fire_import_end(vd.vm, c->arg, 0);
		ev_commit();
		return rc;
	}
	fire_import_end(vd.vm, c->arg, success);
	ev_commit();
	if (success)
		return API_OK;
	/* the reason: the payload after its first '\n' (trusted caller; a
	 * NUL in it ends the message) */
	if (!frame_is_ascii(c->untrusted_payload, c->payload_len))
		return reply_refuse(r, "import status is not ASCII");
	nl = memchr(c->untrusted_payload, '\n', c->payload_len);
	reply_error(r, "QubesException", "Data import failed: ");
	if (nl != NULL)
		sb_add(&r->msg, nl + 1, strnlen((const char *)nl + 1,
		    c->payload_len - (size_t)(nl + 1 - c->untrusted_payload)));
	return API_ERROR;
}
