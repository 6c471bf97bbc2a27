/*
 * events.c - the queue between handlers and event subscribers.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "log.h"

#define EV_MAX_KV	8
#define EV_MAX_QUEUED	4096

struct event {
	char	*subject;
	char	*name;
	char	*kv[2 * EV_MAX_KV];
	size_t	 nkv;
};

static struct event ev_queue[EV_MAX_QUEUED];
static size_t ev_n;
static ev_sink ev_sink_fn;
static void *ev_sink_ctx;

static void
ev_clear(struct event *e)
{
	size_t i;

	free(e->subject);
	free(e->name);
	for (i = 0; i < 2 * e->nkv; i++)
		free(e->kv[i]);
	memset(e, 0, sizeof(*e));
}

void
ev_fire(const char *subject, const char *event, ...)
{
	struct event *e;
	const char *k, *v;
	va_list ap;

	if (ev_n == EV_MAX_QUEUED) {
		log_warnx("event queue full, dropping %s", event);
		return;
	}
	e = &ev_queue[ev_n];
	e->subject = strdup(subject ? subject : "");
	e->name = strdup(event);
	va_start(ap, event);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (e->nkv == EV_MAX_KV)
			break;
		e->kv[2 * e->nkv] = strdup(k);
		e->kv[2 * e->nkv + 1] = strdup(v ? v : "None");
		e->nkv++;
	}
	va_end(ap);
	ev_n++;
	log_debug("event %s %s", subject ? subject : "-", event);
}

void
ev_commit(void)
{
	size_t i;

	for (i = 0; i < ev_n; i++) {
		if (ev_sink_fn != NULL)
			ev_sink_fn(ev_queue[i].subject, ev_queue[i].name,
			    (const char *const *)ev_queue[i].kv,
			    ev_queue[i].nkv, ev_sink_ctx);
		ev_clear(&ev_queue[i]);
	}
	ev_n = 0;
}

void
ev_discard(void)
{
	size_t i;

	for (i = 0; i < ev_n; i++)
		ev_clear(&ev_queue[i]);
	ev_n = 0;
}

size_t
ev_pending(void)
{
	return ev_n;
}

void
ev_set_sink(ev_sink sink, void *ctx)
{
	ev_sink_fn = sink;
	ev_sink_ctx = ctx;
}
