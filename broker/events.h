/*
 * events.h - qubesd events (calls-core.md 0.4, 0.5, 9).
 *
 * Handlers fire events while they change the model; events are queued and
 * delivered only when the change is committed (persist_commit), so that a
 * change rolled back after a failed save is never announced.  Read-only
 * paths never fire.  Subscribers (admin.Events) attach here.
 *
 * ev_fire() takes the subject qube name (NULL for the global object), the
 * event name and a NULL-terminated list of key, value strings; values are
 * the str() forms ("None", "True", names, decimal).
 */
#ifndef EVENTS_H
#define EVENTS_H

#include <stddef.h>

void	ev_fire(const char *subject, const char *event, ...)
	    __attribute__((sentinel));
/* Deliver the queued events / drop them. */
void	ev_commit(void);
void	ev_discard(void);
/* Number of events queued (tests). */
size_t	ev_pending(void);

/* Delivery hook: called once per committed event (subscribers). */
typedef void (*ev_sink)(const char *subject, const char *event,
    const char *const *kv, size_t nkv, void *ctx);
void	ev_set_sink(ev_sink sink, void *ctx);

#endif
