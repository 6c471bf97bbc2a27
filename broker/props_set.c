/*
 * props_set.c - admin.vm.property.Set/Reset and admin.property.Set/Reset
 * semantics: qubes.property.sanitize, __set__/__delete__, the setters and
 * the pre-event refusals and derived effects of qubesd 4.2 (properties.md).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "events.h"
#include "frame.h"
#include "model.h"
#include "props.h"
#include "util.h"
#include "validate.h"
#include "virt.h"

#define E_VALUE		"QubesValueError"
#define E_PVALUE	"QubesPropertyValueError"

/* Properties whose TemplateVM value AppVMs inherit (properties.md 3). */
static const int inherited[] = {
	VMP_default_user, VMP_kernel, VMP_kernelopts, VMP_vcpus, VMP_memory,
	VMP_maxmem, VMP_qrexec_timeout, VMP_shutdown_timeout,
	VMP_management_dispvm,
};

static int
truthy_feature(const struct vm *vm, const char *f)
{
	const char *v = kvl_get(&vm->features, f);

	return v != NULL && *v != '\0';
}

static int
is_halted(const struct vm *vm)
{
	return strcmp(virt_power_state(vm), "Halted") == 0;
}

/* str() of a property read, for event arguments: NULL if unreadable. */
static char *
str_value(int r, char *v)
{
	if (r == VAL_NODEF) {
		free(v);
		return NULL;
	}
	if (r == VAL_NONE)
		return xstrdup("None");
	return v;
}

static void
fire_prop(const char *subject, const char *kind, const char *name,
    const char *newvalue, const char *oldvalue)
{
	char ev[256];

	snprintf(ev, sizeof(ev), "%s:%s", kind, name);
	if (newvalue != NULL && oldvalue != NULL)
		ev_fire(subject, ev, "name", name, "newvalue", newvalue,
		    "oldvalue", oldvalue, NULL);
	else if (newvalue != NULL)
		ev_fire(subject, ev, "name", name, "newvalue", newvalue, NULL);
	else if (oldvalue != NULL)
		ev_fire(subject, ev, "name", name, "oldvalue", oldvalue, NULL);
	else
		ev_fire(subject, ev, "name", name, NULL);
}

/*
 * qubes.property.sanitize (+ VMProperty.sanitize): coarse parsing by
 * declared type.  On success *out is the NUL-terminated sanitized text.
 */
static int
sanitize(struct reply *r, enum ptype type, const char *untrusted, size_t len,
    char **out)
{
	struct strbuf sb;
	const char *msg;
	int64_t n;
	int b;
	unsigned char a6[16];
	char buf[64];

	*out = NULL;
	/* sanitize start */
	if (!frame_is_ascii(untrusted, len)) {
		if (type == PT_VM)
			return reply_error(r, E_VALUE, "%s", "");
		return reply_error(r, E_VALUE,
		    "Non-ASCII bytes in property value");
	}
	switch (type) {
	case PT_VM:
		if (len == 0) {
			*out = xstrdup("");
			return API_OK;
		}
		if (memchr(untrusted, '\0', len) != NULL) {
			return reply_error(r, E_VALUE, len > 31 ?
			    "VM name must be shorter than 32 characters" :
			    "VM name contains illegal characters");
		}
		if (validate_vm_name(untrusted, &msg) < 0)
			return reply_error(r, E_VALUE, "%s", msg);
		*out = xstrdup(untrusted);
		return API_OK;
	case PT_BOOL:
		if (memchr(untrusted, '\0', len) != NULL ||
		    parse_pybool(untrusted, &b) < 0) {
			sb_init(&sb, 0);
			sb_add_pyrepr_n(&sb, untrusted, len);
			reply_error(r, E_VALUE,
			    "Invalid literal for boolean property: %s", sb.buf);
			sb_free(&sb);
			return API_ERROR;
		}
		*out = xstrdup(b ? "True" : "False");
		return API_OK;
	case PT_INT:
		if (parse_pyint(untrusted, len, &n) < 0)
			return reply_error(r, E_VALUE,
			    "Failed to parse property value as int");
		snprintf(buf, sizeof(buf), "%lld", (long long)n);
		*out = xstrdup(buf);
		return API_OK;
	case PT_IPV4:
		if (memchr(untrusted, '\0', len) != NULL ||
		    parse_ipv4(untrusted, buf, sizeof(buf)) < 0)
			return reply_error(r, E_VALUE,
			    "Failed to parse property value as IPv4Address");
		*out = xstrdup(buf);
		return API_OK;
	case PT_IPV6:
		if (memchr(untrusted, '\0', len) != NULL || len > 45 ||
		    inet_pton(AF_INET6, untrusted, a6) != 1 ||
		    inet_ntop(AF_INET6, a6, buf, sizeof(buf)) == NULL)
			return reply_error(r, E_VALUE,
			    "Failed to parse property value as IPv6Address");
		*out = xstrdup(buf);
		return API_OK;
	case PT_UUID:
		if (memchr(untrusted, '\0', len) != NULL ||
		    parse_uuid(untrusted, buf, sizeof(buf)) < 0)
			return reply_error(r, E_VALUE,
			    "Failed to parse property value as UUID");
		*out = xstrdup(buf);
		return API_OK;
	default:
		/* VT and FF are printable to Python but not to XML: refused
		 * here instead of failing the save (docs/divergences.md) */
		if (validate_printable(untrusted, len) < 0 ||
		    memchr(untrusted, '\v', len) != NULL ||
		    memchr(untrusted, '\f', len) != NULL)
			return reply_error(r, E_VALUE,
			    "Invalid characters in property value");
		*out = xstrdup(untrusted);
		return API_OK;
	}
	/* sanitize end */
}

static int
cannot_be_set(struct reply *r, const struct vm *vm, const char *prop)
{
	return reply_error(r, E_PVALUE,
	    "property '%s' on %s instance cannot be set", prop,
	    vm ? vm_class_names[vm->cls] : "Qubes");
}

/* VMProperty.__set__: None, existence and class checks. */
static int
check_vm_value(struct reply *r, const struct vm *holder, const char *prop,
    unsigned flags, const char *value, struct vm **target)
{
	struct strbuf sb;
	struct vm *t;

	*target = NULL;
	if (*value == '\0') {
		if (flags & PF_ALLOW_NONE)
			return API_OK;
		sb_init(&sb, 0);
		if (holder != NULL)
			vm_debug_repr(holder, &sb);
		reply_error(r, E_PVALUE,
		    "Invalid value None for property '%s' of %s", prop,
		    holder ? sb.buf : "<qubes.Qubes object>");
		sb_free(&sb);
		return API_ERROR;
	}
	t = app_vm(app, value);
	if (t == NULL)
		return reply_error(r, E_PVALUE,
		    "Can't set %s to non-existing qube %s", prop, value);
	if ((flags & PF_TEMPLATEVM) && t->cls != VMC_TEMPLATE)
		return reply_error(r, E_PVALUE,
		    "wrong VM class: domains['%s'] is of type %s and not "
		    "TemplateVM", value, vm_class_names[t->cls]);
	*target = t;
	return API_OK;
}

static int
validate_kernel(struct reply *r, const char *kernel)
{
	struct strbuf sb;
	struct stat st;
	char *dir;
	int rc = API_OK;

	if (*kernel == '\0')
		return API_OK;
	sb_init(&sb, 0);
	sb_addf(&sb, "%s/vm-kernels/%s", app->base_dir, kernel);
	dir = sb_steal(&sb);
	sb_init(&sb, 0);
	sb_addf(&sb, "%s/vmlinuz", dir);
	if (stat(dir, &st) < 0)
		rc = reply_error(r, E_PVALUE, "Kernel '%s' not installed",
		    kernel);
	else if (stat(sb.buf, &st) < 0)
		rc = reply_error(r, E_PVALUE, "Kernel '%s' not properly "
		    "installed: missing 'vmlinuz' file", kernel);
	free(dir);
	sb_free(&sb);
	return rc;
}

static int
check_kbd_layout(struct reply *r, const char *v)
{
	const char *p1, *p2, *p;

	p1 = strchr(v, '+');
	p2 = p1 ? strchr(p1 + 1, '+') : NULL;
	if (p1 == NULL || p2 == NULL || strchr(p2 + 1, '+') != NULL)
		return reply_error(r, E_PVALUE,
		    "invalid number of keyboard layout parameters");
	if (p1 == v)
		return reply_error(r, E_PVALUE,
		    "Invalid keyboard layout provided");
	for (p = v; p < p1; p++)
		if (!isalpha((unsigned char)*p))
			return reply_error(r, E_PVALUE,
			    "Invalid keyboard layout provided");
	for (p = p1 + 1; p < p2; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return reply_error(r, E_PVALUE,
			    "Invalid layout variant provided");
	for (p = p2 + 1; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_:,", *p))
			return reply_error(r, E_PVALUE,
			    "Invalid layout options provided");
	return API_OK;
}

static int
any_dispvm_of(const struct vm *dvm, int running_only)
{
	size_t i;

	for (i = 0; i < app->nvms; i++) {
		const struct vm *d = app->vms[i];

		if (d->cls == VMC_DISP && vmprop_vm(d, VMP_template) == dvm &&
		    (!running_only || !is_halted(d)))
			return 1;
	}
	return 0;
}

static int
has_direct_clients(const struct vm *netvm)
{
	size_t i;

	for (i = 0; i < app->nvms; i++)
		if (vmprop_applies(app->vms[i], VMP_netvm) &&
		    vmprop_vm(app->vms[i], VMP_netvm) == netvm)
			return 1;
	return 0;
}

/* _setter_netvm: applies to a new value and to the default on reset. */
static int
check_netvm(struct reply *r, const struct vm *vm, const struct vm *nv)
{
	if (nv == NULL)
		return API_OK;
	if (!vmprop_bool(nv, VMP_provides_network))
		return reply_error(r, E_VALUE,
		    "The %s qube does not provide network", nv->name);
	if (vm_connected_through(nv, vm))
		return reply_error(r, E_VALUE,
		    "Loops in network are unsupported");
	if (!is_halted(vm) && is_halted(nv))
		return reply_error(r, "QubesVMNotStartedError",
		    "Cannot dynamically attach to stopped qube %s", nv->name);
	return API_OK;
}

/* Setters: class-specific validation and normalisation of the sanitized
 * value (which they may replace). */
static int
vm_setter(struct reply *r, struct vm *vm, int pid, char **value)
{
	char *v = *value, *p;
	long long n;
	struct label *l;
	int64_t idx;

	switch (pid) {
	case VMP_memory:
	case VMP_vcpus:
	case VMP_qrexec_timeout:
	case VMP_shutdown_timeout:
	case VMP_stubdom_mem:
		n = strtoll(v, NULL, 10);
		if (n <= 0)
			return reply_error(r, E_PVALUE, "%s must be positive",
			    vm_props[pid].name);
		return API_OK;
	case VMP_maxmem:
		if (strtoll(v, NULL, 10) < 0)
			return reply_error(r, E_PVALUE,
			    "maxmem must be positive or zero");
		return API_OK;
	case VMP_default_user:
		for (p = v; *p; p++)
			if (!isalnum((unsigned char)*p) && !strchr("_-+,.", *p))
				return reply_error(r, E_PVALUE, "Username can "
				    "contain only those characters: "
				    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
				    "RSTUVWXYZ0123456789_-+,.");
		return API_OK;
	case VMP_virt_mode:
		for (p = v; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (strcmp(v, "hvm") && strcmp(v, "pv") && strcmp(v, "pvh"))
			return reply_error(r, E_PVALUE, "Invalid "
			    "virtualization mode, supported values: hvm, pv, "
			    "pvh");
		if (strcmp(v, "pvh") == 0 && vm_persistent_pci_count(vm) > 0)
			return reply_error(r, E_PVALUE,
			    "pvh mode can't be set if pci devices are "
			    "attached");
		return API_OK;
	case VMP_kernel:
		if (strchr(v, '/') != NULL)
			return reply_error(r, E_PVALUE,
			    "Kernel name cannot contain '/'");
		return API_OK;
	case VMP_kernelopts:
		if (strlen(v) > 512)
			return reply_error(r, E_PVALUE,
			    "Kernelopts value too long (512 chars max)");
		return API_OK;
	case VMP_keyboard_layout:
		return check_kbd_layout(r, v);
	case VMP_label:
		if (strncmp(v, "label-", 6) == 0) {
			if (parse_pyint(v + 6, strlen(v + 6), &idx) < 0 ||
			    idx < 0 || idx > 0x7fffffff ||
			    (l = app_label_by_index(app, (int)idx)) == NULL)
				return reply_refuse(r, "bad label-N");
		} else if ((l = app_label_lookup(app, v)) == NULL) {
			return reply_error(r, "QubesLabelNotFoundError",
			    "Label does not exist: %s", v);
		}
		free(*value);
		*value = xstrdup(l->name);
		return API_OK;
	case VMP_mac:
		/* the reference raises a plain error here: silent close */
		if (strlen(v) != 17)
			return reply_refuse(r, "bad mac");
		for (n = 0; n < 17; n++) {
			if (n % 3 == 2 ? v[n] != ':' :
			    !isxdigit((unsigned char)v[n]))
				return reply_refuse(r, "bad mac");
			v[n] = (char)tolower((unsigned char)v[n]);
		}
		return API_OK;
	default:
		return API_OK;
	}
}

/* Pre-set reactions that may refuse (property-pre-set handlers). */
static int
vm_pre_set(struct reply *r, struct vm *vm, int pid, const char *v,
    struct vm *target)
{
	switch (pid) {
	case VMP_netvm:
		return check_netvm(r, vm, target);
	case VMP_template:
		if (vm->cls == VMC_DISP && target != NULL &&
		    !vmprop_bool(target, VMP_template_for_dispvms))
			return reply_error(r, E_PVALUE, "template for DispVM "
			    "must have template_for_dispvms=True");
		if (!is_halted(vm))
			return reply_error(r, "QubesVMNotHaltedError",
			    "Cannot change template while qube is running");
		if (any_dispvm_of(vm, 1))
			return reply_error(r, "QubesVMNotHaltedError",
			    "Cannot change template while there are running "
			    "DispVMs based on this DVM template");
		return API_OK;
	case VMP_template_for_dispvms:
		if (strcmp(v, "False") == 0 && any_dispvm_of(vm, 0))
			return reply_error(r, "QubesVMInUseError",
			    "Cannot change template_for_dispvms to False while "
			    "there are some DispVMs based on this DVM template");
		return API_OK;
	case VMP_provides_network:
		if (strcmp(v, "False") == 0 && has_direct_clients(vm))
			return reply_error(r, E_VALUE, "The qube is still used "
			    "by other qubes, change theirs 'netvm' first");
		return API_OK;
	case VMP_kernel:
		return validate_kernel(r, v);
	default:
		return API_OK;
	}
}

void
feature_set_ev(struct vm *vm, const char *f, const char *value)
{
	const char *old = kvl_get(&vm->features, f);
	char ev[128];
	char *oldc = old ? xstrdup(old) : NULL;

	snprintf(ev, sizeof(ev), "domain-feature-pre-set:%s", f);
	if (oldc)
		ev_fire(vm->name, ev, "feature", f, "value", value,
		    "oldvalue", oldc, NULL);
	else
		ev_fire(vm->name, ev, "feature", f, "value", value, NULL);
	if (kvl_set(&vm->features, f, value) < 0)
		fatalx("out of memory");
	snprintf(ev, sizeof(ev), "domain-feature-set:%s", f);
	if (oldc)
		ev_fire(vm->name, ev, "feature", f, "value", value,
		    "oldvalue", oldc, NULL);
	else
		ev_fire(vm->name, ev, "feature", f, "value", value, NULL);
	free(oldc);
}

void
feature_del_ev(struct vm *vm, const char *f)
{
	char ev[128];

	if (kvl_get(&vm->features, f) == NULL)
		return;
	snprintf(ev, sizeof(ev), "domain-feature-pre-delete:%s", f);
	ev_fire(vm->name, ev, "feature", f, NULL);
	kvl_del(&vm->features, f);
	snprintf(ev, sizeof(ev), "domain-feature-delete:%s", f);
	ev_fire(vm->name, ev, "feature", f, NULL);
}

void
vm_update_gui_audio_tags(struct vm *vm, int emit)
{
	static const struct {
		int pid;
		const char *prefix;
	} kinds[] = { { VMP_guivm, "guivm-" }, { VMP_audiovm, "audiovm-" } };
	struct vm *t;
	char want[64], ev[128];
	size_t k, i;

	if (!vmprop_applies(vm, VMP_guivm))
		return;
	for (k = 0; k < 2; k++) {
		t = vmprop_vm(vm, kinds[k].pid);
		want[0] = '\0';
		if (t != NULL)
			snprintf(want, sizeof(want), "%s%s", kinds[k].prefix,
			    t->name);
		for (i = 0; i < vm->tags.n; i++) {
			if (strncmp(vm->tags.v[i], kinds[k].prefix,
			    strlen(kinds[k].prefix)) != 0 ||
			    strcmp(vm->tags.v[i], want) == 0)
				continue;
			snprintf(ev, sizeof(ev), "domain-tag-delete:%s",
			    vm->tags.v[i]);
			if (emit)
				ev_fire(vm->name, ev, "tag", vm->tags.v[i],
				    NULL);
			strset_del(&vm->tags, vm->tags.v[i]);
			i--;
		}
		if (want[0] && strset_add(&vm->tags, want) == 1 && emit) {
			snprintf(ev, sizeof(ev), "domain-tag-add:%s", want);
			ev_fire(vm->name, ev, "tag", want, NULL);
		}
	}
}

/* property-set reactions: derived changes and events. */
static void
vm_post_set(struct vm *vm, int pid)
{
	size_t i, k;
	struct vm *o;

	switch (pid) {
	case VMP_label:
		ev_fire(vm->name, "property-reset:icon", "name", "icon", NULL);
		break;
	case VMP_template_for_dispvms:
		ev_fire(vm->name, "property-reset:icon", "name", "icon", NULL);
		break;
	case VMP_provides_network:
		if (vmprop_bool(vm, VMP_provides_network))
			feature_set_ev(vm, "servicevm", "1");
		else
			feature_del_ev(vm, "servicevm");
		ev_fire(vm->name, "property-reset:icon", "name", "icon", NULL);
		ev_fire(vm->name, "property-reset:gateway", "name", "gateway",
		    NULL);
		ev_fire(vm->name, "property-reset:gateway6", "name",
		    "gateway6", NULL);
		break;
	case VMP_guivm:
	case VMP_audiovm:
		vm_update_gui_audio_tags(vm, 1);
		break;
	default:
		break;
	}
	if (vm->cls == VMC_TEMPLATE) {
		for (k = 0; k < sizeof(inherited) / sizeof(inherited[0]); k++) {
			if (inherited[k] != pid)
				continue;
			for (i = 0; i < app->nvms; i++) {
				o = app->vms[i];
				if (vmprop_applies(o, VMP_template) &&
				    vmprop_vm(o, VMP_template) == vm &&
				    !o->props[pid].set)
					fire_prop(o->name, "property-reset",
					    vm_props[pid].name, NULL, NULL);
			}
		}
	}
}

int
vmprop_set(struct call *c, struct reply *r, struct vm *vm, int pid,
    const char *untrusted_value, size_t len)
{
	const struct propdef *d = &vm_props[pid];
	enum ptype type = d->type;
	char *value = NULL, *old = NULL, *oldv = NULL;
	struct vm *target = NULL;
	int rc, ro;

	(void)c;
	if (vm->cls == VMC_ADMIN && (pid == VMP_name || pid == VMP_uuid))
		type = PT_UNTYPED;	/* AdminVM's own untyped definitions */
	rc = sanitize(r, type, untrusted_value, len, &value);
	if (rc != API_OK)
		return rc;
	/* permission hook: nothing to check for property.Set in 4.2 */
	if (type == PT_VM) {
		rc = check_vm_value(r, vm, d->name,
		    d->flags | (vm->cls == VMC_APP && pid == VMP_template ?
		    PF_TEMPLATEVM : 0), value, &target);
		if (rc != API_OK)
			goto out;
	}
	if ((d->flags & PF_WRITE_ONCE) && vm->props[pid].set &&
	    vm->cls != VMC_ADMIN) {
		rc = reply_refuse(r, "write-once property already set");
		goto out;
	}
	if ((d->flags & PF_COMPUTED) || (vm->cls == VMC_ADMIN &&
	    (pid == VMP_name || pid == VMP_qid || pid == VMP_uuid))) {
		rc = cannot_be_set(r, vm, d->name);
		goto out;
	}
	rc = vm_setter(r, vm, pid, &value);
	if (rc != API_OK)
		goto out;
	rc = vm_pre_set(r, vm, pid, value, target);
	if (rc != API_OK)
		goto out;

	ro = vmprop_get(vm, pid, &oldv);
	old = str_value(ro, oldv);
	fire_prop(vm->name, "property-pre-set", d->name,
	    *value || type != PT_VM ? value : "None", old);
	if (pval_set(&vm->props[pid], value) < 0)
		fatalx("out of memory");
	vm_post_set(vm, pid);
	fire_prop(vm->name, "property-set", d->name,
	    *value || type != PT_VM ? value : "None", old);
	rc = API_OK;
out:
	free(value);
	free(old);
	return rc;
}

int
vmprop_reset(struct call *c, struct reply *r, struct vm *vm, int pid)
{
	const struct propdef *d = &vm_props[pid];
	char *old = NULL, *v = NULL, *nv = NULL;
	struct vm *dflt, *tpl;
	int ro, rc = API_OK;

	(void)c;
	if ((d->flags & PF_WRITE_ONCE) && vm->props[pid].set &&
	    vm->cls != VMC_ADMIN)
		return reply_refuse(r, "write-once property already set");
	ro = vmprop_get(vm, pid, &v);
	old = str_value(ro, v);

	/* property-pre-reset handlers that refuse */
	if (pid == VMP_template && vm->cls == VMC_APP) {
		tpl = NULL;
		if (gprop_get(GP_default_template, &nv) == VAL_SET)
			tpl = app_vm(app, nv);
		free(nv);
		if (tpl != NULL)
			rc = reply_error(r, E_VALUE, "Cannot unset template. "
			    "You can set it to the current default (%s) "
			    "instead", tpl->name);
		else
			rc = reply_error(r, E_VALUE, "Cannot unset template");
		goto out;
	}
	if (pid == VMP_template && vm->cls == VMC_DISP) {
		rc = reply_error(r, E_VALUE, "Cannot unset template");
		goto out;
	}
	if (pid == VMP_netvm) {
		dflt = vm->cls == VMC_TEMPLATE ? NULL : gprop_vm(GP_default_netvm);
		rc = check_netvm(r, vm, dflt);
		if (rc != API_OK)
			goto out;
	}
	if (pid == VMP_template_for_dispvms && any_dispvm_of(vm, 0)) {
		rc = reply_error(r, "QubesVMInUseError", "Cannot change "
		    "template_for_dispvms to False while there are some "
		    "DispVMs based on this DVM template");
		goto out;
	}
	if (pid == VMP_provides_network && has_direct_clients(vm)) {
		rc = reply_error(r, E_VALUE, "The qube is still used by other "
		    "qubes, change theirs 'netvm' first");
		goto out;
	}

	fire_prop(vm->name, "property-pre-reset", d->name, NULL, old);
	if (pid == VMP_netvm && vm->props[pid].set) {
		dflt = vm->cls == VMC_TEMPLATE ? NULL :
		    gprop_vm(GP_default_netvm);
		if (dflt != vmprop_vm(vm, VMP_netvm))
			fire_prop(vm->name, "property-pre-set", "netvm",
			    dflt ? dflt->name : "None", old);
	}
	fire_prop(vm->name, "property-pre-del", d->name, NULL, old);
	if (!(d->flags & PF_COMPUTED) && !(vm->cls == VMC_ADMIN &&
	    (pid == VMP_name || pid == VMP_qid || pid == VMP_uuid))) {
		dflt = pid == VMP_netvm ? vmprop_vm(vm, VMP_netvm) : NULL;
		pval_set(&vm->props[pid], NULL);
		if (pid == VMP_netvm && dflt != vmprop_vm(vm, VMP_netvm))
			fire_prop(vm->name, "property-set", "netvm",
			    vmprop_vm(vm, VMP_netvm) ?
			    vmprop_vm(vm, VMP_netvm)->name : "None", old);
		vm_post_set(vm, pid);
	}
	fire_prop(vm->name, "property-reset", d->name, NULL, old);
	fire_prop(vm->name, "property-del", d->name, NULL, old);
out:
	free(old);
	return rc;
}

/* ---- global properties */

static int
g_setter(struct reply *r, int pid, const char *v, struct vm *target)
{
	size_t i;
	struct vm *vm;

	switch (pid) {
	case GP_default_pool:
	case GP_default_pool_kernel:
	case GP_default_pool_private:
	case GP_default_pool_root:
	case GP_default_pool_volatile:
		if (app_pool(app, v) == NULL)
			return reply_error(r, E_PVALUE, "No such storage pool");
		return API_OK;
	case GP_default_netvm:
		if (target == NULL)
			return API_OK;
		for (i = 0; i < app->nvms; i++) {
			vm = app->vms[i];
			if (!vmprop_applies(vm, VMP_netvm) ||
			    vm->props[VMP_netvm].set)
				continue;
			if (vm_connected_through(target, vm))
				return reply_error(r, E_PVALUE,
				    "Network loop on '%s'", vm->name);
		}
		return API_OK;
	case GP_default_kernel:
		return validate_kernel(r, v);
	default:
		return API_OK;
	}
}

static void
g_post_set(int pid, struct vm *oldvm, const char *old)
{
	size_t i;
	struct vm *vm, *nv;

	switch (pid) {
	case GP_clockvm:
		nv = gprop_vm(GP_clockvm);
		if (oldvm != nv && oldvm != NULL &&
		    truthy_feature(oldvm, "service.clocksync"))
			feature_del_ev(oldvm, "service.clocksync");
		break;
	case GP_default_guivm:
	case GP_default_audiovm:
		for (i = 0; i < app->nvms; i++)
			vm_update_gui_audio_tags(app->vms[i], 1);
		break;
	case GP_default_netvm:
		for (i = 0; i < app->nvms; i++) {
			vm = app->vms[i];
			if (vmprop_applies(vm, VMP_netvm) &&
			    !vm->props[VMP_netvm].set &&
			    vm->cls != VMC_TEMPLATE)
				fire_prop(vm->name, "property-reset", "netvm",
				    NULL, old);
		}
		break;
	case GP_default_dispvm:
		for (i = 0; i < app->nvms; i++) {
			vm = app->vms[i];
			if (!vm->props[VMP_default_dispvm].set)
				fire_prop(vm->name, "property-reset",
				    "default_dispvm", NULL, old);
		}
		break;
	default:
		break;
	}
}

static void
g_pre_set(int pid, struct vm *target, const char *newv, const char *old)
{
	size_t i;
	struct vm *vm;

	if (pid == GP_clockvm && target != NULL &&
	    kvl_get(&target->features, "service.clocksync") == NULL)
		feature_set_ev(target, "service.clocksync", "1");
	if (pid == GP_default_netvm) {
		for (i = 0; i < app->nvms; i++) {
			vm = app->vms[i];
			if (vmprop_applies(vm, VMP_netvm) &&
			    !vm->props[VMP_netvm].set &&
			    vm->cls != VMC_TEMPLATE)
				fire_prop(vm->name, "property-pre-set",
				    "netvm", newv, old);
		}
	}
}

int
gprop_set(struct call *c, struct reply *r, int pid,
    const char *untrusted_value, size_t len)
{
	const struct propdef *d = &global_props[pid];
	char *value = NULL, *old = NULL, *v = NULL;
	struct vm *target = NULL, *oldvm;
	int rc, rv;

	(void)c;
	rc = sanitize(r, d->type, untrusted_value, len, &value);
	if (rc != API_OK)
		return rc;
	if (d->type == PT_VM) {
		rc = check_vm_value(r, NULL, d->name, d->flags, value, &target);
		if (rc != API_OK)
			goto out;
	}
	rc = g_setter(r, pid, value, target);
	if (rc != API_OK)
		goto out;
	rv = gprop_get(pid, &v);
	old = str_value(rv, v);
	oldvm = d->type == PT_VM ? gprop_vm(pid) : NULL;
	fire_prop(NULL, "property-pre-set", d->name,
	    *value || d->type != PT_VM ? value : "None", old);
	g_pre_set(pid, target, *value ? value : "None", old);
	if (pval_set(&app->gprops[pid], value) < 0)
		fatalx("out of memory");
	g_post_set(pid, oldvm, old);
	fire_prop(NULL, "property-set", d->name,
	    *value || d->type != PT_VM ? value : "None", old);
out:
	free(value);
	free(old);
	return rc;
}

int
gprop_reset(struct call *c, struct reply *r, int pid)
{
	const struct propdef *d = &global_props[pid];
	char *old, *v = NULL;
	struct vm *oldvm;
	int rv;

	(void)c;
	(void)r;
	rv = gprop_get(pid, &v);
	old = str_value(rv, v);
	oldvm = d->type == PT_VM ? gprop_vm(pid) : NULL;
	fire_prop(NULL, "property-pre-reset", d->name, NULL, old);
	fire_prop(NULL, "property-pre-del", d->name, NULL, old);
	pval_set(&app->gprops[pid], NULL);
	g_post_set(pid, oldvm, old);
	fire_prop(NULL, "property-reset", d->name, NULL, old);
	fire_prop(NULL, "property-del", d->name, NULL, old);
	free(old);
	return API_OK;
}
