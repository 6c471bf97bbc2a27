/*
 * api_misc.c - the misc socket (protocol.md 10; qubesd's
 * qubes/api/misc.py): qubes.FeaturesRequest, qubes.NotifyTools,
 * qubes.NotifyUpdates, and what the 4.2 extensions do on the
 * `features-request` event (properties.md 7): core_features.py,
 * windows.py, services.py and supported_features.py.
 *
 * The first two read the source qube's QubesDB (qdb.h).  That may wait
 * for the qubesdb daemon, so they finish on a worker (API_DEFER) and read
 * without the model lock; whatever goes wrong there (no QubesDB socket,
 * no answer in time, a malformed answer, a value outside the allowed
 * characters) closes the connection without a reply, as qubesd's
 * non-Qubes exceptions and PermissionDenied do.
 *
 * Order of the effects, as qubesd delivers them: the synchronous
 * extension handlers (windows, supported-service, supported-feature,
 * supported-rpc) run before the `features-request` record reaches
 * admin.Events subscribers; the asynchronous core_features handler (and
 * the `template-postinstall` it may fire) after it.  qubesd leaves the
 * order among the synchronous ones undefined; we use the one above.
 *
 * Not done here (they need a running system): the qube log warnings of
 * the extensions (we log them in the broker log), and the handlers of
 * `template-postinstall` living outside qubes-core-admin (menu
 * generation of qubes-desktop-linux-manager).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_handlers.h"
#include "events.h"
#include "log.h"
#include "model.h"
#include "persist.h"
#include "props.h"
#include "qdb.h"
#include "storage.h"
#include "svc_validate.h"
#include "util.h"
#include "virt.h"
#include "worker.h"

#define FR_PREFIX	"/features-request/"
#define TOOLS_PREFIX	"/qubes-tools/"

static int
truthy(const char *v)
{
	return v != NULL && *v != '\0';
}

/* getattr(vm, 'template', None) */
static struct vm *
template_of(const struct vm *vm)
{
	if (!vmprop_applies(vm, VMP_template))
		return NULL;
	return vmprop_vm(vm, VMP_template);
}

/* ---- reading QubesDB (no model lock held) */

static int
non_ascii(const char *v, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)v[i] >= 0x80)
			return 1;
	return 0;
}

/*
 * qubes.FeaturesRequest: every entry under /features-request/, keyed by
 * the rest of its path; values must be ASCII (qubesd decodes them
 * strictly) made of [A-Za-z0-9-.,_= ].
 */
static int
read_features_request(const char *src, struct kvlist *out,
    const char **why)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.,_= ";
	struct qdb_entries untrusted;
	const struct qdb_entries *e;
	struct qdb *q;
	size_t i;
	int rc = -1;

	q = qdb_open(src, QDB_TIMEOUT_MS, why);
	if (q == NULL)
		return -1;
	if (qdb_multiread(q, FR_PREFIX, &untrusted) < 0) {
		*why = qdb_error(q);
		qdb_close(q);
		return -1;
	}
	qdb_close(q);
	/* sanitize start */
	for (i = 0; i < untrusted.n; i++)
		if (non_ascii(untrusted.v[i].value, untrusted.v[i].len)) {
			*why = "non-ASCII value";
			goto out;
		}
	for (i = 0; i < untrusted.n; i++)
		if (strspn(untrusted.v[i].value, safe) != untrusted.v[i].len) {
			*why = "value outside the allowed characters";
			goto out;
		}
	e = &untrusted;
	/* sanitize end */
	for (i = 0; i < e->n; i++)
		if (kvl_set(out, e->v[i].path + strlen(FR_PREFIX),
		    e->v[i].value) < 0)
			fatalx("out of memory");
	rc = 0;
out:
	qdb_entries_free(&untrusted);
	return rc;
}

/*
 * qubes.NotifyTools: /qubes-tools/<key> for the five keys Qubes Windows
 * Tools report; absent or empty entries are left out; values must be
 * ASCII letters and digits.
 */
static int
read_tools(const char *src, struct kvlist *out, const char **why)
{
	static const char *const keys[] = {
		"qrexec", "gui", "gui-emulated", "default-user", "os",
	};
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	char path[QDB_MAX_PATH], *untrusted_v, *v;
	struct qdb *q;
	size_t i, len;
	int rc;

	q = qdb_open(src, QDB_TIMEOUT_MS, why);
	if (q == NULL)
		return -1;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", TOOLS_PREFIX, keys[i]);
		rc = qdb_read(q, path, &untrusted_v, &len);
		if (rc < 0) {
			*why = qdb_error(q);
			goto err;
		}
		if (rc == 0 || len == 0) {
			free(untrusted_v);
			continue;
		}
		/* sanitize start */
		if (strspn(untrusted_v, alnum) != len) {
			*why = non_ascii(untrusted_v, len) ?
			    "non-ASCII value" :
			    "value outside the allowed characters";
			free(untrusted_v);
			goto err;
		}
		v = untrusted_v;
		/* sanitize end */
		if (kvl_set(out, keys[i], v) < 0)
			fatalx("out of memory");
		free(v);
	}
	qdb_close(q);
	return 0;
err:
	qdb_close(q);
	return -1;
}

/* ---- the extensions' reactions to features-request (model lock held) */

/* str() of the untrusted_features dict: {'key': 'value', ...} */
static void
dict_text(const struct kvlist *req, struct strbuf *sb)
{
	size_t i;

	sb_addc(sb, '{');
	for (i = 0; i < req->n; i++) {
		if (i > 0)
			sb_adds(sb, ", ");
		sb_add_pyrepr(sb, req->v[i].key);
		sb_adds(sb, ": ");
		sb_add_pyrepr(sb, req->v[i].value);
	}
	sb_addc(sb, '}');
}

/* setattr(vm, prop, value) of an extension: the property's own checks
 * and events; a qube class without the property keeps nothing (qubesd
 * sets a plain, unsaved attribute). */
static void
ext_set_prop(struct vm *vm, int pid, const char *value)
{
	struct reply r;

	if (!vmprop_applies(vm, pid))
		return;
	reply_init(&r);
	if (vmprop_set(NULL, &r, vm, pid, value, strlen(value)) != API_OK)
		log_warnx("%s: cannot set %s: %s", vm->name,
		    vm_props[pid].name, r.msg.buf ? r.msg.buf : "refused");
	reply_free(&r);
}

/* features[f] = value unless features.check_with_template(f) is set */
static void
set_unless_inherited(struct vm *vm, const char *f, const char *value)
{
	if (feature_check_with_template(vm, f) == NULL)
		feature_set_ev(vm, f, value);
}

/* qubes/ext/windows.py WindowsFeatures.qubes_features_request */
static void
ext_windows(struct vm *vm, const struct kvlist *req)
{
	const char *os, *guest = NULL;
	int qrexec;

	if (template_of(vm) != NULL) {
		log_info("%s: Ignoring qubes.NotifyTools for template-based VM",
		    vm->name);
		return;
	}
	os = kvl_get(req, "os");
	if (os != NULL && (strcmp(os, "Windows") == 0 ||
	    strcmp(os, "Linux") == 0))
		guest = os;
	qrexec = kvl_get(req, "qrexec") != NULL &&
	    strcmp(kvl_get(req, "qrexec"), "1") == 0;
	if (guest == NULL)
		return;
	feature_set_ev(vm, "os", guest);
	if (strcmp(guest, "Windows") != 0 || !qrexec)
		return;
	feature_set_ev(vm, "rpc-clipboard", "1");
	ext_set_prop(vm, VMP_maxmem, "0");
	ext_set_prop(vm, VMP_qrexec_timeout, "6000");
	set_unless_inherited(vm, "stubdom-qrexec", "1");
	set_unless_inherited(vm, "audio-model", "ich6");
	set_unless_inherited(vm, "timezone", "localtime");
	set_unless_inherited(vm, "no-monitor-layout", "1");
}

static int
in_list(const char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/*
 * services.py supported_services, supported_features.py
 * supported_features / supported_rpc: the advertised `<prefix>*` entries
 * with value '1' become features '1'; previously advertised (truthy)
 * ones no longer listed are removed; a request without any leaves
 * everything as is.  supported-service.apparmor also turns the
 * `apparmor` feature on (when absent) and off (when it is '1').
 */
static void
ext_supported(struct vm *vm, const struct kvlist *req, const char *prefix,
    int skip_template_based)
{
	const char **nw = NULL;
	char **old = NULL;
	size_t i, nn = 0, no = 0, pl = strlen(prefix);
	const char *k;
	int apparmor = strcmp(prefix, "supported-service.") == 0;

	if (skip_template_based && template_of(vm) != NULL) {
		log_info("%s: Ignoring qubes.FeaturesRequest from "
		    "template-based VM", vm->name);
		return;
	}
	for (i = 0; i < req->n; i++)
		if (strncmp(req->v[i].key, prefix, pl) == 0 &&
		    strcmp(req->v[i].value, "1") == 0)
			nn++;
	if (nn == 0)
		return;
	nw = xcalloc(nn, sizeof(*nw));
	nn = 0;
	for (i = 0; i < req->n; i++)
		if (strncmp(req->v[i].key, prefix, pl) == 0 &&
		    strcmp(req->v[i].value, "1") == 0)
			nw[nn++] = req->v[i].key;
	old = xcalloc(vm->features.n + 1, sizeof(*old));
	for (i = 0; i < vm->features.n; i++)
		if (strncmp(vm->features.v[i].key, prefix, pl) == 0 &&
		    truthy(vm->features.v[i].value))
			old[no++] = xstrdup(vm->features.v[i].key);

	for (i = 0; i < nn; i++) {
		k = nw[i];
		if (in_list((const char *const *)old, no, k))
			continue;
		feature_set_ev(vm, k, "1");
		if (apparmor && strcmp(k, "supported-service.apparmor") == 0 &&
		    kvl_get(&vm->features, "apparmor") == NULL)
			feature_set_ev(vm, "apparmor", "1");
	}
	for (i = 0; i < no; i++) {
		k = old[i];
		if (in_list(nw, nn, k))
			continue;
		feature_del_ev(vm, k);
		if (apparmor && strcmp(k, "supported-service.apparmor") == 0 &&
		    kvl_get(&vm->features, "apparmor") != NULL &&
		    strcmp(kvl_get(&vm->features, "apparmor"), "1") == 0)
			feature_del_ev(vm, "apparmor");
	}
	for (i = 0; i < no; i++)
		free(old[i]);
	free(old);
	free(nw);
}

/* os-version: digits, '.' and '-', starting with a digit */
static int
valid_os_version(const char *v)
{
	return *v >= '0' && *v <= '9' &&
	    strspn(v, "0123456789.-") == strlen(v);
}

static int
digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* os-eol: YYYY-MM-DD and a real date (datetime.date.fromisoformat) */
static int
valid_eol(const char *v)
{
	static const int mdays[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};
	int y, m, d, leap;

	if (strlen(v) != 10 || v[4] != '-' || v[7] != '-' ||
	    !digits(v, 4) || !digits(v + 5, 2) || !digits(v + 8, 2))
		return 0;
	y = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 +
	    (v[3] - '0');
	m = (v[5] - '0') * 10 + (v[6] - '0');
	d = (v[8] - '0') * 10 + (v[9] - '0');
	if (y < 1 || m < 1 || m > 12 || d < 1)
		return 0;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[m - 1] + (m == 2 && leap);
}

/* qubes-agent-version: [0-9]{1,3}\.[0-9]{1,3}, whole value */
static int
valid_agent_version(const char *v)
{
	const char *dot = strchr(v, '.');
	size_t a, b;

	if (dot == NULL)
		return 0;
	a = (size_t)(dot - v);
	b = strlen(dot + 1);
	return a >= 1 && a <= 3 && b >= 1 && b <= 3 && digits(v, a) &&
	    digits(dot + 1, b);
}

/* qubes/ext/core_features.py CoreFeatures.qubes_features_request */
static void
ext_core(struct vm *vm, const struct kvlist *req)
{
	static const char *const agent[] = {
		"qrexec", "gui", "gui-emulated", "qubes-firewall", "vmexec",
	};
	int want[5];
	const char *v;
	size_t i;
	int qrexec_before;

	if (template_of(vm) != NULL) {
		log_info("%s: Ignoring qubes.NotifyTools for template-based VM",
		    vm->name);
		return;
	}
	if (truthy(v = kvl_get(req, "os-distribution")))
		feature_set_ev(vm, "os-distribution", v);
	if (truthy(v = kvl_get(req, "os-distribution-like")))
		feature_set_ev(vm, "os-distribution-like", v);
	if (truthy(v = kvl_get(req, "os-version"))) {
		if (valid_os_version(v))
			feature_set_ev(vm, "os-version", v);
		else
			log_warnx("%s: Invalid 'os-version' value '%s', must "
			    "start with a digit and only digits and _ or . "
			    "are allowed", vm->name, v);
	}
	if (truthy(v = kvl_get(req, "os-eol"))) {
		if (valid_eol(v))
			feature_set_ev(vm, "os-eol", v);
		else
			log_warnx("%s: Invalid 'os-eol' value '%s', expected "
			    "YYYY-MM-DD", vm->name, v);
	}
	for (i = 0; i < 5; i++) {
		v = kvl_get(req, agent[i]);
		want[i] = v == NULL ? -1 : strcmp(v, "1") == 0 ? 1 :
		    strcmp(v, "0") == 0 ? 0 : -1;
	}
	if ((v = kvl_get(req, "qubes-agent-version")) != NULL &&
	    valid_agent_version(v))
		feature_set_ev(vm, "qubes-agent-version", v);

	qrexec_before = truthy(kvl_get(&vm->features, "qrexec"));
	/* qrexec, gui, gui-emulated: only when not set some other way */
	for (i = 0; i < 3; i++)
		if (want[i] >= 0 && kvl_get(&vm->features, agent[i]) == NULL)
			feature_set_ev(vm, agent[i], want[i] ? "1" : "");
	/* qubes-firewall, vmexec: freely */
	for (i = 3; i < 5; i++)
		if (want[i] >= 0)
			feature_set_ev(vm, agent[i], want[i] ? "1" : "");
	if (!qrexec_before && truthy(kvl_get(&vm->features, "qrexec")))
		ev_fire(vm->name, "template-postinstall", NULL);
}

/* fire_event_async('features-request', untrusted_features=...), then
 * app.save() */
static int
features_request(struct vm *vm, const struct kvlist *req, struct reply *r)
{
	struct strbuf d;

	ext_windows(vm, req);
	ext_supported(vm, req, "supported-service.", 1);
	ext_supported(vm, req, "supported-feature.", 1);
	ext_supported(vm, req, "supported-rpc.", 0);
	sb_init(&d, 0);
	dict_text(req, &d);
	if (!sb_ok(&d))
		fatalx("out of memory");
	ev_fire(vm->name, "features-request", "untrusted_features", d.buf,
	    NULL);
	sb_free(&d);
	ext_core(vm, req);
	return persist_commit(r);
}

/* The deferred part of FeaturesRequest / NotifyTools (flags: which). */
#define JOB_FEATURES	0
#define JOB_TOOLS	1

static int
job_request(struct job *j, struct reply *r)
{
	struct kvlist req;
	struct vm *vm;
	const char *why = "";
	char src[sizeof(j->src)];
	int rc;

	memset(&req, 0, sizeof(req));
	memcpy(src, j->src, sizeof(src));
	model_unlock();
	if (j->flags == JOB_TOOLS)
		rc = read_tools(src, &req, &why);
	else
		rc = read_features_request(src, &req, &why);
	model_lock();
	if (rc < 0) {
		log_warnx("%s from %s: QubesDB: %s", j->method, src, why);
		kvl_free(&req);
		return reply_refuse(r, "QubesDB read failed");
	}
	/* the qube may have gone while we read */
	if ((vm = app_vm(app, src)) == NULL) {
		kvl_free(&req);
		return reply_refuse(r, "source qube removed meanwhile");
	}
	rc = features_request(vm, &req, r);
	kvl_free(&req);
	return rc;
}

static int
request_checks(struct call *c, struct reply *r)
{
	if (strcmp(c->dest->name, "dom0") != 0)
		return reply_refuse(r, "destination must be dom0");
	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	return API_OK;
}

int
api_misc_featuresrequest(struct call *c, struct reply *r)
{
	if (request_checks(c, r) != API_OK)
		return API_REFUSE;
	return reply_defer(r, c, job_request, JOB_FEATURES);
}

int
api_misc_notifytools(struct call *c, struct reply *r)
{
	if (request_checks(c, r) != API_OK)
		return API_REFUSE;
	return reply_defer(r, c, job_request, JOB_TOOLS);
}

/* ---- qubes.NotifyUpdates */

/* storage.outdated_volumes: none for a halted qube, else the volumes
 * whose driver reports them outdated (None counts as not). */
static int
has_outdated_volumes(const struct vm *vm)
{
	const struct storage_driver *d;
	const struct kvlist *pool;
	struct vol_state st;
	struct vol v;
	size_t i;

	if (strcmp(virt_power_state(vm), "Halted") == 0)
		return 0;
	for (i = 0; i < vm->nvolumes; i++) {
		vol_view(&vm->volumes[i], &v);
		if (v.pool == NULL || (pool = app_pool(app, v.pool)) == NULL)
			continue;
		d = pool_driver(pool);
		if (d == NULL || d->vol_state == NULL)
			continue;
		memset(&st, 0, sizeof(st));
		d->vol_state(pool, vm, &v, &st);
		if (st.is_outdated > 0)
			return 1;
	}
	return 0;
}

/* QubesMiscAPI._feature_of_update */
static void
feature_of_update(struct vm *vm, int available)
{
	char now[32];
	struct tm tm;
	time_t t = time(NULL);

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(now, sizeof(now), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		fatalx("cannot format the local time");
	if (truthy(kvl_get(&vm->features, "updates-available")) && !available)
		feature_set_ev(vm, "last-update", now);
	feature_set_ev(vm, "updates-available", available ? "1" : "");
	feature_set_ev(vm, "last-updates-check", now);
}

int
api_misc_notifyupdates(struct call *c, struct reply *r)
{
	struct vm *tpl;
	int available = 0;

	/* sanitize start */
	switch (validate_update_count((const char *)c->untrusted_payload,
	    c->payload_len, &available)) {
	case 0:
		break;
	case -2:
		return reply_refuse(r, "update count has too many digits");
	default:
		return reply_refuse(r, "update count is not a number");
	}
	/* sanitize end */

	/* the nearest updateable qube up the template chain */
	tpl = template_of(c->src);
	while (tpl != NULL && !vmprop_bool(tpl, VMP_updateable))
		tpl = template_of(tpl);

	if (vmprop_bool(c->src, VMP_updateable)) {
		/* trust the qube about itself */
		feature_of_update(c->src, available);
		return persist_commit(r);
	}
	if (tpl == NULL)
		return API_OK;
	/* a running template reports for itself */
	if (virt_is_active(tpl))
		return API_OK;
	/* only "updates available" hints count, and not from a qube that
	 * runs on an outdated snapshot (already updated, probably) */
	if (!available || has_outdated_volumes(c->src))
		return API_OK;
	feature_of_update(tpl, 1);
	return persist_commit(r);
}
