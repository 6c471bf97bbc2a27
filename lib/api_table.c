/*
 * api_table.c - expands every lib/api/<family>.def into one const table.
 */
#include <string.h>

#include "api.h"

#define METHOD(n, fam, s, d, a, p, m, sc, r, f, i) \
	{ n, #fam, s, d, a, p, m, sc, r, f, i },

const struct api_method api_methods[] = {
#include "api/vm.def"
#include "api/vm_power.def"
#include "api/vm_property.def"
#include "api/property.def"
#include "api/vm_feature.def"
#include "api/vm_tag.def"
#include "api/label.def"
#include "api/vm_volume.def"
#include "api/pool.def"
#include "api/vm_device.def"
#include "api/vm_firewall.def"
#include "api/backup.def"
#include "api/events.def"
#include "api/internal.def"
#include "api/misc.def"
};

#undef METHOD

const size_t api_methods_count = sizeof(api_methods) / sizeof(api_methods[0]);

const struct api_method *
api_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < api_methods_count; i++)
		if (strcmp(api_methods[i].name, name) == 0)
			return &api_methods[i];
	return NULL;
}

const struct api_method *
api_lookup_sock(const char *name, enum api_sock s)
{
	const struct api_method *m = api_lookup(name);

	if (m == NULL || m->sock != s)
		return NULL;
	return m;
}

const char *
api_policy_include(const struct api_method *m)
{
	int writes = (m->rwx & (RWX_W | RWX_X)) != 0;

	if (m->scope == SCOPE_GLOBAL)
		return writes ? "admin-global-rwx" : "admin-global-ro";
	return writes ? "admin-local-rwx" : "admin-local-ro";
}

const char *
api_rwx_str(unsigned rwx)
{
	static const char *const s[8] = {
		"-", "r", "w", "rw", "x", "rx", "wx", "rwx"
	};

	return s[rwx & 7u];
}
