/*
 * test_handlers.c - the call table and the broker's handler registry
 * agree: every implemented row has a handler, every handler a row.
 */
#include <string.h>

#include "api.h"
#include "dispatch.h"
#include "unit.h"

int
main(void)
{
	size_t i;
	const char *n;
	const struct api_method *m;

	for (i = 0; i < api_methods_count; i++) {
		m = &api_methods[i];
		if (m->sock == SOCK_NONE)
			continue;
		ok((handler_lookup(m->name) != NULL) == (m->impl != 0),
		    "%s: implemented=%d matches the handler registry",
		    m->name, m->impl);
	}
	for (i = 0; (n = handler_name(i)) != NULL; i++) {
		m = api_lookup(n);
		ok(m != NULL && m->impl, "handler %s has an implemented row",
		    n);
	}
	return done_testing();
}
