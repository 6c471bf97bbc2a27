/*
 * poolcfg.c - admin.pool.Add payload parser (storage.md 5.5).
 */
#include <stdlib.h>
#include <string.h>

#include "poolcfg.h"
#include "validate.h"

/* Python str.splitlines() boundaries within ASCII */
static int
is_line_break(char c)
{
	return c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
	    c == '\x1c' || c == '\x1d' || c == '\x1e';
}

static int
is_param(const char *const *params, const char *key)
{
	size_t i;

	for (i = 0; params != NULL && params[i] != NULL; i++)
		if (strcmp(params[i], key) == 0)
			return 1;
	return 0;
}

int
poolcfg_parse(const char *untrusted_payload, size_t len,
    const char *const *params, int (*pool_exists)(const char *name),
    struct kvlist *out, const char **why, struct strbuf *err)
{
	const char *p = untrusted_payload, *end = p + len, *eol, *eq;
	const char *name;
	char *key = NULL, *val = NULL;
	size_t i, nlines = 0;
	unsigned char c;
	int first;

	*why = NULL;
	/* sanitize start */
	for (i = 0; i < len; i++) {
		c = (unsigned char)p[i];
		if (c >= 0x80) {
			*why = "non-ASCII pool configuration";
			return POOLCFG_REFUSE;
		}
		if ((c < 0x20 && !is_line_break((char)c)) || c == 0x7f) {
			*why = "control character in pool configuration";
			return POOLCFG_REFUSE;
		}
	}
	while (p < end) {
		for (eol = p; eol < end && !is_line_break(*eol); eol++)
			;
		if (++nlines > POOLCFG_MAX_LINES) {
			*why = "too many lines";
			return POOLCFG_REFUSE;
		}
		eq = memchr(p, '=', (size_t)(eol - p));
		if (eq == NULL) {
			*why = "line without '='";
			return POOLCFG_REFUSE;
		}
		key = strndup(p, (size_t)(eq - p));
		val = strndup(eq + 1, (size_t)(eol - eq - 1));
		if (key == NULL || val == NULL)
			goto nomem;
		if (kvl_get(out, key) != NULL) {
			free(key);
			free(val);
			*why = "duplicated key";
			return POOLCFG_REFUSE;
		}
		if (kvl_set(out, key, val) < 0)
			goto nomem;
		free(key);
		free(val);
		key = val = NULL;
		/* "\r\n" is one boundary */
		if (eol < end && *eol == '\r' && eol + 1 < end &&
		    eol[1] == '\n')
			eol++;
		p = eol + 1;
	}
	name = kvl_get(out, "name");
	if (name == NULL) {
		*why = "no pool name";
		return POOLCFG_REFUSE;
	}
	/* qubesd lets an empty name through and fails later (abort) */
	if (validate_pool_name(name) < 0) {
		*why = "invalid pool name";
		return POOLCFG_REFUSE;
	}
	if (pool_exists != NULL && pool_exists(name)) {
		*why = "pool exists";
		return POOLCFG_REFUSE;
	}
	/* sanitize end */
	first = 1;
	for (i = 0; i < out->n; i++) {
		if (strcmp(out->v[i].key, "name") == 0 ||
		    is_param(params, out->v[i].key))
			continue;
		if (first)
			sb_adds(err, "unexpected driver options:");
		sb_addf(err, " %s", out->v[i].key);
		first = 0;
	}
	if (!first)
		return POOLCFG_ERROR;
	return POOLCFG_OK;
nomem:
	free(key);
	free(val);
	*why = "out of memory";
	return POOLCFG_REFUSE;
}
