/*
 * sysinfo.c - internal.GetSystemInfo data (protocol.md 9); see sysinfo.h.
 * The JSON goes through Jansson with the separators of Python's json.dumps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model.h"
#include "policy.h"
#include "props.h"
#include "sysinfo.h"
#include "virt.h"

void
sysinfo_entry(const struct vm *vm, struct sysinfo_entry *e)
{
	const struct vm *v;
	const char *label;

	e->vm = vm;
	e->name = vm->name;
	e->type = vm_class_names[vm->cls];
	e->template_for_dispvms = vmprop_applies(vm, VMP_template_for_dispvms)
	    && vmprop_bool(vm, VMP_template_for_dispvms);
	v = vmprop_vm(vm, VMP_default_dispvm);
	e->default_dispvm = v ? v->name : NULL;
	label = vm_label_name(vm);
	snprintf(e->icon, sizeof(e->icon), "appvm-%s", label ? label : "");
	v = vm->cls == VMC_ADMIN ? NULL : vmprop_vm(vm, VMP_guivm);
	e->guivm = v ? v->name : NULL;
}

static json_t *
str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

char *
sysinfo_json(const struct app *a)
{
	struct sysinfo_entry e;
	json_t *root, *doms, *d, *tags;
	const struct vm *vm;
	size_t i, j;
	char *s;

	root = json_object();
	doms = json_object();
	json_object_set_new(root, "domains", doms);
	for (i = 0; i < a->nvms; i++) {
		vm = a->vms[i];
		sysinfo_entry(vm, &e);
		d = json_object();
		tags = json_array();
		for (j = 0; j < vm->tags.n; j++)
			json_array_append_new(tags, json_string(vm->tags.v[j]));
		json_object_set_new(d, "tags", tags);
		json_object_set_new(d, "type", json_string(e.type));
		json_object_set_new(d, "template_for_dispvms",
		    json_boolean(e.template_for_dispvms));
		json_object_set_new(d, "default_dispvm",
		    str_or_null(e.default_dispvm));
		json_object_set_new(d, "icon", json_string(e.icon));
		json_object_set_new(d, "guivm", str_or_null(e.guivm));
		json_object_set_new(d, "power_state",
		    json_string(virt_power_state(vm)));
		json_object_set_new(doms, vm->name, d);
	}
	s = json_dumps(root, JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	json_decref(root);
	return s;
}

/* policy_power_fn: the live state, only when autostart=no needs it. */
static const char *
power_lookup(void *ctx, const char *name)
{
	const struct app *a = ctx;
	const struct vm *vm = app_vm(a, name);

	return vm ? virt_power_state(vm) : NULL;
}

struct policy_sysinfo *
sysinfo_policy(const struct app *a)
{
	struct policy_domain_info info;
	struct policy_sysinfo *si;
	struct sysinfo_entry e;
	const struct vm *vm;
	size_t i;

	if ((si = policy_sysinfo_new()) == NULL)
		return NULL;
	policy_sysinfo_set_power_lookup(si, power_lookup, (void *)a);
	for (i = 0; i < a->nvms; i++) {
		vm = a->vms[i];
		sysinfo_entry(vm, &e);
		memset(&info, 0, sizeof(info));
		info.name = e.name;
		info.type = e.type;
		info.tags = (const char *const *)vm->tags.v;
		info.ntags = vm->tags.n;
		info.template_for_dispvms = e.template_for_dispvms;
		info.default_dispvm = e.default_dispvm;
		info.icon = e.icon;
		info.guivm = e.guivm;
		info.power_state = NULL;	/* ask power_lookup() */
		if (policy_sysinfo_add(si, &info) < 0 && errno != EEXIST) {
			policy_sysinfo_free(si);
			return NULL;
		}
	}
	return si;
}
