/*
 * policy_eval.c - system information and evaluation of the qrexec policy
 * (policy.md 3.2, 3.3, 5); see policy.h.
 *
 * Mirrors qrexec.policy.parser of qubes-core-qrexec 4.2: Request()
 * normalises the intended target (IntendedTarget.verify), the first rule
 * whose is_match() holds decides, and Allow/Ask.evaluate() resolve the
 * target; AbstractPolicy.collect_targets_for_ask() builds the choices of
 * "ask".  Matching is by string comparison exactly as in Python, so e.g.
 * a SOURCE of dom0 never matches a source named "dom0" (3.2 notes).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "policy.h"
#include "policy_int.h"

/* Longest request field we compare; longer ones are refused. */
#define REQ_FIELD_MAX	4096u

struct si_dom {
	struct policy_domain_info info;		/* strings owned below */
	char		*name;
	char		*type;
	char		**tags;
	char		*default_dispvm;
	char		*icon;
	char		*guivm;
	char		*power_state;
};

struct policy_sysinfo {
	struct si_dom	*d;		/* insertion order */
	size_t		 n;
	size_t		 alloc;
	size_t		*byname;	/* indices sorted by name */
	policy_power_fn	 power;
	void		*power_ctx;
};

/* ------------------------------------------------------------------ */
/* System information */

struct policy_sysinfo *
policy_sysinfo_new(void)
{
	return calloc(1, sizeof(struct policy_sysinfo));
}

static void
dom_clear(struct si_dom *d)
{
	size_t i;

	free(d->name);
	free(d->type);
	for (i = 0; d->tags != NULL && i < d->info.ntags; i++)
		free(d->tags[i]);
	free(d->tags);
	free(d->default_dispvm);
	free(d->icon);
	free(d->guivm);
	free(d->power_state);
	memset(d, 0, sizeof(*d));
}

void
policy_sysinfo_free(struct policy_sysinfo *si)
{
	size_t i;

	if (si == NULL)
		return;
	for (i = 0; i < si->n; i++)
		dom_clear(&si->d[i]);
	free(si->d);
	free(si->byname);
	free(si);
}

void
policy_sysinfo_set_power_lookup(struct policy_sysinfo *si, policy_power_fn fn,
    void *ctx)
{
	si->power = fn;
	si->power_ctx = ctx;
}

/* Index in byname where name is or would go; *found says which. */
static size_t
si_pos(const struct policy_sysinfo *si, const char *name, int *found)
{
	size_t lo = 0, hi = si->n, mid;
	int c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(si->d[si->byname[mid]].name, name);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct si_dom *
si_find(const struct policy_sysinfo *si, const char *name)
{
	size_t pos;
	int found;

	if (si == NULL || name == NULL)
		return NULL;
	pos = si_pos(si, name, &found);
	return found ? &si->d[si->byname[pos]] : NULL;
}

static int
dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	*dst = strdup(src);
	return *dst != NULL ? 0 : -1;
}

int
policy_sysinfo_add(struct policy_sysinfo *si,
    const struct policy_domain_info *in)
{
	struct si_dom d, *nd;
	size_t pos, alloc, *nb, i;
	int found;

	if (si == NULL || in == NULL || in->name == NULL ||
	    in->type == NULL || (in->ntags > 0 && in->tags == NULL)) {
		errno = EINVAL;
		return -1;
	}
	if (si->n >= POLICY_MAX_DOMAINS || in->ntags > POLICY_MAX_TAGS) {
		errno = E2BIG;
		return -1;
	}
	pos = si_pos(si, in->name, &found);
	if (found) {
		errno = EEXIST;
		return -1;
	}
	if (si->n == si->alloc) {
		alloc = si->alloc ? si->alloc * 2 : 16;
		nd = realloc(si->d, alloc * sizeof(*nd));
		if (nd == NULL)
			return -1;
		si->d = nd;
		nb = realloc(si->byname, alloc * sizeof(*nb));
		if (nb == NULL)
			return -1;
		si->byname = nb;
		si->alloc = alloc;
	}
	memset(&d, 0, sizeof(d));
	if (dup_opt(&d.name, in->name) < 0 || dup_opt(&d.type, in->type) < 0 ||
	    dup_opt(&d.default_dispvm, in->default_dispvm) < 0 ||
	    dup_opt(&d.icon, in->icon) < 0 ||
	    dup_opt(&d.guivm, in->guivm) < 0 ||
	    dup_opt(&d.power_state, in->power_state) < 0)
		goto oom;
	if (in->ntags > 0) {
		d.tags = calloc(in->ntags, sizeof(*d.tags));
		if (d.tags == NULL)
			goto oom;
		for (i = 0; i < in->ntags; i++) {
			if (in->tags[i] == NULL) {
				d.info.ntags = i;
				dom_clear(&d);
				errno = EINVAL;
				return -1;
			}
			d.info.ntags = i + 1;
			if ((d.tags[i] = strdup(in->tags[i])) == NULL)
				goto oom;
		}
	}
	d.info.name = d.name;
	d.info.type = d.type;
	d.info.tags = (const char *const *)d.tags;
	d.info.ntags = in->ntags;
	d.info.template_for_dispvms = in->template_for_dispvms != 0;
	d.info.default_dispvm = d.default_dispvm;
	d.info.icon = d.icon;
	d.info.guivm = d.guivm;
	d.info.power_state = d.power_state;
	si->d[si->n] = d;
	memmove(&si->byname[pos + 1], &si->byname[pos],
	    (si->n - pos) * sizeof(*si->byname));
	si->byname[pos] = si->n;
	si->n++;
	return 0;
oom:
	dom_clear(&d);
	errno = ENOMEM;
	return -1;
}

size_t
policy_sysinfo_count(const struct policy_sysinfo *si)
{
	return si != NULL ? si->n : 0;
}

const struct policy_domain_info *
policy_sysinfo_at(const struct policy_sysinfo *si, size_t i)
{
	return si != NULL && i < si->n ? &si->d[i].info : NULL;
}

const struct policy_domain_info *
policy_sysinfo_find(const struct policy_sysinfo *si, const char *name)
{
	const struct si_dom *d = si_find(si, name);

	return d != NULL ? &d->info : NULL;
}

const char *
policy_sysinfo_power(const struct policy_sysinfo *si,
    const struct policy_domain_info *d)
{
	const char *s = NULL;

	if (d == NULL)
		return "NA";
	if (d->power_state != NULL)
		return d->power_state;
	if (si != NULL && si->power != NULL)
		s = si->power(si->power_ctx, d->name);
	return s != NULL ? s : "NA";
}

/* A string-or-null member; -1 if it is something else. */
static int
json_opt_str(json_t *obj, const char *key, const char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = json_string_value(v);
	return 0;
}

int
policy_sysinfo_from_json(const char *json, size_t len,
    struct policy_sysinfo **out, struct strbuf *err)
{
	struct policy_domain_info info;
	struct policy_sysinfo *si = NULL;
	const char **tags = NULL;
	json_t *root = NULL, *doms, *d, *v, *t;
	json_error_t jerr;
	const char *name = "?";
	size_t i;
	int rc = -1;

	*out = NULL;
	if (len > POLICY_MAX_JSON) {
		if (err != NULL)
			sb_addf(err, "system information too large");
		errno = E2BIG;
		return -1;
	}
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		if (err != NULL)
			sb_addf(err, "invalid JSON: %s (line %d)", jerr.text,
			    jerr.line);
		errno = EINVAL;
		return -1;
	}
	doms = json_object_get(root, "domains");
	if (!json_is_object(root) || !json_is_object(doms)) {
		if (err != NULL)
			sb_adds(err, "no \"domains\" object");
		errno = EINVAL;
		goto done;
	}
	if ((si = policy_sysinfo_new()) == NULL)
		goto done;
	json_object_foreach(doms, name, d) {
		memset(&info, 0, sizeof(info));
		info.name = name;
		free(tags);
		tags = NULL;
		if (!json_is_object(d))
			goto bad;
		v = json_object_get(d, "type");
		if (!json_is_string(v))
			goto bad;
		info.type = json_string_value(v);
		v = json_object_get(d, "tags");
		if (v != NULL && !json_is_null(v)) {
			if (!json_is_array(v) ||
			    json_array_size(v) > POLICY_MAX_TAGS)
				goto bad;
			tags = calloc(json_array_size(v) + 1, sizeof(*tags));
			if (tags == NULL)
				goto done;
			json_array_foreach(v, i, t) {
				if (!json_is_string(t))
					goto bad;
				tags[i] = json_string_value(t);
			}
			info.tags = tags;
			info.ntags = json_array_size(v);
		}
		v = json_object_get(d, "template_for_dispvms");
		if (v != NULL && !json_is_null(v) && !json_is_boolean(v))
			goto bad;
		info.template_for_dispvms = v != NULL && json_is_true(v);
		if (json_opt_str(d, "default_dispvm", &info.default_dispvm) <
		    0 || json_opt_str(d, "icon", &info.icon) < 0 ||
		    json_opt_str(d, "guivm", &info.guivm) < 0 ||
		    json_opt_str(d, "power_state", &info.power_state) < 0)
			goto bad;
		if (policy_sysinfo_add(si, &info) < 0) {
			if (errno == ENOMEM)
				goto done;
			goto bad;
		}
	}
	*out = si;
	si = NULL;
	rc = 0;
	goto done;
bad:
	if (err != NULL)
		sb_addf(err, "malformed entry for domain '%s'", name);
	errno = EINVAL;
done:
	free(tags);
	policy_sysinfo_free(si);
	json_decref(root);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Matching (3.2) */

static int
dom_has_tag(const struct si_dom *d, const char *tag)
{
	size_t i;

	for (i = 0; d != NULL && i < d->info.ntags; i++)
		if (strcmp(d->tags[i], tag) == 0)
			return 1;
	return 0;
}

/* The normalised intended target of 5.1. */
enum it_kind {
	IT_NAME,
	IT_ADMINVM,
	IT_DEFAULT,
	IT_DISPVM,
	IT_DISPVM_VM,
};

struct itarget {
	enum it_kind		 kind;
	const struct si_dom	*dom;	/* the qube, or the DispVM template */
};

struct ectx {
	const struct policy		*p;
	const struct policy_sysinfo	*si;
	const char			*service;
	const char			*argument;
	const char			*source;
	const struct si_dom		*srcdom;
	struct itarget			 it;
};

static int
match_source(const struct ectx *e, const struct ptok *t)
{
	switch (t->kind) {
	case PTOK_NAME:
	case PTOK_DISPVM_VM:
		/* str comparison: "@dispvm:x" is never a source name */
		return strcmp(t->text, e->source) == 0;
	case PTOK_ADMINVM:
		return strcmp(e->source, "@adminvm") == 0;
	case PTOK_ANY:
		return 1;
	case PTOK_ANYVM:
		return strcmp(e->source, "@adminvm") != 0;
	case PTOK_TYPE:
		return e->srcdom != NULL &&
		    strcmp(e->srcdom->type, t->value) == 0;
	case PTOK_TAG:
		return dom_has_tag(e->srcdom, t->value);
	case PTOK_DEFAULT:
	case PTOK_DISPVM:
	case PTOK_DISPVM_TAG:
		return 0;
	}
	return 0;
}

/* The DispVM template @dispvm stands for: the source's default_dispvm. */
static const char *
src_default_dispvm(const struct ectx *e)
{
	return e->srcdom != NULL ? e->srcdom->default_dispvm : NULL;
}

static int
match_target(const struct ectx *e, const struct ptok *t)
{
	const struct itarget *it = &e->it;
	const struct si_dom *tmpl;
	const char *dd;

	switch (t->kind) {
	case PTOK_NAME:
		return it->kind == IT_NAME &&
		    strcmp(t->text, it->dom->name) == 0;
	case PTOK_ADMINVM:
		return it->kind == IT_ADMINVM;
	case PTOK_ANY:
		return 1;
	case PTOK_ANYVM:
		return it->kind != IT_ADMINVM;
	case PTOK_DEFAULT:
		return it->kind == IT_DEFAULT;
	case PTOK_TYPE:
		return it->kind == IT_NAME &&
		    strcmp(it->dom->type, t->value) == 0;
	case PTOK_TAG:
		return it->kind == IT_NAME && dom_has_tag(it->dom, t->value);
	case PTOK_DISPVM:
		return it->kind == IT_DISPVM;
	case PTOK_DISPVM_VM:
		if (it->kind == IT_DISPVM)
			return (dd = src_default_dispvm(e)) != NULL &&
			    strcmp(dd, t->value) == 0;
		return it->kind == IT_DISPVM_VM &&
		    strcmp(it->dom->name, t->value) == 0;
	case PTOK_DISPVM_TAG:
		if (it->kind == IT_DISPVM)
			tmpl = si_find(e->si, src_default_dispvm(e));
		else if (it->kind == IT_DISPVM_VM)
			tmpl = it->dom;
		else
			return 0;
		return tmpl != NULL && tmpl->info.template_for_dispvms &&
		    dom_has_tag(tmpl, t->value);
	}
	return 0;
}

static int
match_service(const struct ectx *e, const struct policy_rule *r)
{
	return (r->any_service || strcmp(r->service, e->service) == 0) &&
	    (r->any_argument || strcmp(r->argument, e->argument) == 0);
}

/* ------------------------------------------------------------------ */
/* Results */

static void
result_init(struct policy_result *res)
{
	memset(res, 0, sizeof(*res));
	res->action = POLICY_DENY;
	res->notify = 1;
	res->autostart = 1;
}

void
policy_result_free(struct policy_result *res)
{
	size_t i;

	if (res == NULL)
		return;
	free(res->requested_target);
	free(res->target);
	free(res->user);
	for (i = 0; i < res->ntargets; i++)
		free(res->targets[i]);
	free(res->targets);
	free(res->default_target);
	free(res->guivm);
	free(res->reason);
	free(res->passed);
	result_init(res);
}

/*
 * Turn res into a deny with the reason built from fmt (which may use
 * res's own strings: they are freed only after formatting).  -1 if out
 * of memory.
 */
static int __attribute__((format(printf, 2, 3)))
deny(struct policy_result *res, const char *fmt, ...)
{
	struct strbuf sb;
	va_list ap;
	size_t i;

	sb_init(&sb, 8192);
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	free(res->target);
	res->target = NULL;
	free(res->user);
	res->user = NULL;
	for (i = 0; i < res->ntargets; i++)
		free(res->targets[i]);
	free(res->targets);
	res->targets = NULL;
	res->ntargets = 0;
	free(res->default_target);
	res->default_target = NULL;
	free(res->guivm);
	res->guivm = NULL;
	free(res->reason);
	res->action = POLICY_DENY;
	res->reason = sb_ok(&sb) ? sb_steal(&sb) : NULL;
	sb_free(&sb);
	return res->reason != NULL ? 0 : -1;
}

static int
add_passed(struct policy_result *res, const struct policy_rule *r,
    const char *why)
{
	struct policy_passed *np;

	if (res->npassed >= POLICY_MAX_PASSED) {
		res->passed_truncated = 1;
		return 0;
	}
	if (res->passed == NULL) {
		res->passed = calloc(POLICY_MAX_PASSED, sizeof(*np));
		if (res->passed == NULL)
			return -1;
	}
	res->passed[res->npassed].rule = r;
	res->passed[res->npassed].why = why;
	res->npassed++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Ask: collect_targets_for_ask() */

#define T_NAME		0x1
#define T_DISPVM	0x2

struct tset {
	unsigned char	*m;		/* per domain: T_NAME | T_DISPVM */
	int		 adminvm;	/* "@adminvm" */
	int		 dispvm;	/* "@dispvm" */
};

static void
tset_mark(struct tset *s, size_t i, unsigned bit, int add)
{
	if (add)
		s->m[i] |= bit;
	else
		s->m[i] &= ~bit;
}

/* _BaseTarget.expand() and its overloads, added to or removed from s. */
static void
expand(const struct ectx *e, const struct ptok *t, struct tset *s, int add)
{
	const struct policy_sysinfo *si = e->si;
	const struct si_dom *d;
	size_t i;

	switch (t->kind) {
	case PTOK_NAME:
		if ((d = si_find(si, t->text)) != NULL)
			tset_mark(s, (size_t)(d - si->d), T_NAME, add);
		break;
	case PTOK_ADMINVM:
		s->adminvm = add;
		break;
	case PTOK_ANY:
		s->adminvm = add;
		/* FALLTHROUGH */
	case PTOK_ANYVM:
		for (i = 0; i < si->n; i++) {
			if (strcmp(si->d[i].type, "AdminVM") != 0)
				tset_mark(s, i, T_NAME, add);
			if (si->d[i].info.template_for_dispvms)
				tset_mark(s, i, T_DISPVM, add);
		}
		s->dispvm = add;
		break;
	case PTOK_DEFAULT:
		break;
	case PTOK_TYPE:
		for (i = 0; i < si->n; i++)
			if (strcmp(si->d[i].type, t->value) == 0)
				tset_mark(s, i, T_NAME, add);
		break;
	case PTOK_TAG:
		for (i = 0; i < si->n; i++)
			if (dom_has_tag(&si->d[i], t->value))
				tset_mark(s, i, T_NAME, add);
		break;
	case PTOK_DISPVM:
		s->dispvm = add;
		break;
	case PTOK_DISPVM_VM:
		/* the reference raises for a missing qube; we skip it */
		d = si_find(si, t->value);
		if (d != NULL && d->info.template_for_dispvms)
			tset_mark(s, (size_t)(d - si->d), T_DISPVM, add);
		break;
	case PTOK_DISPVM_TAG:
		for (i = 0; i < si->n; i++)
			if (si->d[i].info.template_for_dispvms &&
			    dom_has_tag(&si->d[i], t->value))
				tset_mark(s, i, T_DISPVM, add);
		break;
	}
}

/* allow_no_autostart() */
static int
no_autostart_ok(const struct ectx *e, const char *target)
{
	const struct si_dom *d;

	if (strcmp(target, "@adminvm") == 0)
		return 1;
	if (strncmp(target, "@dispvm", 7) == 0)
		return 0;
	d = si_find(e->si, target);
	return d != NULL &&
	    strcmp(policy_sysinfo_power(e->si, &d->info), "Running") == 0;
}

static int
add_target(struct policy_result *res, const char *prefix, const char *name)
{
	size_t n = strlen(prefix) + strlen(name) + 1;
	char *s;

	if ((s = malloc(n)) == NULL)
		return -1;
	memcpy(s, prefix, strlen(prefix));
	memcpy(s + strlen(prefix), name, strlen(name) + 1);
	res->targets[res->ntargets++] = s;
	return 0;
}

/* The offered targets, in system information order: names, then
 * @dispvm:X, then a default DispVM or dom0 not in the information. */
static int
collect_targets(const struct ectx *e, struct policy_result *res)
{
	const struct policy_sysinfo *si = e->si;
	const struct policy_rule *r;
	const struct ptok *t;
	const struct si_dom *d;
	struct tset s;
	const char *dd, *extra_dispvm = NULL;
	int extra_dom0 = 0, rc = -1;
	size_t i;

	memset(&s, 0, sizeof(s));
	s.m = calloc(si->n + 1, 1);
	res->targets = calloc(2 * si->n + 2, sizeof(*res->targets));
	if (s.m == NULL || res->targets == NULL)
		goto done;
	/* from the last rule to the first, so that deny removes */
	for (i = e->p->nrules; i > 0; i--) {
		r = &e->p->rules[i - 1];
		if (!match_service(e, r) || !match_source(e, &r->source))
			continue;
		t = r->action != POLICY_DENY && r->has_redirect &&
		    r->redirect.text[0] != '\0' ? &r->redirect : &r->target;
		expand(e, t, &s, r->action != POLICY_DENY);
	}
	if (s.dispvm && (dd = src_default_dispvm(e)) != NULL) {
		if ((d = si_find(si, dd)) != NULL)
			s.m[d - si->d] |= T_DISPVM;
		else
			extra_dispvm = dd;
	}
	if (s.adminvm) {
		if ((d = si_find(si, "dom0")) != NULL)
			s.m[d - si->d] |= T_NAME;
		else
			extra_dom0 = 1;
	}
	/* the source itself is never offered (loopback) */
	if (e->srcdom != NULL)
		s.m[e->srcdom - si->d] &= ~T_NAME;
	if (strcmp(e->source, "dom0") == 0)
		extra_dom0 = 0;
	for (i = 0; i < si->n; i++)
		if ((s.m[i] & T_NAME) && add_target(res, "", si->d[i].name) < 0)
			goto done;
	if (extra_dom0 && add_target(res, "", "dom0") < 0)
		goto done;
	for (i = 0; i < si->n; i++)
		if ((s.m[i] & T_DISPVM) &&
		    add_target(res, "@dispvm:", si->d[i].name) < 0)
			goto done;
	if (extra_dispvm != NULL && add_target(res, "@dispvm:", extra_dispvm) <
	    0)
		goto done;
	rc = 0;
done:
	free(s.m);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Evaluation (5) */

static int
set_str(char **dst, const char *prefix, const char *s)
{
	size_t a = strlen(prefix), b = strlen(s);

	free(*dst);
	*dst = malloc(a + b + 1);
	if (*dst == NULL)
		return -1;
	memcpy(*dst, prefix, a);
	memcpy(*dst + a, s, b + 1);
	return 0;
}

/* Allow.evaluate() */
static int
resolve_allow(const struct ectx *e, const struct policy_rule *r,
    unsigned flags, struct policy_result *res)
{
	const struct si_dom *d;
	const char *dd;
	enum it_kind kind;
	const char *name = NULL;

	if (r->has_redirect && r->redirect.text[0] != '\0') {
		switch (r->redirect.kind) {
		case PTOK_NAME:
			/* a nonexistent qube becomes @default */
			d = si_find(e->si, r->redirect.text);
			kind = d != NULL ? IT_NAME : IT_DEFAULT;
			name = r->redirect.text;
			break;
		case PTOK_ADMINVM:
			kind = IT_ADMINVM;
			break;
		case PTOK_DISPVM:
			kind = IT_DISPVM;
			break;
		case PTOK_DISPVM_VM:
			d = si_find(e->si, r->redirect.value);
			if (d == NULL || !d->info.template_for_dispvms)
				return deny(res, "not a template for "
				    "dispvm: %s", r->redirect.value);
			kind = IT_DISPVM_VM;
			name = r->redirect.value;
			break;
		default:
			return deny(res, "invalid redirect at %s:%u", r->path,
			    r->line);
		}
	} else {
		kind = e->it.kind;
		if (kind == IT_NAME || kind == IT_DISPVM_VM)
			name = e->it.dom->name;
	}
	switch (kind) {
	case IT_DEFAULT:
		return deny(res, "policy define 'allow' action at %s:%u but no "
		    "target is specified by caller or policy", r->path,
		    r->line);
	case IT_DISPVM:
		if ((dd = src_default_dispvm(e)) == NULL)
			return deny(res, "policy define 'allow' action to "
			    "@dispvm at %s:%u but no DispVM base is set for "
			    "this VM", r->path, r->line);
		if (set_str(&res->target, "@dispvm:", dd) < 0)
			return -1;
		break;
	case IT_ADMINVM:
		if (set_str(&res->target, "", "dom0") < 0)
			return -1;
		break;
	case IT_DISPVM_VM:
		if (set_str(&res->target, "@dispvm:", name) < 0)
			return -1;
		break;
	case IT_NAME:
		if (set_str(&res->target, "", name) < 0)
			return -1;
		break;
	}
	if (!r->autostart && strcmp(res->target, "dom0") != 0 &&
	    !no_autostart_ok(e, res->target))
		return deny(res, "target %s is denied because it would require "
		    "autostart (autostart=no at %s:%u)", res->target, r->path,
		    r->line);
	/* executing refuses a call to itself (qubes-issues#951) */
	if (!(flags & POLICY_EVAL_NONINTERACTIVE) &&
	    strcmp(res->target, e->source) == 0)
		return deny(res, "loopback qrexec connection not supported "
		    "(allowed by %s:%u)", r->path, r->line);
	res->action = POLICY_ALLOW;
	res->autostart = r->autostart;
	res->notify = r->notify;
	if (r->user != NULL && r->user[0] != '\0' &&
	    (res->user = strdup(r->user)) == NULL)
		return -1;
	return 0;
}

/* Ask.evaluate() */
static int
resolve_ask(const struct ectx *e, const struct policy_rule *r,
    unsigned flags, struct policy_result *res)
{
	const struct ptok *dt;
	const char *dd;
	char *def = NULL;
	size_t i, k;

	if (flags & POLICY_EVAL_NONINTERACTIVE)
		return deny(res, "ask action at %s:%u does not allow a "
		    "non-interactive call", r->path, r->line);
	if (r->has_redirect) {
		res->targets = calloc(1, sizeof(*res->targets));
		if (res->targets == NULL ||
		    add_target(res, "", r->redirect.text) < 0)
			return -1;
	} else if (collect_targets(e, res) < 0)
		return -1;
	if (!r->autostart) {
		for (i = k = 0; i < res->ntargets; i++) {
			if (no_autostart_ok(e, res->targets[i]))
				res->targets[k++] = res->targets[i];
			else
				free(res->targets[i]);
		}
		res->ntargets = k;
	}
	if (res->ntargets == 0)
		return deny(res, "policy define 'ask' action at %s:%u but no "
		    "target is available to choose from", r->path, r->line);
	if (r->has_default) {
		dt = &r->default_target;
		if (dt->kind == PTOK_DISPVM) {
			if ((dd = src_default_dispvm(e)) == NULL)
				return deny(res, "default_target=@dispvm at "
				    "%s:%u but no DispVM base is set for this "
				    "VM", r->path, r->line);
			if (set_str(&def, "@dispvm:", dd) < 0)
				return -1;
		} else if (set_str(&def, "", dt->kind == PTOK_ADMINVM ?
		    "dom0" : dt->text) < 0)
			return -1;
		for (i = 0; i < res->ntargets; i++)
			if (strcmp(res->targets[i], def) == 0)
				break;
		/* the reference asserts (and so refuses) here */
		if (def[0] == '\0' || i == res->ntargets) {
			(void)deny(res, "default target '%s' at %s:%u is not "
			    "among the targets offered", def, r->path, r->line);
			free(def);
			return res->reason != NULL ? 0 : -1;
		}
		res->default_target = def;
	}
	res->action = POLICY_ASK;
	res->autostart = r->autostart;
	res->notify = r->notify;
	if (r->user != NULL && r->user[0] != '\0' &&
	    (res->user = strdup(r->user)) == NULL)
		return -1;
	if (e->srcdom != NULL && e->srcdom->guivm != NULL &&
	    (res->guivm = strdup(e->srcdom->guivm)) == NULL)
		return -1;
	return 0;
}

/* Request(): 5.1; 0 and e->it, or a deny in res (1), or -1. */
static int
normalise_target(struct ectx *e, const char *untrusted_target,
    struct policy_result *res)
{
	struct strbuf err;
	struct ptok t;
	const char *s;
	int rc;

	s = untrusted_target != NULL && *untrusted_target != '\0' ?
	    untrusted_target : "@default";
	sb_init(&err, 2 * REQ_FIELD_MAX + 64);
	if (ptok_parse(s, strlen(s), PCTX_INTENDED, &t, &err) < 0) {
		rc = errno == ENOMEM ? -1 : deny(res, "%s",
		    err.buf ? err.buf : "invalid target") < 0 ? -1 : 1;
		sb_free(&err);
		return rc;
	}
	sb_free(&err);
	rc = 0;
	switch (t.kind) {
	case PTOK_NAME:
		e->it.dom = si_find(e->si, t.text);
		/* an unknown qube name is treated as no target at all */
		e->it.kind = e->it.dom != NULL ? IT_NAME : IT_DEFAULT;
		break;
	case PTOK_ADMINVM:
		e->it.kind = IT_ADMINVM;
		break;
	case PTOK_DEFAULT:
		e->it.kind = IT_DEFAULT;
		break;
	case PTOK_DISPVM:
		e->it.kind = IT_DISPVM;
		break;
	case PTOK_DISPVM_VM:
		e->it.kind = IT_DISPVM_VM;
		e->it.dom = si_find(e->si, t.value);
		if (e->it.dom == NULL || !e->it.dom->info.template_for_dispvms)
			rc = deny(res, "not a template for dispvm: %s",
			    t.value) < 0 ? -1 : 1;
		break;
	default:
		rc = deny(res, "invalid target") < 0 ? -1 : 1;
		break;
	}
	if (rc == 0) {
		switch (e->it.kind) {
		case IT_NAME:
			rc = set_str(&res->requested_target, "",
			    e->it.dom->name);
			break;
		case IT_ADMINVM:
			rc = set_str(&res->requested_target, "", "@adminvm");
			break;
		case IT_DEFAULT:
			rc = set_str(&res->requested_target, "", "@default");
			break;
		case IT_DISPVM:
			rc = set_str(&res->requested_target, "", "@dispvm");
			break;
		case IT_DISPVM_VM:
			rc = set_str(&res->requested_target, "@dispvm:",
			    e->it.dom->name);
			break;
		}
	}
	ptok_free(&t);
	return rc;
}

int
policy_evaluate(const struct policy *p, const struct policy_sysinfo *si,
    const struct policy_request *rq, unsigned flags, struct policy_result *res)
{
	const struct policy_rule *r = NULL;
	struct strbuf sb;
	struct ectx e;
	const char *untrusted_service, *untrusted_argument, *untrusted_source;
	const char *untrusted_target;
	size_t i;
	int rc, sm, tm;

	result_init(res);
	memset(&e, 0, sizeof(e));
	untrusted_service = rq != NULL ? rq->service : NULL;
	untrusted_argument = rq != NULL ? rq->argument : NULL;
	untrusted_source = rq != NULL ? rq->source : NULL;
	untrusted_target = rq != NULL ? rq->target : NULL;
	if (untrusted_argument == NULL || *untrusted_argument == '\0')
		untrusted_argument = "+";
	if (untrusted_target == NULL)
		untrusted_target = "";
	/* sanitize start */
	if (untrusted_service == NULL || untrusted_source == NULL ||
	    strnlen(untrusted_service, REQ_FIELD_MAX) >= REQ_FIELD_MAX ||
	    strnlen(untrusted_argument, REQ_FIELD_MAX) >= REQ_FIELD_MAX ||
	    strnlen(untrusted_source, REQ_FIELD_MAX) >= REQ_FIELD_MAX ||
	    strnlen(untrusted_target, REQ_FIELD_MAX) >= REQ_FIELD_MAX ||
	    untrusted_argument[0] != '+') {
		rc = deny(res, "invalid request");
		goto out;
	}
	/* sanitize end */
	/* bounded C strings now, and only ever compared, never interpreted */
	e.service = untrusted_service;
	e.argument = untrusted_argument;
	e.source = untrusted_source;
	if (p == NULL || p->nerrors > 0) {
		sb_init(&sb, 8192);
		if (p != NULL)
			policy_format_error(&sb, &p->errors[0]);
		rc = deny(res, "error loading policy: %s", p == NULL ?
		    "no policy" : sb.buf ? sb.buf : "");
		sb_free(&sb);
		goto out;
	}
	if (si == NULL) {
		rc = deny(res, "no system information");
		goto out;
	}
	e.p = p;
	e.si = si;
	e.srcdom = si_find(si, e.source);
	rc = normalise_target(&e, untrusted_target, res);
	if (rc != 0) {
		rc = rc < 0 ? -1 : 0;
		goto out;
	}
	for (i = 0; i < p->nrules; i++) {
		if (!match_service(&e, &p->rules[i]))
			continue;
		sm = match_source(&e, &p->rules[i].source);
		tm = sm && match_target(&e, &p->rules[i].target);
		if (sm && tm) {
			r = &p->rules[i];
			break;
		}
		if ((flags & POLICY_EVAL_EXPLAIN) && add_passed(res,
		    &p->rules[i], sm ? "target does not match" :
		    "source does not match") < 0) {
			rc = -1;
			goto out;
		}
	}
	res->rule = r;
	if (r == NULL) {
		rc = deny(res, "no matching rule found");
		res->notify = 1;
		goto out;
	}
	switch (r->action) {
	case POLICY_DENY:
		rc = deny(res, "denied by policy %s:%u", r->path, r->line);
		res->notify = r->notify;
		break;
	case POLICY_ALLOW:
		rc = resolve_allow(&e, r, flags, res);
		break;
	case POLICY_ASK:
		rc = resolve_ask(&e, r, flags, res);
		break;
	}
out:
	if (rc < 0) {
		(void)deny(res, "out of memory");
		return -1;
	}
	return 0;
}

int
policy_allows(const struct policy *p, const struct policy_sysinfo *si,
    const char *service, const char *argument, const char *source,
    const char *target)
{
	struct policy_request rq;
	struct policy_result res;
	int ok;

	rq.service = service;
	rq.argument = argument;
	rq.source = source;
	rq.target = target;
	policy_evaluate(p, si, &rq, POLICY_EVAL_NONINTERACTIVE, &res);
	ok = res.action == POLICY_ALLOW;
	policy_result_free(&res);
	return ok;
}

int
policy_format_reply(struct strbuf *sb, const struct policy_result *res)
{
	size_t i;

	switch (res->action) {
	case POLICY_DENY:
		sb_adds(sb, "result=deny\n");
		break;
	case POLICY_ALLOW:
		sb_addf(sb, "user=%s\nresult=allow\ntarget=%s\nautostart=%s\n"
		    "requested_target=%s\n", res->user ? res->user : "DEFAULT",
		    res->target, res->autostart ? "True" : "False",
		    res->requested_target);
		break;
	case POLICY_ASK:
		sb_addf(sb, "user=%s\nresult=ask\ntargets=",
		    res->user ? res->user : "DEFAULT");
		for (i = 0; i < res->ntargets; i++)
			sb_addf(sb, "%s%s", i ? " " : "", res->targets[i]);
		sb_addf(sb, "\ndefault_target=%s\nautostart=%s\n"
		    "requested_target=%s\n", res->default_target ?
		    res->default_target : "", res->autostart ? "True" : "False",
		    res->requested_target);
		break;
	}
	return sb_ok(sb) ? 0 : -1;
}
