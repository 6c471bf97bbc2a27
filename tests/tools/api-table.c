/*
 * api-table - print what the call table (lib/api/<family>.def) generates:
 *
 *	api-table --readme   the README call table (Markdown)
 *	api-table --links    "<call> <family executable>" per installed link
 *	                     (the rows service_link_exe() names: plain
 *	                     forwarding rows -> qubes-admin-<family>, the
 *	                     misc socket's qubes.* rows -> qubes-misc, the
 *	                     streaming Import rows ->
 *	                     qubes-admin-<family>-import; lib/service.h)
 *	api-table --policy   the default admin policy (90-admin-default.policy)
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "service.h"

static const char *
sock_name(enum api_sock s)
{
	switch (s) {
	case SOCK_ADMIN:
		return "admin";
	case SOCK_INTERNAL:
		return "internal";
	case SOCK_MISC:
		return "misc";
	default:
		return "-";
	}
}

static const char *
dest_name(enum api_dest d)
{
	switch (d) {
	case DEST_DOM0:
		return "dom0";
	case DEST_ANY:
		return "any";
	default:
		return "VM";
	}
}

static int
readme(void)
{
	size_t i, impl = 0;
	const struct api_method *m;

	printf("| Call | Family | Socket | Dest | Scope | rwx | Payload | "
	    "Implemented |\n");
	printf("|------|--------|--------|------|-------|-----|---------|"
	    "-------------|\n");
	for (i = 0; i < api_methods_count; i++) {
		m = &api_methods[i];
		impl += m->impl != 0;
		printf("| `%s` | %s | %s | %s | %s | %s | %s | %s |\n",
		    m->name, m->family, sock_name(m->sock), dest_name(m->dest),
		    m->scope == SCOPE_GLOBAL ? "global" : "local",
		    api_rwx_str(m->rwx), m->payload == PL_NONE ? "no" : "yes",
		    m->impl ? "yes" : "not yet");
	}
	printf("\n%zu of %zu calls implemented.\n", impl, api_methods_count);
	return 0;
}

static int
links(void)
{
	size_t i;
	char exe[64];
	int rc;

	for (i = 0; i < api_methods_count; i++) {
		rc = service_link_exe(&api_methods[i], exe, sizeof(exe));
		if (rc == 0)
			continue;
		if (rc < 0) {
			fprintf(stderr, "api-table: family name too long: "
			    "%s\n", api_methods[i].family);
			return 1;
		}
		printf("%s %s\n", api_methods[i].name, exe);
	}
	return 0;
}

static int
policy(void)
{
	size_t i;
	const struct api_method *m;

	printf("## Default policy of the Admin API, generated from the call "
	    "table.\n"
	    "## Do not edit: it is replaced on upgrade. Put your own rules in "
	    "a file\n"
	    "## that sorts earlier (e.g. 30-admin-user.policy) or, better, "
	    "in the four\n"
	    "## include files below. Admin API calls control the whole "
	    "system: grant\n"
	    "## them to trusted qubes only, and always with target=dom0.\n"
	    "##\n"
	    "## include/admin-local-rwx   change one qube\n"
	    "## include/admin-local-ro    read one qube\n"
	    "## include/admin-global-rwx  change global settings\n"
	    "## include/admin-global-ro   read global settings\n\n");
	/* every Admin API call with a service file, implemented or not yet:
	 * a policy line for a call the broker does not serve yet is
	 * harmless (the call closes silently) */
	for (i = 0; i < api_methods_count; i++) {
		m = &api_methods[i];
		if (m->file == FILE_NONE || strncmp(m->name, "admin.", 6) != 0)
			continue;
		printf("!include-service %s * include/%s\n", m->name,
		    api_policy_include(m));
	}
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--readme") == 0)
		return readme();
	if (argc == 2 && strcmp(argv[1], "--links") == 0)
		return links();
	if (argc == 2 && strcmp(argv[1], "--policy") == 0)
		return policy();
	fprintf(stderr, "usage: api-table --readme|--links|--policy\n");
	return 2;
}
