/*
 * api_vm_tag.c - admin.vm.tag.* (calls-core.md 5) and the created-by-*
 * reactions of qubes.ext.admin / qubes.ext.gui.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_handlers.h"
#include "events.h"
#include "model.h"
#include "persist.h"
#include "props.h"
#include "util.h"
#include "validate.h"

static int
is_created_by(const char *tag)
{
	return strncmp(tag, "created-by-", 11) == 0;
}

/*
 * Preconditions of adding `tag`: for created-by-<X>, X must exist and its
 * tag-created-vm-with words must be valid tags and its set-created-guivm
 * must name a qube.  qubesd discovers these only after the tag is added
 * (silent close, change kept in memory); we check before changing
 * anything (docs/divergences.md).
 */
int
tag_add_check(struct reply *r, const char *tag)
{
	struct vm *x;
	const char *w, *g;
	char *copy, *tok, *save;

	if (!is_created_by(tag))
		return API_OK;
	x = app_vm(app, tag + 11);
	if (x == NULL)
		return reply_refuse(r, "created-by tag names no qube");
	w = kvl_get(&x->features, "tag-created-vm-with");
	if (w != NULL) {
		copy = xstrdup(w);
		for (tok = strtok_r(copy, " \t\n\r\v\f", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t\n\r\v\f", &save)) {
			if (validate_tag(tok) < 0) {
				free(copy);
				return reply_refuse(r,
				    "invalid tag in tag-created-vm-with");
			}
		}
		free(copy);
	}
	g = kvl_get(&x->features, "set-created-guivm");
	if (g != NULL && *g != '\0' && app_vm(app, g) == NULL)
		return reply_refuse(r, "set-created-guivm names no qube");
	return API_OK;
}

static void
tag_event(const struct vm *vm, const char *kind, const char *tag)
{
	char ev[256];

	snprintf(ev, sizeof(ev), "%s:%s", kind, tag);
	ev_fire(vm->name, ev, "tag", tag, NULL);
}

int
tag_add(struct vm *vm, const char *tag)
{
	struct vm *x;
	const char *w, *g;
	char *copy, *tok, *save;

	if (strset_add(&vm->tags, tag) != 1)
		return 0;
	/* reactions run before subscribers see the post-event */
	if (is_created_by(tag) && (x = app_vm(app, tag + 11)) != NULL) {
		w = kvl_get(&x->features, "tag-created-vm-with");
		if (w != NULL) {
			copy = xstrdup(w);
			for (tok = strtok_r(copy, " \t\n\r\v\f", &save); tok;
			    tok = strtok_r(NULL, " \t\n\r\v\f", &save))
				if (validate_tag(tok) == 0)
					tag_add(vm, tok);
			free(copy);
		}
		g = kvl_get(&x->features, "set-created-guivm");
		if (g != NULL && *g != '\0' && app_vm(app, g) != NULL &&
		    vmprop_applies(vm, VMP_guivm)) {
			char *old = NULL;
			int ro = vmprop_get(vm, VMP_guivm, &old);

			ev_fire(vm->name, "property-pre-set:guivm", "name",
			    "guivm", "newvalue", g, "oldvalue",
			    ro == VAL_SET ? old : "None", NULL);
			pval_set(&vm->props[VMP_guivm], g);
			vm_update_gui_audio_tags(vm, 1);
			ev_fire(vm->name, "property-set:guivm", "name",
			    "guivm", "newvalue", g, "oldvalue",
			    ro == VAL_SET ? old : "None", NULL);
			free(old);
		}
	}
	tag_event(vm, "domain-tag-add", tag);
	return 1;
}

int
api_vm_tag_list(struct call *c, struct reply *r)
{
	size_t i;

	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	for (i = 0; i < c->dest->tags.n; i++)
		sb_addf(&r->out, "%s\n", c->dest->tags.v[i]);
	return API_OK;
}

int
api_vm_tag_get(struct call *c, struct reply *r)
{
	if (validate_tag(c->arg) < 0)
		return reply_refuse(r, "invalid tag");
	sb_adds(&r->out, strset_has(&c->dest->tags, c->arg) ? "1" : "0");
	return API_OK;
}

static int
tag_hook(struct call *c, struct reply *r)
{
	if (validate_tag(c->arg) < 0)
		return reply_refuse(r, "invalid tag");
	if (is_created_by(c->arg) && c->src->cls != VMC_ADMIN)
		return reply_refuse(r, "changing this tag is prohibited");
	return API_OK;
}

int
api_vm_tag_set(struct call *c, struct reply *r)
{
	int rc;

	if ((rc = tag_hook(c, r)) != API_OK)
		return rc;
	if (!strset_has(&c->dest->tags, c->arg) &&
	    (rc = tag_add_check(r, c->arg)) != API_OK)
		return rc;
	tag_add(c->dest, c->arg);
	return persist_commit(r);
}

int
api_vm_tag_remove(struct call *c, struct reply *r)
{
	int rc;

	if ((rc = tag_hook(c, r)) != API_OK)
		return rc;
	if (!strset_has(&c->dest->tags, c->arg))
		return reply_error(r, "QubesTagNotFoundError",
		    "Tag not set for domain %s: %s", c->dest->name, c->arg);
	strset_del(&c->dest->tags, c->arg);
	tag_event(c->dest, "domain-tag-delete", c->arg);
	return persist_commit(r);
}
