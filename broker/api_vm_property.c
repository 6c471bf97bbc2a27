/*
 * api_vm_property.c - admin.vm.property.* and admin.property.*
 * (calls-core.md 3; qubes.api.admin.QubesAdminAPI._property_*).
 */
#include <stdlib.h>
#include <string.h>

#include "api_handlers.h"
#include "model.h"
#include "persist.h"
#include "props.h"

/* "Property must exist": QubesNoSuchPropertyError with repr of the name. */
static int
no_such_property(struct reply *r, const char *arg, const char *holder)
{
	struct strbuf sb;

	sb_init(&sb, 0);
	sb_add_pyrepr(&sb, arg);
	reply_error(r, "QubesNoSuchPropertyError", "Invalid property %s of %s",
	    sb.buf, holder);
	sb_free(&sb);
	return API_ERROR;
}

static int
vm_pid(struct call *c, struct reply *r, int *pid)
{
	*pid = vmprop_id(c->arg);
	if (!vmprop_applies(c->dest, *pid))
		return no_such_property(r, c->arg, c->dest->name);
	return API_OK;
}

static int
g_pid(struct call *c, struct reply *r, int *pid)
{
	*pid = gprop_id(c->arg);
	if (*pid < 0)
		return no_such_property(r, c->arg, "Qubes");
	return API_OK;
}

static int
is_dom0(const struct call *c)
{
	return c->dest->cls == VMC_ADMIN;
}

/* GetAll escaping: "\" -> "\\", then LF -> "\n". */
static void
add_escaped(struct strbuf *out, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\\')
			sb_adds(out, "\\\\");
		else if (s[i] == '\n')
			sb_adds(out, "\\n");
		else
			sb_addc(out, s[i]);
	}
}

static void
add_default(struct strbuf *out, const char *type, int rv, const char *v)
{
	if (rv == VAL_NODEF)
		return;		/* AttributeError: empty content */
	sb_addf(out, "type=%s %s", type, rv == VAL_SET ? v : "");
}

int
api_vm_property_list(struct call *c, struct reply *r)
{
	int pid;

	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	for (pid = 0; pid < VMP_COUNT; pid++)
		if (vmprop_applies(c->dest, pid))
			sb_addf(&r->out, "%s\n", vm_props[pid].name);
	return API_OK;
}

int
api_vm_property_get(struct call *c, struct reply *r)
{
	int pid;

	if (vm_pid(c, r, &pid) != API_OK)
		return API_ERROR;
	vmprop_serialize(c->dest, pid, &r->out);
	return API_OK;
}

int
api_vm_property_getall(struct call *c, struct reply *r)
{
	struct strbuf one;
	int pid;

	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	sb_init(&one, 0);
	for (pid = 0; pid < VMP_COUNT; pid++) {
		if (!vmprop_applies(c->dest, pid))
			continue;
		sb_reset(&one);
		vmprop_serialize(c->dest, pid, &one);
		sb_addf(&r->out, "%s ", vm_props[pid].name);
		add_escaped(&r->out, one.buf, one.len);
		sb_addc(&r->out, '\n');
	}
	sb_free(&one);
	return API_OK;
}

int
api_vm_property_getdefault(struct call *c, struct reply *r)
{
	char *v = NULL;
	int pid, rv;

	if (vm_pid(c, r, &pid) != API_OK)
		return API_ERROR;
	rv = vmprop_default(c->dest, pid, &v);
	add_default(&r->out, vmprop_api_type(c->dest, pid), rv, v);
	free(v);
	return API_OK;
}

int
api_vm_property_help(struct call *c, struct reply *r)
{
	int pid;

	if (vm_pid(c, r, &pid) != API_OK)
		return API_ERROR;
	sb_adds(&r->out, vmprop_help(c->dest, pid));
	return API_OK;
}

int
api_vm_property_set(struct call *c, struct reply *r)
{
	int pid, rc;

	if (vm_pid(c, r, &pid) != API_OK)
		return API_ERROR;
	rc = vmprop_set(c, r, c->dest, pid, (const char *)c->untrusted_payload,
	    c->payload_len);
	return rc == API_OK ? persist_commit(r) : rc;
}

int
api_vm_property_reset(struct call *c, struct reply *r)
{
	int pid, rc;

	if (vm_pid(c, r, &pid) != API_OK)
		return API_ERROR;
	rc = vmprop_reset(c, r, c->dest, pid);
	return rc == API_OK ? persist_commit(r) : rc;
}

/* ---- global */

int
api_property_list(struct call *c, struct reply *r)
{
	int pid;

	if (!is_dom0(c))
		return reply_refuse(r, "destination must be dom0");
	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	for (pid = 0; pid < GP_COUNT; pid++)
		sb_addf(&r->out, "%s\n", global_props[pid].name);
	return API_OK;
}

int
api_property_get(struct call *c, struct reply *r)
{
	int pid;

	if (!is_dom0(c))
		return reply_refuse(r, "destination must be dom0");
	if (g_pid(c, r, &pid) != API_OK)
		return API_ERROR;
	gprop_serialize(pid, &r->out);
	return API_OK;
}

int
api_property_getall(struct call *c, struct reply *r)
{
	struct strbuf one;
	int pid;

	if (!is_dom0(c))
		return reply_refuse(r, "destination must be dom0");
	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	sb_init(&one, 0);
	for (pid = 0; pid < GP_COUNT; pid++) {
		sb_reset(&one);
		gprop_serialize(pid, &one);
		sb_addf(&r->out, "%s ", global_props[pid].name);
		add_escaped(&r->out, one.buf, one.len);
		sb_addc(&r->out, '\n');
	}
	sb_free(&one);
	return API_OK;
}

int
api_property_getdefault(struct call *c, struct reply *r)
{
	char *v = NULL;
	int pid, rv;

	if (!is_dom0(c))
		return reply_refuse(r, "destination must be dom0");
	if (g_pid(c, r, &pid) != API_OK)
		return API_ERROR;
	rv = gprop_default(pid, &v);
	add_default(&r->out, gprop_api_type(pid), rv, v);
	free(v);
	return API_OK;
}

int
api_property_help(struct call *c, struct reply *r)
{
	int pid;

	if (!is_dom0(c))
		return reply_refuse(r, "destination must be dom0");
	if (g_pid(c, r, &pid) != API_OK)
		return API_ERROR;
	sb_adds(&r->out, global_props[pid].help);
	return API_OK;
}

int
api_property_set(struct call *c, struct reply *r)
{
	int pid, rc;

	if (!is_dom0(c))
		return reply_refuse(r, "destination must be dom0");
	if (g_pid(c, r, &pid) != API_OK)
		return API_ERROR;
	rc = gprop_set(c, r, pid, (const char *)c->untrusted_payload,
	    c->payload_len);
	return rc == API_OK ? persist_commit(r) : rc;
}

int
api_property_reset(struct call *c, struct reply *r)
{
	int pid, rc;

	if (!is_dom0(c))
		return reply_refuse(r, "destination must be dom0");
	if (g_pid(c, r, &pid) != API_OK)
		return API_ERROR;
	rc = gprop_reset(c, r, pid);
	return rc == API_OK ? persist_commit(r) : rc;
}
