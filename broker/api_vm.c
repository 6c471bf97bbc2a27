/*
 * api_vm.c - admin.vmclass.List, admin.vm.List, admin.vm.Create*,
 * admin.vm.Remove, admin.vm.CurrentState (calls-core.md 2, 7, 8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "api_handlers.h"
#include "events.h"
#include "frame.h"
#include "hook.h"
#include "model.h"
#include "persist.h"
#include "props.h"
#include "storage.h"
#include "util.h"
#include "validate.h"
#include "virt.h"
#include "volconfig.h"

int
api_vmclass_list(struct call *c, struct reply *r)
{
	int i;

	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	if (c->dest->cls != VMC_ADMIN)
		return reply_refuse(r, "destination must be dom0");
	for (i = 0; i < VMC_COUNT; i++)
		sb_addf(&r->out, "%s\n", vm_class_names[i]);
	return API_OK;
}

static void
list_line(struct strbuf *out, const struct vm *vm)
{
	sb_addf(out, "%s class=%s state=%s\n", vm->name,
	    vm_class_names[vm->cls], virt_power_state(vm));
}

int
api_vm_list(struct call *c, struct reply *r)
{
	size_t i;

	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	if (c->dest->cls == VMC_ADMIN) {
		for (i = 0; i < app->nvms; i++)
			if (hook_list_allows(c->src, "admin.vm.List", "",
			    app->vms[i]))
				list_line(&r->out, app->vms[i]);
	} else if (hook_list_allows(c->src, "admin.vm.List", "", c->dest)) {
		list_line(&r->out, c->dest);
	}
	return API_OK;
}

/* ---- Create */

static const char *const vol_keys[4] = { "root", "private", "volatile",
    "kernel" };

struct create_args {
	char		*name;
	char		*label;
	char		*pool;
	char		*pools[4];
	struct vm	*template;
	int		 have_template;
};

static void
create_args_free(struct create_args *a)
{
	int i;

	free(a->name);
	free(a->label);
	free(a->pool);
	for (i = 0; i < 4; i++)
		free(a->pools[i]);
}

static char *
gen_uuid(void)
{
	unsigned char b[16];
	char out[37];
	size_t i, o = 0;
	static const char hex[] = "0123456789abcdef";

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		fatal("getrandom");
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
	return xstrdup(out);
}

static int
gen_dispid(void)
{
	unsigned int v;
	int tries, id;
	size_t i, used;

	for (tries = 0; tries < 100; tries++) {
		if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
			fatal("getrandom");
		id = (int)(v % 10000);
		used = 0;
		for (i = 0; i < app->nvms; i++)
			if (app->vms[i]->cls == VMC_DISP &&
			    vmprop_int(app->vms[i], VMP_dispid, -1) == id)
				used = 1;
		if (!used)
			return id;
	}
	return -1;
}

/* Payload parsing of qubes.api.admin._vm_create, in its check order. */
static int
parse_create(struct call *c, struct reply *r, int in_pool,
    struct create_args *a)
{
	const char *p = (const char *)c->untrusted_payload;
	const char *end = p + c->payload_len, *sp, *eq, *msg;
	char *key = NULL, *val = NULL;
	const char *vol;
	int i, rc = API_OK;

	/* sanitize start */
	if (!frame_is_ascii(p, c->payload_len) ||
	    memchr(p, '\0', c->payload_len) != NULL)
		return reply_refuse(r, "non-ASCII payload");
	for (;;) {
		sp = memchr(p, ' ', (size_t)(end - p));
		if (sp == NULL)
			sp = end;
		eq = memchr(p, '=', (size_t)(sp - p));
		if (eq == NULL) {
			rc = reply_refuse(r, "parameter without '='");
			goto out;
		}
		key = strndup(p, (size_t)(eq - p));
		val = strndup(eq + 1, (size_t)(sp - eq - 1));
		if (key == NULL || val == NULL)
			fatalx("out of memory");
		if ((strcmp(key, "name") == 0 && a->name) ||
		    (strcmp(key, "label") == 0 && a->label) ||
		    (strcmp(key, "template") == 0 && a->have_template)) {
			rc = reply_refuse(r, "duplicated parameters");
			goto out;
		}
		if (strcmp(key, "name") == 0) {
			if (validate_vm_name(val, &msg) < 0) {
				rc = reply_error(r, "QubesValueError", "%s",
				    msg);
				goto out;
			}
			a->name = val;
			val = NULL;
		} else if (strcmp(key, "label") == 0) {
			if (validate_label_name(val) < 0) {
				rc = reply_refuse(r, "invalid label");
				goto out;
			}
			if (app_label_lookup(app, val) == NULL) {
				rc = reply_error(r, "QubesLabelNotFoundError",
				    "Label does not exist: %s", val);
				goto out;
			}
			a->label = xstrdup(app_label_lookup(app, val)->name);
		} else if (in_pool && strcmp(key, "pool") == 0) {
			if (a->pool) {
				rc = reply_refuse(r, "duplicated pool");
				goto out;
			}
			if (app_pool(app, val) == NULL) {
				rc = reply_error(r, "QubesException",
				    "Unknown storage pool %s", val);
				goto out;
			}
			a->pool = val;
			val = NULL;
		} else if (in_pool && strncmp(key, "pool:", 5) == 0) {
			vol = key + 5;
			for (i = 0; i < 4; i++)
				if (strcmp(vol, vol_keys[i]) == 0)
					break;
			if (i == 4) {
				rc = reply_refuse(r, "unknown volume");
				goto out;
			}
			if (a->pools[i]) {
				rc = reply_refuse(r, "duplicated pool:volume");
				goto out;
			}
			if (app_pool(app, val) == NULL) {
				rc = reply_error(r, "QubesException",
				    "Unknown storage pool %s", val);
				goto out;
			}
			a->pools[i] = val;
			val = NULL;
		} else {
			rc = reply_refuse(r, "invalid parameter name");
			goto out;
		}
		free(key);
		free(val);
		key = val = NULL;
		if (sp == end)
			break;
		p = sp + 1;
	}
	if (a->name == NULL || a->label == NULL)
		return reply_refuse(r, "missing name or label");
	if (a->pool != NULL)
		for (i = 0; i < 4; i++)
			if (a->pools[i] != NULL)
				return reply_refuse(r,
				    "both pool= and pool:volume=");
	/* sanitize end */
out:
	free(key);
	free(val);
	return rc;
}

/* A detached copy of what storage needs: class, name, volumes. */
static struct vm *
storage_shadow(const struct vm *vm)
{
	struct vm *s;
	size_t i;

	if ((s = vm_new(vm->cls, vm->name, vm->qid)) == NULL)
		fatalx("out of memory");
	s->volumes = xcalloc(vm->nvolumes + 1, sizeof(*s->volumes));
	for (i = 0; i < vm->nvolumes; i++)
		if (kvl_copy(&s->volumes[i], &vm->volumes[i]) < 0)
			fatalx("out of memory");
	s->nvolumes = vm->nvolumes;
	return s;
}

/* DispVM.__init__: the DVM template's explicit properties (but its
 * identity), features and tags */
static void
dispvm_inherit(struct vm *vm, const struct vm *tpl)
{
	size_t i;
	int pid;

	for (pid = 0; pid < VMP_COUNT; pid++) {
		if (pid == VMP_template || pid == VMP_name || pid == VMP_qid ||
		    pid == VMP_uuid || pid == VMP_dispid ||
		    !vmprop_applies(vm, pid) || vm->props[pid].set ||
		    !tpl->props[pid].set)
			continue;
		pval_set(&vm->props[pid], tpl->props[pid].value);
	}
	kvl_copy(&vm->features, &tpl->features);
	for (i = 0; i < tpl->tags.n; i++)
		strset_add(&vm->tags, tpl->tags.v[i]);
}

/* Add a new qube with its volume config and images (create_on_disk);
 * on failure it goes again (freed). */
static int
add_on_disk(struct reply *r, struct vm *vm, const char *pool,
    const char *const *pools)
{
	struct strbuf sb;
	int rc;

	if (app_add_vm(app, vm) < 0)
		fatalx("out of memory");
	sb_init(&sb, 4096);
	if (volconfig_create(vm, pool, pools, &sb) < 0) {
		app_remove_vm(app, vm);
		vm_free(vm);
		rc = reply_error(r, "QubesException", "%s", sb.buf);
		sb_free(&sb);
		return rc;
	}
	sb_free(&sb);
	if ((rc = storage_create_vm(r, vm)) != API_OK) {
		app_remove_vm(app, vm);
		vm_free(vm);
	}
	return rc;
}

static int
vm_create(struct call *c, struct reply *r, int in_pool)
{
	const char *cname = strrchr(c->method, '.') + 1;
	int cls = vm_class_from_name(cname);
	struct create_args a;
	struct strbuf sb;
	struct vm *vm, *tpl = NULL, *shadow;
	char *v = NULL, buf[32];
	int rc, qid, dispid = -1;

	memset(&a, 0, sizeof(a));
	if (c->dest->cls != VMC_ADMIN)
		return reply_refuse(r, "destination must be dom0");
	if (*c->arg) {
		if (cls != VMC_APP && cls != VMC_DISP)
			return reply_error(r, "QubesValueError",
			    "%s cannot be based on template", cname);
		tpl = app_vm(app, c->arg);
		if (tpl == NULL) {
			reply_error(r, "QubesVMNotFoundError", "%s", "");
			sb_addf(&r->msg, "No such domain: ");
			sb_add_pyrepr(&r->msg, c->arg);
			return API_ERROR;
		}
		a.have_template = 1;
		a.template = tpl;
	}
	rc = parse_create(c, r, in_pool, &a);
	if (rc != API_OK)
		goto out;
	if (app_vm(app, a.name) != NULL || persist_quarantined_name(a.name)) {
		rc = reply_error(r, "QubesValueError", "VM %s already exists",
		    a.name);
		goto out;
	}
	/* permission hook: nothing refuses Create in 4.2 */
	if (cls == VMC_ADMIN) {
		rc = reply_error(r, "QubesPropertyValueError",
		    "property 'qid' on AdminVM instance cannot be set");
		goto out;
	}
	/* qubes.app.Qubes.add_new_vm: default template */
	if ((cls == VMC_APP || cls == VMC_DISP) && tpl == NULL) {
		int gr = gprop_get(cls == VMC_DISP ? GP_default_dispvm :
		    GP_default_template, &v);

		if (gr == VAL_NODEF) {
			rc = reply_refuse(r, "default template has no value");
			goto out;
		}
		if (gr == VAL_NONE || (tpl = app_vm(app, v)) == NULL) {
			rc = reply_error(r, "QubesValueError", "Template for "
			    "the qube not specified, nor default template "
			    "set.");
			goto out;
		}
		free(v);
		v = NULL;
	}
	if (cls == VMC_APP && tpl->cls != VMC_TEMPLATE) {
		sb_init(&sb, 0);
		vm_debug_repr(tpl, &sb);
		rc = reply_error(r, "QubesPropertyValueError", "wrong VM class: "
		    "domains[%s] is of type %s and not TemplateVM", sb.buf,
		    vm_class_names[tpl->cls]);
		sb_free(&sb);
		goto out;
	}
	if (cls == VMC_DISP && !vmprop_bool(tpl, VMP_template_for_dispvms)) {
		rc = reply_error(r, "QubesValueError", "template for DispVM "
		    "(%s) needs to be an AppVM with template_for_dispvms=True",
		    tpl->name);
		goto out;
	}
	/* lowest qid used neither by a qube nor by a left-out entry */
	for (qid = 1; qid < 10000; qid++)
		if (app_vm_by_qid(app, qid) == NULL &&
		    !persist_quarantined_qid(qid))
			break;
	if (cls == VMC_DISP)
		dispid = gen_dispid();
	if (qid < 0 || qid > 9999 || (cls == VMC_DISP && dispid < 0)) {
		rc = reply_error(r, "QubesException", "No free qid");
		goto out;
	}

	vm = vm_new(cls, a.name, qid);
	if (vm == NULL)
		fatalx("out of memory");
	pval_set(&vm->props[VMP_name], a.name);
	snprintf(buf, sizeof(buf), "%d", qid);
	pval_set(&vm->props[VMP_qid], buf);
	v = gen_uuid();
	pval_set(&vm->props[VMP_uuid], v);
	free(v);
	v = NULL;
	pval_set(&vm->props[VMP_label], a.label);
	if (tpl != NULL)
		pval_set(&vm->props[VMP_template], tpl->name);
	if (cls == VMC_DISP) {
		snprintf(buf, sizeof(buf), "%d", dispid);
		pval_set(&vm->props[VMP_dispid], buf);
		dispvm_inherit(vm, tpl);
	}
	if ((rc = add_on_disk(r, vm, a.pool, (const char *const *)a.pools)) !=
	    API_OK)
		goto out;
	ev_fire(NULL, "domain-add", "vm", vm->name, NULL);
	vm_update_gui_audio_tags(vm, 1);
	{
		char tag[64];

		snprintf(tag, sizeof(tag), "created-by-%s", c->src->name);
		tag_add(vm, tag);
	}
	ev_fire(vm->name, "domain-create-on-disk", NULL);
	/* a failed save drops the qube: its new images go too */
	shadow = storage_shadow(vm);
	rc = persist_commit(r);
	if (rc != API_OK)
		storage_remove_vm(shadow);
	vm_free(shadow);
out:
	free(v);
	create_args_free(&a);
	return rc;
}

int
api_vm_create(struct call *c, struct reply *r)
{
	return vm_create(c, r, 0);
}

int
api_vm_createinpool(struct call *c, struct reply *r)
{
	return vm_create(c, r, 1);
}

/* ---- Remove */

int
api_vm_remove(struct call *c, struct reply *r)
{
	struct vm *vm = c->dest;
	char *name;
	int rc;

	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	if (vm->cls == VMC_ADMIN) {
		reply_error(r, "QubesVMInUseError", "%s", "");
		sb_add_pyrepr(&r->msg, vm->name);
		sb_adds(&r->msg, " cannot be removed");
		return API_ERROR;
	}
	if (vmprop_bool(vm, VMP_installed_by_rpm))
		return reply_error(r, "QubesVMInUseError",
		    "VM installed by package manager: %s", vm->name);
	if (vm->power != PW_HALTED || vm->busy)
		return reply_error(r, "QubesVMNotHaltedError",
		    "Domain is not powered off: '%s'", vm->name);
	if (vm_is_referenced(vm))
		return reply_error(r, "QubesVMInUseError", "Domain is in use: "
		    "'%s';see 'journalctl -u qubesd -e' in dom0 for details",
		    vm->name);
	name = xstrdup(vm->name);
	ev_fire(NULL, "domain-pre-delete", "vm", name, NULL);
	app_remove_vm(app, vm);
	c->dest = NULL;
	ev_fire(NULL, "domain-delete", "vm", name, NULL);
	free(name);
	rc = persist_commit(r);
	/*
	 * remove_from_disk, once the qube left the collection (its errors
	 * are only logged); after the save, so that a failed save (the
	 * qube is back) never loses its data
	 */
	if (rc == API_OK)
		storage_remove_vm(vm);
	vm_free(vm);
	return rc;
}

/* ---- CreateDisposable */

int
api_vm_createdisposable(struct call *c, struct reply *r)
{
	static const char *const no_pools[4];
	struct vm *tpl, *vm, *shadow;
	char name[32], buf[32], tag[64], *v;
	int qid, dispid = -1, tries, rc;

	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	/* the DVM template: the caller's default_dispvm when asked of
	 * dom0, else the destination */
	tpl = c->dest->cls == VMC_ADMIN ? vmprop_vm(c->src,
	    VMP_default_dispvm) : c->dest;
	/* permission hook (dispvm_template=): nothing refuses in 4.2 */
	if (tpl == NULL || tpl->cls == VMC_ADMIN ||
	    !vmprop_applies(tpl, VMP_template_for_dispvms) ||
	    !vmprop_bool(tpl, VMP_template_for_dispvms))
		return reply_error(r, "QubesException", "Refusing to create "
		    "DispVM out of this AppVM, because "
		    "template_for_dispvms=False");
	for (tries = 0; tries < 100; tries++) {
		if ((dispid = gen_dispid()) < 0)
			break;
		snprintf(name, sizeof(name), "disp%d", dispid);
		if (app_vm(app, name) == NULL &&
		    !persist_quarantined_name(name))
			break;
		dispid = -1;
	}
	for (qid = 1; qid < 10000; qid++)
		if (app_vm_by_qid(app, qid) == NULL &&
		    !persist_quarantined_qid(qid))
			break;
	if (dispid < 0 || qid > 9999)
		return reply_error(r, "QubesException", "No free qid");
	if ((vm = vm_new(VMC_DISP, name, qid)) == NULL)
		fatalx("out of memory");
	pval_set(&vm->props[VMP_name], name);
	snprintf(buf, sizeof(buf), "%d", qid);
	pval_set(&vm->props[VMP_qid], buf);
	v = gen_uuid();
	pval_set(&vm->props[VMP_uuid], v);
	free(v);
	pval_set(&vm->props[VMP_template], tpl->name);
	snprintf(buf, sizeof(buf), "%d", dispid);
	pval_set(&vm->props[VMP_dispid], buf);
	pval_set(&vm->props[VMP_auto_cleanup], "True");
	dispvm_inherit(vm, tpl);
	if ((rc = add_on_disk(r, vm, NULL, no_pools)) != API_OK)
		return rc;
	ev_fire(NULL, "domain-add", "vm", vm->name, NULL);
	vm_update_gui_audio_tags(vm, 1);
	ev_fire(vm->name, "domain-create-on-disk", NULL);
	shadow = storage_shadow(vm);
	rc = persist_commit(r);
	if (rc != API_OK) {
		storage_remove_vm(shadow);
		vm_free(shadow);
		return rc;
	}
	vm_free(shadow);
	/* added after the save, as the reference does: a later save
	 * persists them */
	if ((vm = app_vm(app, name)) != NULL) {
		snprintf(tag, sizeof(tag), "created-by-%s", c->src->name);
		tag_add(vm, tag);
		snprintf(tag, sizeof(tag), "disp-created-by-%s",
		    c->src->name);
		tag_add(vm, tag);
		ev_commit();
	}
	sb_adds(&r->out, name);
	return API_OK;
}
