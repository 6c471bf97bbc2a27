/*
 * api_vm_feature.c - admin.vm.feature.* (calls-core.md 4).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_handlers.h"
#include "events.h"
#include "frame.h"
#include "model.h"
#include "persist.h"
#include "props.h"
#include "util.h"

static int
not_found(struct reply *r, const struct vm *vm, const char *f)
{
	return reply_error(r, "QubesFeatureNotFoundError",
	    "Feature not set for domain %s: %s", vm->name, f);
}

int
api_vm_feature_list(struct call *c, struct reply *r)
{
	size_t i;

	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	for (i = 0; i < c->dest->features.n; i++)
		sb_addf(&r->out, "%s\n", c->dest->features.v[i].key);
	return API_OK;
}

int
api_vm_feature_get(struct call *c, struct reply *r)
{
	const char *v = kvl_get(&c->dest->features, c->arg);

	if (v == NULL)
		return not_found(r, c->dest, c->arg);
	sb_adds(&r->out, v);
	return API_OK;
}

static int
check_result(struct call *c, struct reply *r, const char *v)
{
	if (v == NULL)
		return not_found(r, c->dest, c->arg);
	sb_adds(&r->out, v);
	return API_OK;
}

int
api_vm_feature_checkwithtemplate(struct call *c, struct reply *r)
{
	return check_result(c, r,
	    feature_check_with_template(c->dest, c->arg));
}

int
api_vm_feature_checkwithnetvm(struct call *c, struct reply *r)
{
	return check_result(c, r, feature_check_with_netvm(c->dest, c->arg));
}

int
api_vm_feature_checkwithadminvm(struct call *c, struct reply *r)
{
	const char *v = kvl_get(&c->dest->features, c->arg);
	struct vm *d0 = app_dom0(app);

	if (v == NULL && d0 != NULL && d0 != c->dest)
		v = kvl_get(&d0->features, c->arg);
	return check_result(c, r, v);
}

int
api_vm_feature_checkwithtemplateandadminvm(struct call *c, struct reply *r)
{
	const char *v = feature_check_with_template(c->dest, c->arg);
	struct vm *d0 = app_dom0(app);

	if (v == NULL && d0 != NULL && d0 != c->dest)
		v = kvl_get(&d0->features, c->arg);
	return check_result(c, r, v);
}

/*
 * Checks of the domain-feature-pre-set / -set handlers.  qubesd runs the
 * vm-config.* checks after storing the value; we check first so that a
 * refused value is never kept (docs/divergences.md).
 */
static int
check_feature(struct reply *r, const char *f, const char *v, size_t len)
{
	size_t i, n;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
			return reply_error(r, "QubesValueError",
			    "Feature value contains a control character");
		if (ch == 0x7f)
			return reply_error(r, "QubesValueError",
			    "Feature value contains a control character");
	}
	for (i = 0; f[i]; i++)
		if ((unsigned char)f[i] <= 0x20 || (unsigned char)f[i] >= 0x7f)
			return reply_error(r, "QubesValueError",
			    "Feature name contains a control character");
	if (strncmp(f, "service.", 8) == 0) {
		const char *s = f + 8;

		if (*s == '\0')
			return reply_error(r, "QubesValueError",
			    "Service name cannot be empty");
		if (strchr(s, '/') != NULL)
			return reply_error(r, "QubesValueError",
			    "Service name cannot contain a slash");
		if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
			return reply_error(r, "QubesValueError",
			    "Service name cannot be \".\" or \"..\"");
		if (strlen(s) > 48)
			return reply_error(r, "QubesValueError",
			    "Service name must not exceed 48 bytes");
	}
	if (strncmp(f, "vm-config.", 10) == 0) {
		const char *s = f + 10;

		n = strlen(s);
		if (n > 46)
			return reply_error(r, "QubesValueError",
			    "VM config name must not exceed 46 bytes");
		if (n == 0)
			return reply_error(r, "QubesValueError",
			    "Empty config name not allowed");
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return reply_error(r, "QubesValueError",
			    "Config name must start with an ASCII letter");
	}
	return API_OK;
}

int
api_vm_feature_set(struct call *c, struct reply *r)
{
	char *value;
	const char *f = c->arg;
	int rc;

	/* sanitize start */
	if (!frame_is_ascii(c->untrusted_payload, c->payload_len))
		return reply_refuse(r, "non-ASCII feature value");
	if (memchr(c->untrusted_payload, '\0', c->payload_len) != NULL)
		return reply_error(r, "QubesValueError",
		    "Feature value contains a control character");
	rc = check_feature(r, f, (const char *)c->untrusted_payload,
	    c->payload_len);
	if (rc != API_OK)
		return rc;
	value = malloc(c->payload_len + 1);
	if (value == NULL)
		fatalx("out of memory");
	memcpy(value, c->untrusted_payload, c->payload_len);
	value[c->payload_len] = '\0';
	/* sanitize end */

	feature_set_ev(c->dest, f, value);
	free(value);
	return persist_commit(r);
}

int
api_vm_feature_remove(struct call *c, struct reply *r)
{
	if (kvl_get(&c->dest->features, c->arg) == NULL)
		return not_found(r, c->dest, c->arg);
	feature_del_ev(c->dest, c->arg);
	return persist_commit(r);
}
