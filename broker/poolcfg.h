/*
 * poolcfg.h - the payload of admin.pool.Add (storage.md 5.5).
 *
 * poolcfg_parse() runs steps 2-5 of qubesd's pool_add on the untrusted
 * payload, in qubesd's order: ASCII, split into lines as Python's
 * str.splitlines() does (\n \r \r\n \v \f \x1c \x1d \x1e), each line
 * "key=value" split at the first '=', no duplicate key, a `name` made of
 * [A-Za-z0-9_.-]+ that is not an existing pool (pool_exists), and every
 * other key one of the driver's parameters.  We also refuse NUL and the
 * other control characters (they cannot be stored in qubes.xml).
 *
 * Result: POOLCFG_OK with every key=value in payload order appended to
 * *out (the caller owns and frees it); POOLCFG_REFUSE (a silent close in
 * qubesd) with the reason in *why; POOLCFG_ERROR with the QubesException
 * message "unexpected driver options: k1 k2" in *err.  On failure *out
 * may hold a part of the payload: the caller frees it anyway.
 */
#ifndef POOLCFG_H
#define POOLCFG_H

#include <stddef.h>

#include "model.h"
#include "strbuf.h"

enum {
	POOLCFG_OK,
	POOLCFG_REFUSE,
	POOLCFG_ERROR,
};

/* Largest number of lines we look at (64 KiB of payload has fewer). */
#define POOLCFG_MAX_LINES	65536

int	poolcfg_parse(const char *untrusted_payload, size_t len,
	    const char *const *params, int (*pool_exists)(const char *name),
	    struct kvlist *out, const char **why, struct strbuf *err);

#endif
