/*
 * hook.c - admin-permission filters; see hook.h.
 *
 * The reference (qubes/ext/admin.py) evaluates the policy once per listed
 * qube with the system information of the moment.  So do we, but the
 * handler calls us once per qube without telling where a listing starts;
 * rebuilding the system information for each call would make a listing
 * quadratic in allocations.  It is cached instead, keyed by an exact
 * fingerprint of the model data it holds (names, classes, tags, the
 * dispvm properties, labels, guivm), which is cheap to recompute and
 * compare.  Power states are not cached: the evaluator asks libvirt
 * through the sysinfo callback, only for autostart=no rules.
 *
 * The state below is the broker's filter configuration, set once at
 * start-up (hook_policy_init) and refreshed lazily; it is the one
 * deliberate file-scope state outside model.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hook.h"
#include "log.h"
#include "model.h"
#include "policy.h"
#include "strbuf.h"
#include "sysinfo.h"

#define FP_CAP	(64u * 1024u * 1024u)

static struct {
	char			*dir;
	struct policy		*policy;	/* NULL: not loaded */
	struct policy_sysinfo	*si;
	struct strbuf		 fp;		/* model fingerprint of si */
	struct strbuf		 scratch;
	int			 init;
} hs;

static void
policy_reload(void)
{
	struct policy_load_opts o;
	struct strbuf sb;
	struct policy *p;
	size_t i, n;

	memset(&o, 0, sizeof(o));
	o.dir = hs.dir;
	p = policy_load(&o);
	if (p == NULL) {
		log_warn("loading the policy from %s", hs.dir);
		return;		/* keep the old one, retry next time */
	}
	policy_free(hs.policy);
	hs.policy = p;
	n = policy_nerrors(p);
	if (n == 0) {
		log_info("policy loaded from %s: %zu rules", hs.dir,
		    policy_nrules(p));
		return;
	}
	sb_init(&sb, 0);
	for (i = 0; i < n; i++) {
		sb_reset(&sb);
		policy_format_error(&sb, policy_error_at(p, i));
		log_warnx("error loading policy: %s", sb.buf ? sb.buf : "");
	}
	sb_free(&sb);
	log_warnx("policy in %s is invalid (%zu errors): filtered listings "
	    "show nothing to non-dom0 callers", hs.dir, n);
}

int
hook_policy_init(const char *policy_dir)
{
	hook_cleanup();
	if ((hs.dir = strdup(policy_dir)) == NULL)
		return -1;
	sb_init(&hs.fp, FP_CAP);
	sb_init(&hs.scratch, FP_CAP);
	hs.init = 1;
	policy_reload();
	return 0;
}

void
hook_cleanup(void)
{
	if (!hs.init)
		return;
	free(hs.dir);
	policy_free(hs.policy);
	policy_sysinfo_free(hs.si);
	sb_free(&hs.fp);
	sb_free(&hs.scratch);
	memset(&hs, 0, sizeof(hs));
}

/* Everything sysinfo_policy() reads from the model, except power. */
static void
fingerprint(struct strbuf *sb)
{
	struct sysinfo_entry e;
	const struct vm *vm;
	size_t i, j;

	sb_reset(sb);
	for (i = 0; i < app->nvms; i++) {
		vm = app->vms[i];
		sysinfo_entry(vm, &e);
		sb_add(sb, e.name, strlen(e.name) + 1);
		sb_add(sb, e.type, strlen(e.type) + 1);
		sb_addc(sb, e.template_for_dispvms ? '1' : '0');
		sb_add(sb, e.default_dispvm ? e.default_dispvm : "\1",
		    strlen(e.default_dispvm ? e.default_dispvm : "\1") + 1);
		sb_add(sb, e.icon, strlen(e.icon) + 1);
		sb_add(sb, e.guivm ? e.guivm : "\1",
		    strlen(e.guivm ? e.guivm : "\1") + 1);
		for (j = 0; j < vm->tags.n; j++)
			sb_add(sb, vm->tags.v[j], strlen(vm->tags.v[j]) + 1);
		sb_addc(sb, '\2');
	}
}

/* The system information of the current model; NULL on failure. */
static const struct policy_sysinfo *
current_sysinfo(void)
{
	struct policy_sysinfo *si;
	struct strbuf tmp;

	fingerprint(&hs.scratch);
	if (!sb_ok(&hs.scratch)) {
		log_warnx("model fingerprint: %s", strerror(hs.scratch.err));
		return NULL;
	}
	if (hs.si != NULL && sb_ok(&hs.fp) && hs.fp.len == hs.scratch.len &&
	    memcmp(hs.fp.buf, hs.scratch.buf, hs.fp.len) == 0)
		return hs.si;
	if ((si = sysinfo_policy(app)) == NULL) {
		log_warn("building the system information");
		return NULL;
	}
	policy_sysinfo_free(hs.si);
	hs.si = si;
	tmp = hs.fp;
	hs.fp = hs.scratch;
	hs.scratch = tmp;
	return hs.si;
}

int
hook_list_allows(const struct vm *src, const char *service, const char *arg,
    const struct vm *target)
{
	const struct policy_sysinfo *si;
	struct strbuf argument;
	int ok;

	/* dom0 is never filtered */
	if (src->cls == VMC_ADMIN)
		return 1;
	if (!hs.init)
		return 0;
	if (hs.policy == NULL || policy_stale(hs.policy))
		policy_reload();
	if (hs.policy == NULL || (si = current_sysinfo()) == NULL)
		return 0;
	sb_init(&argument, 4096);
	sb_addc(&argument, '+');
	sb_adds(&argument, arg);
	ok = sb_ok(&argument) && policy_allows(hs.policy, si, service,
	    argument.buf, src->name, target->name);
	sb_free(&argument);
	return ok;
}
