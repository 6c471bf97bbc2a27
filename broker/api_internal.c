/*
 * api_internal.c - internal.GetSystemInfo (protocol.md 9); the data and
 * its JSON are built by sysinfo.c, shared with the policy filter.
 */
#include <stdlib.h>

#include "api_handlers.h"
#include "model.h"
#include "sysinfo.h"

int
api_internal_getsysteminfo(struct call *c, struct reply *r)
{
	char *s;

	if (c->dest->cls != VMC_ADMIN)
		return reply_refuse(r, "destination must be dom0");
	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	s = sysinfo_json(app);
	if (s == NULL)
		return reply_refuse(r, "JSON encoding failed");
	sb_adds(&r->out, s);
	free(s);
	return API_OK;
}
