/*
 * api_internal.c - internal.GetSystemInfo (protocol.md 9), JSON through
 * Jansson with the separators of Python's json.dumps.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api_handlers.h"
#include "model.h"
#include "props.h"
#include "virt.h"

static json_t *
vm_or_null(const struct vm *vm)
{
	return vm ? json_string(vm->name) : json_null();
}

int
api_internal_getsysteminfo(struct call *c, struct reply *r)
{
	json_t *root, *doms, *d, *tags;
	const struct vm *vm;
	const char *label;
	char icon[128], *s;
	size_t i, j;

	if (c->dest->cls != VMC_ADMIN)
		return reply_refuse(r, "destination must be dom0");
	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	root = json_object();
	doms = json_object();
	json_object_set_new(root, "domains", doms);
	for (i = 0; i < app->nvms; i++) {
		vm = app->vms[i];
		d = json_object();
		tags = json_array();
		for (j = 0; j < vm->tags.n; j++)
			json_array_append_new(tags, json_string(vm->tags.v[j]));
		json_object_set_new(d, "tags", tags);
		json_object_set_new(d, "type",
		    json_string(vm_class_names[vm->cls]));
		json_object_set_new(d, "template_for_dispvms", json_boolean(
		    vmprop_applies(vm, VMP_template_for_dispvms) &&
		    vmprop_bool(vm, VMP_template_for_dispvms)));
		json_object_set_new(d, "default_dispvm",
		    vm_or_null(vmprop_vm(vm, VMP_default_dispvm)));
		label = vm_label_name(vm);
		snprintf(icon, sizeof(icon), "appvm-%s", label ? label : "");
		json_object_set_new(d, "icon", json_string(icon));
		json_object_set_new(d, "guivm", vm->cls == VMC_ADMIN ?
		    json_null() : vm_or_null(vmprop_vm(vm, VMP_guivm)));
		json_object_set_new(d, "power_state",
		    json_string(virt_power_state(vm)));
		json_object_set_new(doms, vm->name, d);
	}
	s = json_dumps(root, JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (s == NULL)
		return reply_refuse(r, "JSON encoding failed");
	sb_adds(&r->out, s);
	free(s);
	return API_OK;
}
