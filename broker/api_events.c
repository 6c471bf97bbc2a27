/*
 * api_events.c - admin.Events (calls-core.md 9): the call only opens the
 * stream; control.c keeps the connection and feeds it the events that
 * events_filter() lets through.
 */
#include <stdio.h>
#include <string.h>

#include "api_handlers.h"
#include "frame.h"
#include "hook.h"
#include "model.h"

int
api_events(struct call *c, struct reply *r)
{
	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	/* the hook's filters are computed per event (events_filter) */
	frame_reply_event(&r->out, NULL, "connection-established", NULL, 0);
	return API_STREAM;
}

/*
 * admin.vm.Stats: the stream is opened here; control.c's sampler sends
 * the vm-stats records every stats_interval seconds.
 */
int
api_vm_stats(struct call *c, struct reply *r)
{
	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	frame_reply_event(&r->out, NULL, "connection-established", NULL, 0);
	r->stats = 1;
	return API_STREAM;
}

/* Event names qubesd never forwards for qube events (calls-core.md 9). */
static int
excluded(const char *event)
{
	static const char *const prefixes[] = { "admin-permission:",
	    "device-get:", "device-list:", "device-list-attached:", NULL };
	size_t i;

	if (strcmp(event, "domain-is-fully-usable") == 0)
		return 1;
	for (i = 0; prefixes[i] != NULL; i++)
		if (strncmp(event, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

int
events_filter(const char *src, const char *dest, const char *subject,
    const char *event, const char *const *kv, size_t nkv)
{
	const struct vm *s, *target = NULL;
	char arg[256];
	size_t i;

	if (*subject != '\0' && excluded(event))
		return 0;
	/* a qube's stream carries only that qube's events */
	if (strcmp(dest, "dom0") != 0 && strcmp(subject, dest) != 0)
		return 0;
	s = app_vm(app, src);
	if (s == NULL)
		return 0;
	if (s->cls == VMC_ADMIN)
		return 1;
	/* protocol.md 4.3: policy for admin.Events, "+" + the event name
	 * with ':' as '_', target = the subject, else the "vm" argument,
	 * else @adminvm */
	if ((size_t)snprintf(arg, sizeof(arg), "%s", event) >= sizeof(arg))
		return 0;
	for (i = 0; arg[i]; i++)
		if (arg[i] == ':')
			arg[i] = '_';
	if (*subject != '\0') {
		target = app_vm(app, subject);
	} else {
		for (i = 0; i < nkv; i++)
			if (strcmp(kv[2 * i], "vm") == 0)
				target = app_vm(app, kv[2 * i + 1]);
		if (target == NULL)
			target = app_dom0(app);
	}
	if (target == NULL)
		return 0;	/* a removed qube: nothing to evaluate */
	return hook_list_allows(s, "admin.Events", arg, target);
}
