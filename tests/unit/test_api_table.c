/*
 * test_api_table.c - consistency of the call table (lib/api/<family>.def,
 * lib/api_table.c) with protocol.md 1, calls-core.md 1 and the default
 * policy of policy.md.
 */
#include <string.h>

#include "api.h"
#include "unit.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const char *const vm_classes[] = {
	"AdminVM", "AppVM", "DispVM", "StandaloneVM", "TemplateVM",
};

static int
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
test_rows(void)
{
	const struct api_method *m, *n;
	size_t i, j, dups = 0, bad;
	const char *p;

	ok(api_methods_count > 100, "table has %zu rows", api_methods_count);
	for (i = 0; i < api_methods_count; i++)
		for (j = i + 1; j < api_methods_count; j++)
			if (strcmp(api_methods[i].name,
			    api_methods[j].name) == 0) {
				diag("duplicate: %s", api_methods[i].name);
				dups++;
			}
	is_int(dups, 0, "no duplicate names");

	for (i = 0; i < api_methods_count; i++) {
		m = &api_methods[i];
		bad = 0;
		if (m->name == NULL || m->name[0] == '\0')
			bad++;
		/* a name is a qrexec service name: no '+', no space */
		for (p = m->name; p != NULL && *p != '\0'; p++)
			if (!((*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '.' ||
			    *p == '_'))
				bad++;
		if (m->family == NULL || m->family[0] == '\0')
			bad++;
		if (m->rwx == 0 || m->rwx > (RWX_R | RWX_W | RWX_X))
			bad++;
		/* "no payload" rows have no bound; the others a sane one */
		if (m->payload == PL_NONE && m->payload_max != 0)
			bad++;
		if (m->payload != PL_NONE && m->sock != SOCK_NONE &&
		    (m->payload_max == 0 || m->payload_max > API_PAYLOAD_MAX))
			bad++;
		if (!ok(bad == 0, "row %s: name, family, rwx, payload bound",
		    m->name ? m->name : "(null)"))
			diag("family=%s rwx=%u payload=%d max=%zu",
			    m->family ? m->family : "(null)", m->rwx,
			    (int)m->payload, m->payload_max);
		n = api_lookup(m->name);
		ok(n == m, "  api_lookup finds that very row");
	}
}

static void
test_sockets(void)
{
	static const char *const internal[] = {
		"internal.GetSystemInfo", "internal.vm.volume.ImportBegin",
		"internal.vm.volume.ImportEnd", "internal.SuspendPre",
		"internal.SuspendPost",
	};
	static const char *const misc[] = {
		"qubes.FeaturesRequest", "qubes.NotifyTools",
		"qubes.NotifyUpdates",
	};
	const struct api_method *m;
	size_t i, nint = 0, nmisc = 0;

	for (i = 0; i < api_methods_count; i++) {
		m = &api_methods[i];
		if (has_prefix(m->name, "internal.")) {
			nint++;
			ok(m->sock == SOCK_INTERNAL && m->file == FILE_NONE,
			    "%s: internal socket, no service file", m->name);
		} else if (has_prefix(m->name, "qubes.")) {
			nmisc++;
			ok(m->sock == SOCK_MISC, "%s: misc socket", m->name);
		} else {
			ok(has_prefix(m->name, "admin.") &&
			    (m->sock == SOCK_ADMIN || m->sock == SOCK_NONE),
			    "%s: admin socket (or script only)", m->name);
		}
		if (m->sock == SOCK_NONE)
			ok(m->file == FILE_SCRIPT,
			    "%s: no socket means a script", m->name);
	}
	is_int(nint, NELEM(internal), "exactly the internal.* of 4.2");
	for (i = 0; i < NELEM(internal); i++) {
		m = api_lookup_sock(internal[i], SOCK_INTERNAL);
		ok(m != NULL, "%s on the internal socket", internal[i]);
		ok(api_lookup_sock(internal[i], SOCK_ADMIN) == NULL,
		    "  and not on the admin socket");
	}
	is_int(nmisc, NELEM(misc), "exactly the qubes.* of 4.2");
	for (i = 0; i < NELEM(misc); i++) {
		ok(api_lookup_sock(misc[i], SOCK_MISC) != NULL,
		    "%s on the misc socket", misc[i]);
		ok(api_lookup_sock(misc[i], SOCK_ADMIN) == NULL,
		    "  and not on the admin socket");
	}
	ok(api_lookup_sock("admin.vm.List", SOCK_ADMIN) != NULL,
	    "admin.vm.List on the admin socket");
	ok(api_lookup_sock("admin.vm.List", SOCK_INTERNAL) == NULL,
	    "  and not on the internal socket");
}

static void
test_lookup(void)
{
	static const char *const absent[] = {
		"", "admin", "admin.vm", "admin.vm.list", "admin.vm.List ",
		" admin.vm.List", "admin.vm.List+", "ADMIN.VM.LIST",
		"admin.vm.NoSuchMethod",
		/* not implemented by qubesd 4.2 although a link exists */
		"admin.vm.property.HelpRst", "admin.property.HelpRst",
		"admin.vm.firewall.Flush", "admin.vm.firewall.GetPolicy",
		"admin.vm.firewall.SetPolicy", "admin.pool.volume.Info",
		"admin.pool.volume.Resize", "admin.pool.volume.Snapshot",
		/* absent from 4.2 and 4.3 */
		"internal.vm.Start", "internal.vm.Create.DispVM",
		"internal.vm.CleanupDispVM",
		"admin.vm.Create.", "admin.vm.Create.Foo",
	};
	size_t i;

	for (i = 0; i < NELEM(absent); i++)
		ok(api_lookup(absent[i]) == NULL, "no method %s",
		    unit_qs(absent[i]));
}

static void
test_create(void)
{
	const struct api_method *m;
	char name[64];
	size_t i, ncreate = 0, ninpool = 0;
	int admin;

	for (i = 0; i < api_methods_count; i++) {
		if (has_prefix(api_methods[i].name, "admin.vm.Create."))
			ncreate++;
		if (has_prefix(api_methods[i].name, "admin.vm.CreateInPool."))
			ninpool++;
	}
	is_int(ncreate, NELEM(vm_classes), "one Create.* per class");
	is_int(ninpool, NELEM(vm_classes), "one CreateInPool.* per class");

	for (i = 0; i < NELEM(vm_classes); i++) {
		admin = strcmp(vm_classes[i], "AdminVM") == 0;
		snprintf(name, sizeof(name), "admin.vm.Create.%s",
		    vm_classes[i]);
		m = api_lookup(name);
		if (ok(m != NULL, "%s present", name)) {
			ok(m->sock == SOCK_ADMIN && m->dest == DEST_DOM0 &&
			    m->payload == PL_CREATE && m->scope ==
			    SCOPE_GLOBAL && strcmp(m->family, "vm") == 0,
			    "  admin socket, dom0, Create payload, global");
			is_int(m->file, admin ? FILE_NONE : FILE_SOCK,
			    "  %s", admin ? "no service file (dom0 only)" :
			    "socket link");
		}
		snprintf(name, sizeof(name), "admin.vm.CreateInPool.%s",
		    vm_classes[i]);
		m = api_lookup(name);
		if (ok(m != NULL, "%s present", name)) {
			ok(m->sock == SOCK_ADMIN && m->dest == DEST_DOM0 &&
			    m->payload == PL_CREATE,
			    "  admin socket, dom0, Create payload");
			is_int(m->file, admin ? FILE_NONE : FILE_SOCK,
			    "  %s", admin ? "no service file (dom0 only)" :
			    "socket link");
		}
	}
}

static void
test_policy(void)
{
	/* spot checks, as listed in policy.md */
	static const struct {
		const char	*name;
		const char	*include;
	} spots[] = {
		{ "admin.vm.List", "admin-global-ro" },
		{ "admin.vm.CurrentState", "admin-local-ro" },
		{ "admin.vm.property.Get", "admin-local-ro" },
		{ "admin.vm.property.Set", "admin-local-rwx" },
		{ "admin.property.Set", "admin-global-rwx" },
		{ "admin.vm.Start", "admin-local-rwx" },
		{ "admin.vm.firewall.Reload", "admin-local-rwx" },
		{ "admin.backup.Execute", "admin-global-rwx" },
		{ "admin.backup.Info", "admin-local-ro" },
		{ "admin.Events", "admin-global-ro" },
		{ "admin.vm.Stats", "admin-global-ro" },
		{ "admin.vm.Console", "admin-local-rwx" },
		{ "admin.vm.volume.Import", "admin-local-rwx" },
		{ "admin.vm.volume.Info", "admin-local-ro" },
		{ "admin.label.Create", "admin-global-rwx" },
		{ "admin.pool.Add", "admin-global-rwx" },
		{ "admin.vm.Create.AppVM", "admin-global-rwx" },
		{ "admin.vm.CreateDisposable", "admin-global-rwx" },
		{ "admin.vm.device.pci.Attach", "admin-local-rwx" },
		{ "admin.deviceclass.List", "admin-global-ro" },
	};
	/* the rule of calls-core.md 0, on synthetic rows */
	static const struct {
		enum api_scope	 scope;
		unsigned	 rwx;
		const char	*include;
	} rules[] = {
		{ SCOPE_LOCAL, RWX_R, "admin-local-ro" },
		{ SCOPE_LOCAL, RWX_W, "admin-local-rwx" },
		{ SCOPE_LOCAL, RWX_X, "admin-local-rwx" },
		{ SCOPE_LOCAL, RWX_R | RWX_X, "admin-local-rwx" },
		{ SCOPE_LOCAL, RWX_R | RWX_W | RWX_X, "admin-local-rwx" },
		{ SCOPE_GLOBAL, RWX_R, "admin-global-ro" },
		{ SCOPE_GLOBAL, RWX_W, "admin-global-rwx" },
		{ SCOPE_GLOBAL, RWX_X, "admin-global-rwx" },
		{ SCOPE_GLOBAL, RWX_R | RWX_W, "admin-global-rwx" },
	};
	struct api_method row;
	const struct api_method *m;
	const char *want;
	size_t i;

	for (i = 0; i < NELEM(spots); i++) {
		m = api_lookup(spots[i].name);
		if (ok(m != NULL, "%s present", spots[i].name))
			is_str(api_policy_include(m), spots[i].include,
			    "  policy include %s", spots[i].include);
	}
	for (i = 0; i < NELEM(rules); i++) {
		memset(&row, 0, sizeof(row));
		row.name = "x";
		row.scope = rules[i].scope;
		row.rwx = rules[i].rwx;
		is_str(api_policy_include(&row), rules[i].include,
		    "rule: scope %s, %s", rules[i].scope == SCOPE_LOCAL ?
		    "local" : "global", api_rwx_str(rules[i].rwx));
	}
	for (i = 0; i < api_methods_count; i++) {
		m = &api_methods[i];
		if (m->scope == SCOPE_GLOBAL)
			want = m->rwx & (RWX_W | RWX_X) ? "admin-global-rwx" :
			    "admin-global-ro";
		else
			want = m->rwx & (RWX_W | RWX_X) ? "admin-local-rwx" :
			    "admin-local-ro";
		is_str(api_policy_include(m), want, "%s: %s", m->name, want);
	}
}

static void
test_rwx_str(void)
{
	static const char *const want[] = {
		"-", "r", "w", "rw", "x", "rx", "wx", "rwx",
	};
	unsigned i;

	for (i = 0; i < NELEM(want); i++)
		is_str(api_rwx_str(i), want[i], "api_rwx_str(%u)", i);
	is_str(api_rwx_str(8), "-", "api_rwx_str masks to 3 bits");
}

int
main(void)
{
	test_rows();
	test_sockets();
	test_lookup();
	test_create();
	test_policy();
	test_rwx_str();
	return done_testing();
}
