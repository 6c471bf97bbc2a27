/*
 * api_label.c - admin.label.* (calls-core.md 6).
 */
#include <stdlib.h>
#include <string.h>

#include "api_handlers.h"
#include "frame.h"
#include "model.h"
#include "persist.h"
#include "props.h"
#include "validate.h"

static int
dest_dom0(struct call *c, struct reply *r)
{
	if (c->dest->cls != VMC_ADMIN)
		return reply_refuse(r, "destination must be dom0");
	return API_OK;
}

int
api_label_list(struct call *c, struct reply *r)
{
	size_t i;

	if (dest_dom0(c, r) != API_OK)
		return API_REFUSE;
	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	for (i = 0; i < app->nlabels; i++)
		sb_addf(&r->out, "%s\n", app->labels[i].name);
	return API_OK;
}

static struct label *
find(struct call *c, struct reply *r)
{
	struct label *l;

	l = app_label_lookup(app, c->arg);
	if (l == NULL)
		reply_error(r, "QubesValueError", "%s", "");
	return l;
}

int
api_label_get(struct call *c, struct reply *r)
{
	struct label *l;

	if (dest_dom0(c, r) != API_OK)
		return API_REFUSE;
	if ((l = find(c, r)) == NULL)
		return API_ERROR;
	sb_adds(&r->out, l->color);
	return API_OK;
}

int
api_label_index(struct call *c, struct reply *r)
{
	struct label *l;

	if (dest_dom0(c, r) != API_OK)
		return API_REFUSE;
	if ((l = find(c, r)) == NULL)
		return API_ERROR;
	sb_addf(&r->out, "%d", l->index);
	return API_OK;
}

int
api_label_create(struct call *c, struct reply *r)
{
	const char *p = (const char *)c->untrusted_payload;
	size_t len = c->payload_len, i;
	char color[9];
	int idx = 8;

	if (dest_dom0(c, r) != API_OK)
		return API_REFUSE;
	/* the empty name is accepted by 4.2; we refuse a nameless label */
	if (validate_label_name(c->arg) < 0 || *c->arg == '\0')
		return reply_refuse(r, "invalid label name");
	if (app_label_lookup(app, c->arg) != NULL)
		return reply_error(r, "QubesValueError",
		    "label already exists");
	/* sanitize start */
	if (!frame_is_ascii(p, len))
		return reply_refuse(r, "non-ASCII colour");
	while (len > 0 && (*p == ' ' || (*p >= '\t' && *p <= '\r') ||
	    (*p >= 0x1c && *p <= 0x1f))) {
		p++;
		len--;
	}
	while (len > 0 && (p[len - 1] == ' ' || (p[len - 1] >= '\t' &&
	    p[len - 1] <= '\r') || (p[len - 1] >= 0x1c && p[len - 1] <= 0x1f)))
		len--;
	if (validate_color(p, len) < 0)
		return reply_refuse(r, "invalid colour");
	memcpy(color, p, 8);
	color[8] = '\0';
	/* sanitize end */
	for (i = 0; i < app->nlabels; i++)
		if (app->labels[i].index > idx)
			idx = app->labels[i].index;
	if (app_add_label(app, idx + 1, c->arg, color) < 0)
		fatalx("out of memory");
	return persist_commit(r);
}

int
api_label_remove(struct call *c, struct reply *r)
{
	struct label *l;
	size_t i;

	if (dest_dom0(c, r) != API_OK)
		return API_REFUSE;
	if ((l = find(c, r)) == NULL)
		return API_ERROR;
	if (l->index <= 8)
		return reply_refuse(r, "default label");
	for (i = 0; i < app->nvms; i++) {
		const char *ln = vm_label_name(app->vms[i]);

		if (ln != NULL && strcmp(ln, l->name) == 0)
			return reply_error(r, "QubesException",
			    "label still in use");
	}
	app_remove_label(app, l);
	return persist_commit(r);
}
