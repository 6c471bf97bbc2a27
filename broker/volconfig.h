/*
 * volconfig.h - per-class volume configuration of a new qube.
 */
#ifndef VOLCONFIG_H
#define VOLCONFIG_H

#include "strbuf.h"

struct vm;

/*
 * Fill vm->volumes for root, private, volatile, kernel.  pool_all is the
 * CreateInPool "pool=" (or NULL), pools[i] its "pool:<volume>=" values.
 * On error returns -1 with the QubesException message in err.
 */
int	volconfig_create(struct vm *vm, const char *pool_all,
	    const char *const pools[4], struct strbuf *err);

#endif
