/*
 * persist.c - load and save qubes.xml with libxml2 (qubes-xml.md 1-12).
 * The only writer of qubes.xml (STYLE rule 16).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "atomicfile.h"
#include "events.h"
#include "log.h"
#include "model.h"
#include "persist.h"
#include "props.h"
#include "storage.h"
#include "util.h"
#include "validate.h"
#include "virt.h"

/* Verbatim <domain> elements of left-out qubes. */
static xmlDocPtr kept_doc;
static char *store_path;
static struct timespec store_mtime;
static int store_mtime_known;

const char *
persist_path(void)
{
	return store_path;
}

/* ---- small libxml2 helpers */

static int
is_elem(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	    strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr
child(xmlNodePtr n, const char *name)
{
	for (n = n ? n->children : NULL; n != NULL; n = n->next)
		if (is_elem(n, name))
			return n;
	return NULL;
}

/* Attribute value, malloc'd, or NULL. */
static char *
attr(xmlNodePtr n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char *r;

	if (v == NULL)
		return NULL;
	r = xstrdup((const char *)v);
	xmlFree(v);
	return r;
}

/* Text content verbatim, malloc'd ("" for an empty element). */
static char *
text(xmlNodePtr n)
{
	xmlChar *v = xmlNodeGetContent(n);
	char *r = xstrdup(v ? (const char *)v : "");

	xmlFree(v);
	return r;
}

/* Text of the <property name="key"> of a <domain>, malloc'd, or NULL. */
static char *
domain_prop(xmlNodePtr dom, const char *key)
{
	xmlNodePtr props = child(dom, "properties"), p;
	char *an, *v = NULL;

	for (p = props ? props->children : NULL; p != NULL; p = p->next) {
		if (!is_elem(p, "property"))
			continue;
		an = attr(p, "name");
		if (an != NULL && strcmp(an, key) == 0) {
			free(v);
			v = text(p);
		}
		free(an);
	}
	return v;
}

/* ---- value normalisation on load (qubes-xml.md 5.4) */

static int
norm_value(enum ptype t, const char *in, char **out, const char **why)
{
	char buf[64];
	int64_t n;
	int b;

	*why = NULL;
	switch (t) {
	case PT_BOOL:
		if (parse_pybool(in, &b) < 0) {
			*why = "invalid boolean";
			return -1;
		}
		*out = xstrdup(b ? "True" : "False");
		return 0;
	case PT_INT:
		if (parse_pyint(in, strlen(in), &n) < 0) {
			*why = "invalid integer";
			return -1;
		}
		snprintf(buf, sizeof(buf), "%lld", (long long)n);
		*out = xstrdup(buf);
		return 0;
	case PT_UUID:
		if (parse_uuid(in, buf, sizeof(buf)) < 0) {
			*why = "invalid UUID";
			return -1;
		}
		*out = xstrdup(buf);
		return 0;
	case PT_IPV4:
		if (parse_ipv4(in, buf, sizeof(buf)) < 0) {
			*why = "invalid IPv4 address";
			return -1;
		}
		*out = xstrdup(buf);
		return 0;
	default:
		*out = xstrdup(in);
		return 0;
	}
}

/* ---- loading */

struct loadctx {
	struct app	*a;
	struct strbuf	*err;
	xmlDocPtr	 doc;
};

static void
keep_domain(struct loadctx *lc, xmlNodePtr dom, const char *who,
    const char *why)
{
	xmlNodePtr copy;

	log_warnx("qubes.xml: qube %s not loaded: %s; its entry is kept "
	    "unchanged in qubes.xml", who, why);
	if (kept_doc == NULL) {
		kept_doc = xmlNewDoc((const xmlChar *)"1.0");
		xmlDocSetRootElement(kept_doc,
		    xmlNewNode(NULL, (const xmlChar *)"kept"));
	}
	copy = xmlDocCopyNode(dom, kept_doc, 1);
	if (copy != NULL)
		xmlAddChild(xmlDocGetRootElement(kept_doc), copy);
	(void)lc;
}

static int
load_labels(struct loadctx *lc, xmlNodePtr root)
{
	xmlNodePtr n;
	char *id, *color, *name;
	int64_t idx;
	int rc = 0;

	for (n = child(root, "labels") ? child(root, "labels")->children :
	    NULL; n != NULL; n = n->next) {
		if (!is_elem(n, "label"))
			continue;
		id = attr(n, "id");
		color = attr(n, "color");
		name = text(n);
		if (id == NULL || strncmp(id, "label-", 6) != 0 ||
		    parse_pyint(id + 6, strlen(id + 6), &idx) < 0 ||
		    idx < 0 || idx > 0x7fffffff || color == NULL ||
		    app_label_by_index(lc->a, (int)idx) != NULL) {
			sb_addf(lc->err, "invalid label element (id=%s)",
			    id ? id : "?");
			rc = -1;
		} else {
			if (strcmp(color, "0x555753") == 0)
				strcpy(color, "0x555555");
			if (app_add_label(lc->a, (int)idx, name, color) < 0)
				rc = -1;
		}
		free(id);
		free(color);
		free(name);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int
load_pools(struct loadctx *lc, xmlNodePtr root)
{
	xmlNodePtr n;
	xmlAttrPtr at;
	struct kvlist *np;
	xmlChar *v;

	for (n = child(root, "pools") ? child(root, "pools")->children :
	    NULL; n != NULL; n = n->next) {
		if (!is_elem(n, "pool"))
			continue;
		np = realloc(lc->a->pools, (lc->a->npools + 1) * sizeof(*np));
		if (np == NULL)
			return -1;
		lc->a->pools = np;
		memset(&np[lc->a->npools], 0, sizeof(*np));
		for (at = n->properties; at != NULL; at = at->next) {
			v = xmlNodeListGetString(lc->doc, at->children, 1);
			kvl_set(&np[lc->a->npools], (const char *)at->name,
			    v ? (const char *)v : "");
			xmlFree(v);
		}
		lc->a->npools++;
		if (kvl_get(&np[lc->a->npools - 1], "name") == NULL) {
			sb_adds(lc->err, "pool element without name");
			return -1;
		}
	}
	return 0;
}

static const char *
label_value(struct loadctx *lc, xmlNodePtr p, char **out)
{
	char *ref = attr(p, "ref"), *v;
	struct label *l = NULL;
	int64_t idx;

	v = (ref != NULL && *ref) ? ref : text(p);
	if (v != ref)
		free(ref);
	if (strncmp(v, "label-", 6) == 0 &&
	    parse_pyint(v + 6, strlen(v + 6), &idx) == 0 && idx >= 0 &&
	    idx <= 0x7fffffff)
		l = app_label_by_index(lc->a, (int)idx);
	if (l == NULL)
		l = app_label_lookup(lc->a, v);
	free(v);
	if (l == NULL)
		return "Label does not exist";
	*out = xstrdup(l->name);
	return NULL;
}

/* Stage 2: a qube from its <domain>; NULL + *why when it is not usable. */
static struct vm *
load_domain(struct loadctx *lc, xmlNodePtr dom, const char **why,
    char *whybuf, size_t whylen)
{
	char *cls = attr(dom, "class"), *pname, *v = NULL, *nv = NULL;
	xmlNodePtr props, p, n, o;
	struct vm *vm = NULL;
	int c, pid;
	int64_t qid = -1;
	const char *w;

	*why = NULL;
	c = cls ? vm_class_from_name(cls) : -1;
	if (c < 0) {
		snprintf(whybuf, whylen, "no such VM class: '%s'",
		    cls ? cls : "");
		*why = whybuf;
		free(cls);
		return NULL;
	}
	free(cls);
	vm = vm_new(c, "", 0);
	if (vm == NULL)
		fatalx("out of memory");
	props = child(dom, "properties");
	for (p = props ? props->children : NULL; p != NULL; p = p->next) {
		if (!is_elem(p, "property"))
			continue;
		pname = attr(p, "name");
		if (pname == NULL) {
			*why = "property without name";
			goto bad;
		}
		/* legacy names (qubes-xml.md 7.3) */
		if (strcmp(pname, "dispvm_allowed") == 0) {
			free(pname);
			pname = xstrdup("template_for_dispvms");
		}
		if (strcmp(pname, "hvm") == 0) {
			int b = 0;

			v = text(p);
			parse_pybool(v, &b);
			free(v);
			v = NULL;
			pval_set(&vm->props[VMP_virt_mode], b ? "hvm" : "pv");
			free(pname);
			continue;
		}
		pid = vmprop_id(pname);
		if (pid < 0 || !vmprop_applies(vm, pid)) {
			snprintf(whybuf, whylen, "property '%s' not applicable "
			    "to '%s'", pname, vm_class_names[c]);
			free(pname);
			*why = whybuf;
			goto bad;
		}
		if ((vm_props[pid].flags & PF_COMPUTED) || (c == VMC_ADMIN &&
		    (pid == VMP_name || pid == VMP_qid || pid == VMP_uuid))) {
			snprintf(whybuf, whylen, "property '%s' on %s instance "
			    "cannot be set", pname, vm_class_names[c]);
			free(pname);
			*why = whybuf;
			goto bad;
		}
		if (pid == VMP_label) {
			w = label_value(lc, p, &nv);
		} else {
			v = text(p);
			if (vm_props[pid].type == PT_VM)
				nv = xstrdup(v);	/* resolved in stage 4 */
			else if (pid == VMP_virt_mode) {
				char *q;

				for (q = v; *q; q++)
					if (*q >= 'A' && *q <= 'Z')
						*q = (char)(*q - 'A' + 'a');
				nv = xstrdup(v);
			} else if (norm_value(vm_props[pid].type, v, &nv,
			    &w) < 0) {
				snprintf(whybuf, whylen, "property '%s': %s",
				    pname, w);
				w = whybuf;
			} else {
				w = NULL;
			}
			if (vm_props[pid].type == PT_VM ||
			    pid == VMP_virt_mode)
				w = NULL;
			free(v);
			v = NULL;
		}
		free(pname);
		if (w != NULL) {
			*why = w;
			free(nv);
			goto bad;
		}
		pval_set(&vm->props[pid], nv);
		free(nv);
		nv = NULL;
	}
	if (c == VMC_ADMIN) {
		free(vm->name);
		vm->name = xstrdup("dom0");
		vm->qid = 0;
	} else {
		if (!vm->props[VMP_name].set) {
			*why = "no name";
			goto bad;
		}
		free(vm->name);
		vm->name = xstrdup(vm->props[VMP_name].value);
		if (!vm->props[VMP_qid].set ||
		    parse_pyint(vm->props[VMP_qid].value,
		    strlen(vm->props[VMP_qid].value), &qid) < 0 ||
		    qid < 1 || qid > 10000) {
			*why = "qid value must be between 0 and "
			    "qubes.config.max_qid";
			goto bad;
		}
		vm->qid = (int)qid;
		if (!vm->props[VMP_uuid].set) {
			*why = "no uuid";
			goto bad;
		}
		if (c == VMC_DISP && !vm->props[VMP_dispid].set) {
			*why = "DispVM without dispid";
			goto bad;
		}
	}
	if (!vm->props[VMP_label].set) {
		*why = "no label";
		goto bad;
	}
	/* features */
	for (n = child(dom, "features") ? child(dom, "features")->children :
	    NULL; n != NULL; n = n->next) {
		if (!is_elem(n, "feature"))
			continue;
		pname = attr(n, "name");
		v = text(n);
		if (pname != NULL)
			kvl_set(&vm->features, pname, v);
		free(pname);
		free(v);
		v = NULL;
	}
	/* tags */
	for (n = child(dom, "tags") ? child(dom, "tags")->children : NULL;
	    n != NULL; n = n->next) {
		if (!is_elem(n, "tag"))
			continue;
		pname = attr(n, "name");
		if (pname == NULL || *pname == '\0' ||
		    validate_tag(pname) < 0) {
			free(pname);
			*why = "Invalid character in tag";
			goto bad;
		}
		strset_add(&vm->tags, pname);
		free(pname);
	}
	/* devices, verbatim */
	for (n = dom->children; n != NULL; n = n->next) {
		struct devclass *dc;

		if (!is_elem(n, "devices"))
			continue;
		dc = realloc(vm->devs, (vm->ndevs + 1) * sizeof(*dc));
		if (dc == NULL)
			fatalx("out of memory");
		vm->devs = dc;
		dc = &vm->devs[vm->ndevs++];
		memset(dc, 0, sizeof(*dc));
		dc->cls = attr(n, "class");
		if (dc->cls == NULL)
			dc->cls = xstrdup("");
		for (o = n->children; o != NULL; o = o->next) {
			struct device *d;
			xmlNodePtr opt;

			if (!is_elem(o, "device"))
				continue;
			d = realloc(dc->v, (dc->n + 1) * sizeof(*d));
			if (d == NULL)
				fatalx("out of memory");
			dc->v = d;
			d = &dc->v[dc->n++];
			memset(d, 0, sizeof(*d));
			d->backend = attr(o, "backend-domain");
			d->ident = attr(o, "id");
			if (d->backend == NULL)
				d->backend = xstrdup("");
			if (d->ident == NULL)
				d->ident = xstrdup("");
			for (opt = o->children; opt; opt = opt->next) {
				if (!is_elem(opt, "option"))
					continue;
				pname = attr(opt, "name");
				v = text(opt);
				if (pname)
					kvl_set(&d->options, pname, v);
				free(pname);
				free(v);
				v = NULL;
			}
		}
	}
	/* volume-config, verbatim */
	if ((n = child(dom, "volume-config")) != NULL) {
		xmlAttrPtr at;
		xmlChar *av;

		vm->has_volume_config = 1;
		for (o = n->children; o != NULL; o = o->next) {
			struct kvlist *nvl;

			if (!is_elem(o, "volume"))
				continue;
			nvl = realloc(vm->volumes,
			    (vm->nvolumes + 1) * sizeof(*nvl));
			if (nvl == NULL)
				fatalx("out of memory");
			vm->volumes = nvl;
			memset(&nvl[vm->nvolumes], 0, sizeof(*nvl));
			for (at = o->properties; at; at = at->next) {
				av = xmlNodeListGetString(lc->doc,
				    at->children, 1);
				kvl_set(&nvl[vm->nvolumes],
				    (const char *)at->name,
				    av ? (const char *)av : "");
				xmlFree(av);
			}
			vm->nvolumes++;
		}
	}
	return vm;
bad:
	vm_free(vm);
	return NULL;
}

/* Stage 4 check of one qube's references; NULL if fine. */
static const char *
check_refs(struct app *a, struct vm *vm, char *buf, size_t len)
{
	int pid;
	struct vm *t;
	const char *v;

	for (pid = 0; pid < VMP_COUNT; pid++) {
		if (vm_props[pid].type != PT_VM || !vm->props[pid].set)
			continue;
		v = vm->props[pid].value;
		if (*v == '\0') {
			if (pid == VMP_template)
				return "template cannot be None";
			continue;
		}
		t = app_vm(a, v);
		if (t == NULL) {
			snprintf(buf, len, "Can't set %s to non-existing qube "
			    "%s", vm_props[pid].name, v);
			return buf;
		}
		if (pid == VMP_template && vm->cls == VMC_APP &&
		    t->cls != VMC_TEMPLATE) {
			snprintf(buf, len, "template %s is not a TemplateVM", v);
			return buf;
		}
		if (pid == VMP_template && vm->cls == VMC_DISP &&
		    !vmprop_bool(t, VMP_template_for_dispvms)) {
			snprintf(buf, len, "template %s does not have "
			    "template_for_dispvms", v);
			return buf;
		}
		if (pid == VMP_netvm && !vmprop_bool(t, VMP_provides_network)) {
			snprintf(buf, len, "netvm %s does not provide network",
			    v);
			return buf;
		}
	}
	if (vmprop_applies(vm, VMP_template) && !vm->props[VMP_template].set)
		return "AppVM/DispVM without template";
	return NULL;
}

static int
load_globals(struct loadctx *lc, xmlNodePtr root)
{
	xmlNodePtr p;
	char *name, *v, *nv;
	const char *w;
	int pid;

	for (p = child(root, "properties") ?
	    child(root, "properties")->children : NULL; p; p = p->next) {
		if (!is_elem(p, "property"))
			continue;
		name = attr(p, "name");
		pid = name ? gprop_id(name) : -1;
		if (pid < 0) {
			/* unknown global properties are dropped */
			if (name && strcmp(name, "default_fw_netvm") != 0)
				log_info("qubes.xml: ignoring unknown global "
				    "property %s", name);
			free(name);
			continue;
		}
		v = text(p);
		if (global_props[pid].type == PT_VM) {
			if (*v && app_vm(lc->a, v) == NULL) {
				sb_addf(lc->err, "global property %s: Can't "
				    "set %s to non-existing qube %s", name,
				    name, v);
				goto bad;
			}
			if (*v && (global_props[pid].flags & PF_TEMPLATEVM) &&
			    app_vm(lc->a, v)->cls != VMC_TEMPLATE) {
				sb_addf(lc->err, "global property %s: %s is "
				    "not a TemplateVM", name, v);
				goto bad;
			}
			nv = xstrdup(v);
		} else if (strncmp(name, "default_pool", 12) == 0) {
			if (app_pool(lc->a, v) == NULL) {
				sb_addf(lc->err, "global property %s: No such "
				    "storage pool %s", name, v);
				goto bad;
			}
			nv = xstrdup(v);
		} else if (norm_value(global_props[pid].type, v, &nv, &w) < 0) {
			sb_addf(lc->err, "global property %s: %s", name, w);
			goto bad;
		}
		pval_set(&lc->a->gprops[pid], nv);
		free(nv);
		free(v);
		free(name);
		continue;
bad:
		free(v);
		free(name);
		return -1;
	}
	return 0;
}

static void
break_netvm_loops(struct app *a)
{
	size_t i;
	struct vm *vm, *nv;

	for (i = 0; i < a->nvms; i++) {
		vm = a->vms[i];
		if (!vmprop_applies(vm, VMP_netvm))
			continue;
		nv = vmprop_vm(vm, VMP_netvm);
		if (nv != NULL && vm_connected_through(nv, vm)) {
			log_warnx("qubes.xml: netvm loop through %s; setting "
			    "its netvm to none", vm->name);
			pval_set(&vm->props[VMP_netvm], "");
		}
	}
}

/* A qube loaded in stage 2 and the element it came from. */
struct loaded {
	struct vm	*vm;
	xmlNodePtr	 node;
	const char	*why;		/* non-NULL: to be left out */
	int		 added;		/* in the collection */
	char		 whybuf[512];
};

static int
load_doc(struct loadctx *lc)
{
	xmlNodePtr root, doms, d;
	struct loaded *l = NULL;
	struct vm *vm;
	const char *why;
	char whybuf[512], namebuf[128];
	char *nm, *cls;
	size_t i, j, n = 0;
	int changed, rc = -1;
	struct app *a = lc->a;

	root = xmlDocGetRootElement(lc->doc);
	if (root == NULL || !is_elem(root, "qubes")) {
		sb_adds(lc->err, "root element is not <qubes>");
		return -1;
	}
	if (load_labels(lc, root) < 0 || load_pools(lc, root) < 0)
		return -1;
	doms = child(root, "domains");
	/* stage 2: every domain on its own */
	for (d = doms ? doms->children : NULL; d != NULL; d = d->next) {
		if (!is_elem(d, "domain"))
			continue;
		vm = load_domain(lc, d, &why, whybuf, sizeof(whybuf));
		if (vm == NULL) {
			cls = attr(d, "class");
			j = cls && strcmp(cls, "AdminVM") == 0;
			free(cls);
			if (j) {
				/* leaving dom0 out would create a second one */
				sb_addf(lc->err, "dom0: %s", why);
				goto out;
			}
			nm = domain_prop(d, "name");
			cls = attr(d, "id");
			snprintf(namebuf, sizeof(namebuf), "'%s' (%s)",
			    nm ? nm : "?", cls ? cls : "no id");
			free(nm);
			free(cls);
			keep_domain(lc, d, namebuf, why);
			continue;
		}
		l = realloc(l, (n + 1) * sizeof(*l));
		if (l == NULL)
			fatalx("out of memory");
		memset(&l[n], 0, sizeof(l[n]));
		l[n].vm = vm;
		l[n].node = d;
		n++;
	}
	/* duplicates: every qube of a clash is left out, whatever the
	 * order in the file (a second dom0 stops the load) */
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++) {
			if (strcmp(l[i].vm->name, l[j].vm->name) != 0 &&
			    l[i].vm->qid != l[j].vm->qid)
				continue;
			if (l[i].vm->cls == VMC_ADMIN ||
			    l[j].vm->cls == VMC_ADMIN) {
				sb_adds(lc->err, "dom0: another qube has its "
				    "name or qid");
				goto out;
			}
			l[i].why = l[j].why = "another qube has the same "
			    "name or qid";
		}
	}
	for (i = 0; i < n; i++) {
		if (l[i].why != NULL)
			continue;
		if (app_add_vm(a, l[i].vm) < 0)
			fatalx("out of memory");
		l[i].added = 1;
	}
	if (app_dom0(a) == NULL) {
		vm = vm_new(VMC_ADMIN, "dom0", 0);
		if (vm == NULL || app_label_by_name(a, "black") == NULL) {
			vm_free(vm);
			sb_adds(lc->err, "no dom0 and no label black");
			goto out;
		}
		pval_set(&vm->props[VMP_label], "black");
		app_add_vm(a, vm);
	}
	/* stage 4: references; a qube naming a left-out one is left out */
	do {
		changed = 0;
		for (i = 0; i < n; i++) {
			if (l[i].why != NULL)
				continue;
			why = check_refs(a, l[i].vm, l[i].whybuf,
			    sizeof(l[i].whybuf));
			if (why == NULL)
				continue;
			if (l[i].vm->cls == VMC_ADMIN) {
				sb_addf(lc->err, "dom0: %s", why);
				goto out;
			}
			l[i].why = why;
			app_remove_vm(a, l[i].vm);
			changed = 1;
		}
	} while (changed);
	for (i = 0; i < n; i++) {
		if (l[i].why == NULL)
			continue;
		snprintf(namebuf, sizeof(namebuf), "'%s'", l[i].vm->name);
		keep_domain(lc, l[i].node, namebuf, l[i].why);
	}
	if (load_globals(lc, root) < 0)
		goto out;
	break_netvm_loops(a);
	for (i = 0; i < a->nvms; i++)
		vm_update_gui_audio_tags(a->vms[i], 0);
	rc = 0;
out:
	/* the collection owns what it holds (app_free on failure) */
	for (i = 0; i < n; i++)
		if (l[i].why != NULL || !l[i].added)
			vm_free(l[i].vm);
	free(l);
	return rc;
}

static int
load_common(xmlDocPtr doc, const char *base_dir, struct app **out,
    struct strbuf *err)
{
	struct loadctx lc;
	struct app *a;

	if (doc == NULL) {
		const xmlError *e = xmlGetLastError();

		sb_addf(err, "XML parse error: %s",
		    e && e->message ? e->message : "unknown");
		while (err->len && err->buf[err->len - 1] == '\n')
			err->buf[--err->len] = '\0';
		return -1;
	}
	a = app_new(base_dir);
	if (a == NULL)
		fatalx("out of memory");
	lc.a = a;
	lc.err = err;
	lc.doc = doc;
	/* references are resolved against the model being built */
	{
		struct app *saved = app;
		int r;

		app = a;
		r = load_doc(&lc);
		app = saved;
		if (r < 0) {
			xmlFreeDoc(doc);
			app_free(a);
			return -1;
		}
	}
	xmlFreeDoc(doc);
	*out = a;
	return 0;
}

#define XML_OPTS (XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | \
		  XML_PARSE_NOWARNING)

int
persist_load_mem(const char *data, size_t len, const char *base_dir,
    struct app **out, struct strbuf *err)
{
	xmlDocPtr doc;

	if (len > PERSIST_MAX_XML) {
		sb_adds(err, "qubes.xml too large");
		return -1;
	}
	if (kept_doc != NULL) {
		xmlFreeDoc(kept_doc);
		kept_doc = NULL;
	}
	xmlResetLastError();
	doc = xmlReadMemory(data, (int)len, "qubes.xml", NULL, XML_OPTS);
	return load_common(doc, base_dir, out, err);
}

int
persist_load(const char *path, const char *base_dir, struct app **out,
    struct strbuf *err)
{
	struct stat st;
	int fd, r;
	char *data = NULL;
	size_t len;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			sb_addf(err, "Qubes XML store '%s' is missing; use "
			    "qubes-create tool (or --init)", path);
		else
			sb_addf(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || st.st_size > (off_t)PERSIST_MAX_XML) {
		sb_addf(err, "%s: unreadable or too large", path);
		close(fd);
		return -1;
	}
	data = malloc((size_t)st.st_size + 1);
	if (data == NULL)
		fatalx("out of memory");
	len = 0;
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, data + len, (size_t)st.st_size - len);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	r = persist_load_mem(data, len, base_dir, out, err);
	free(data);
	if (r == 0) {
		free(store_path);
		store_path = xstrdup(path);
		store_mtime = st.st_mtim;
		store_mtime_known = 1;
	}
	return r;
}

/* ---- saving */

static void
add_prop(xmlNodePtr props, const char *name, const char *value)
{
	xmlNodePtr p = xmlNewTextChild(props, NULL,
	    (const xmlChar *)"property", (const xmlChar *)value);

	xmlNewProp(p, (const xmlChar *)"name", (const xmlChar *)name);
}

static void
add_attrs(xmlNodePtr n, const struct kvlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		xmlNewProp(n, (const xmlChar *)l->v[i].key,
		    (const xmlChar *)l->v[i].value);
}

static void
save_domain(xmlNodePtr doms, const struct vm *vm)
{
	xmlNodePtr d, props, f, t, n, dv;
	char id[32];
	size_t i, j;
	int pid;

	d = xmlNewChild(doms, NULL, (const xmlChar *)"domain", NULL);
	snprintf(id, sizeof(id), "domain-%d", vm->qid);
	xmlNewProp(d, (const xmlChar *)"id", (const xmlChar *)id);
	xmlNewProp(d, (const xmlChar *)"class",
	    (const xmlChar *)vm_class_names[vm->cls]);
	props = xmlNewChild(d, NULL, (const xmlChar *)"properties", NULL);
	for (pid = 0; pid < VMP_COUNT; pid++) {
		if (!vm->props[pid].set || (vm_props[pid].flags & PF_COMPUTED))
			continue;
		if (vm->cls == VMC_ADMIN && (pid == VMP_name ||
		    pid == VMP_qid || pid == VMP_uuid))
			continue;
		add_prop(props, vm_props[pid].name, vm->props[pid].value);
	}
	f = xmlNewChild(d, NULL, (const xmlChar *)"features", NULL);
	for (i = 0; i < vm->features.n; i++) {
		n = xmlNewTextChild(f, NULL, (const xmlChar *)"feature",
		    (const xmlChar *)vm->features.v[i].value);
		xmlNewProp(n, (const xmlChar *)"name",
		    (const xmlChar *)vm->features.v[i].key);
	}
	for (i = 0; i < vm->ndevs; i++) {
		n = xmlNewChild(d, NULL, (const xmlChar *)"devices", NULL);
		xmlNewProp(n, (const xmlChar *)"class",
		    (const xmlChar *)vm->devs[i].cls);
		for (j = 0; j < vm->devs[i].n; j++) {
			const struct device *dev = &vm->devs[i].v[j];
			size_t k;

			dv = xmlNewChild(n, NULL, (const xmlChar *)"device",
			    NULL);
			xmlNewProp(dv, (const xmlChar *)"backend-domain",
			    (const xmlChar *)dev->backend);
			xmlNewProp(dv, (const xmlChar *)"id",
			    (const xmlChar *)dev->ident);
			for (k = 0; k < dev->options.n; k++) {
				xmlNodePtr o = xmlNewTextChild(dv, NULL,
				    (const xmlChar *)"option", (const xmlChar *)
				    dev->options.v[k].value);
				xmlNewProp(o, (const xmlChar *)"name",
				    (const xmlChar *)dev->options.v[k].key);
			}
		}
	}
	t = xmlNewChild(d, NULL, (const xmlChar *)"tags", NULL);
	for (i = 0; i < vm->tags.n; i++) {
		n = xmlNewChild(t, NULL, (const xmlChar *)"tag", NULL);
		xmlNewProp(n, (const xmlChar *)"name",
		    (const xmlChar *)vm->tags.v[i]);
	}
	if (vm->cls != VMC_ADMIN && vm->has_volume_config) {
		n = xmlNewChild(d, NULL, (const xmlChar *)"volume-config",
		    NULL);
		for (i = 0; i < vm->nvolumes; i++) {
			dv = xmlNewChild(n, NULL, (const xmlChar *)"volume",
			    NULL);
			add_attrs(dv, &vm->volumes[i]);
		}
	}
}

int
persist_serialize(const struct app *a, char **out, size_t *outlen)
{
	xmlDocPtr doc;
	xmlNodePtr root, labels, pools, props, doms, n, k;
	xmlBufferPtr buf;
	xmlSaveCtxtPtr sc;
	char id[32];
	size_t i;
	int pid;

	doc = xmlNewDoc((const xmlChar *)"1.0");
	root = xmlNewNode(NULL, (const xmlChar *)"qubes");
	xmlDocSetRootElement(doc, root);
	labels = xmlNewChild(root, NULL, (const xmlChar *)"labels", NULL);
	for (i = 0; i < a->nlabels; i++) {
		n = xmlNewTextChild(labels, NULL, (const xmlChar *)"label",
		    (const xmlChar *)a->labels[i].name);
		snprintf(id, sizeof(id), "label-%d", a->labels[i].index);
		xmlNewProp(n, (const xmlChar *)"id", (const xmlChar *)id);
		xmlNewProp(n, (const xmlChar *)"color",
		    (const xmlChar *)a->labels[i].color);
	}
	pools = xmlNewChild(root, NULL, (const xmlChar *)"pools", NULL);
	for (i = 0; i < a->npools; i++) {
		n = xmlNewChild(pools, NULL, (const xmlChar *)"pool", NULL);
		add_attrs(n, &a->pools[i]);
	}
	props = xmlNewChild(root, NULL, (const xmlChar *)"properties", NULL);
	for (pid = 0; pid < GP_COUNT; pid++)
		if (a->gprops[pid].set)
			add_prop(props, global_props[pid].name,
			    a->gprops[pid].value);
	doms = xmlNewChild(root, NULL, (const xmlChar *)"domains", NULL);
	for (i = 0; i < a->nvms; i++)
		save_domain(doms, a->vms[i]);
	if (kept_doc != NULL)
		for (k = xmlDocGetRootElement(kept_doc)->children; k;
		    k = k->next)
			xmlAddChild(doms, xmlDocCopyNode(k, doc, 1));

	buf = xmlBufferCreate();
	sc = xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_FORMAT | XML_SAVE_NO_DECL);
	if (buf == NULL || sc == NULL || xmlSaveDoc(sc, doc) < 0) {
		if (sc)
			xmlSaveClose(sc);
		xmlBufferFree(buf);
		xmlFreeDoc(doc);
		return -1;
	}
	xmlSaveClose(sc);
	*outlen = (size_t)xmlBufferLength(buf);
	*out = malloc(*outlen + 1);
	if (*out == NULL)
		fatalx("out of memory");
	memcpy(*out, xmlBufferContent(buf), *outlen);
	(*out)[*outlen] = '\0';
	xmlBufferFree(buf);
	xmlFreeDoc(doc);
	return 0;
}

static gid_t
qubes_gid(void)
{
	struct group *g = getgrnam("qubes");

	return g ? g->gr_gid : (gid_t)-1;
}

int
persist_save(struct strbuf *err)
{
	struct stat st;
	char *data;
	size_t len;
	const char *step;
	int fd = -1, rc = -1;

	if (store_path == NULL) {
		sb_adds(err, "no store loaded");
		return -1;
	}
	if (persist_serialize(app, &data, &len) < 0) {
		sb_adds(err, "cannot serialize");
		return -1;
	}
	/* qubes-xml.md 11.1: lock qubes.xml itself, check for outside
	 * modifications first */
	fd = open(store_path, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && store_mtime_known &&
	    (st.st_mtim.tv_sec != store_mtime.tv_sec ||
	    st.st_mtim.tv_nsec != store_mtime.tv_nsec)) {
		sb_adds(err, "Someone else modified qubes.xml in the meantime");
		goto out;
	}
	if (fd >= 0 && lockf(fd, F_LOCK, 0) < 0) {
		sb_addf(err, "cannot lock %s: %s", store_path, strerror(errno));
		goto out;
	}
	if (atomicfile_write(store_path, data, len, 0660, qubes_gid(), &st,
	    &step) < 0) {
		sb_addf(err, "cannot write %s (%s): %s", store_path,
		    step ? step : "?", strerror(errno));
		goto out;
	}
	store_mtime = st.st_mtim;
	store_mtime_known = 1;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(data);
	return rc;
}

int
persist_commit(struct reply *r)
{
	struct strbuf err;
	struct strbuf lerr;
	struct app *fresh = NULL;
	uint64_t mem;

	sb_init(&err, 4096);
	if (persist_save(&err) == 0) {
		sb_free(&err);
		ev_commit();
		return API_OK;
	}
	ev_discard();
	log_warnx("save failed, change undone: %s", err.buf);
	/* the store on disk still holds the previous state */
	sb_init(&lerr, 4096);
	mem = app->host_mem_kib;
	{
		/* persist_load() replaces store_path: pass a copy */
		char *p = xstrdup(store_path);

		if (persist_load(p, app->base_dir, &fresh, &lerr) < 0)
			fatalx("cannot reload %s after a failed save: %s", p,
			    lerr.buf);
		free(p);
	}
	fresh->host_mem_kib = mem;
	/* runtime state is not in the file: carry it over (workers find
	 * their qubes again by name) */
	{
		size_t i;
		struct vm *o, *nv;

		for (i = 0; i < fresh->nvms; i++) {
			nv = fresh->vms[i];
			if ((o = app_vm(app, nv->name)) == NULL)
				continue;
			nv->power = o->power;
			nv->xid = o->xid;
			nv->start_time = o->start_time;
			nv->maxmem_kib = o->maxmem_kib;
			nv->busy = o->busy;
			nv->cleanup_pending = o->cleanup_pending;
		}
	}
	app_free(app);
	app = fresh;
	sb_free(&lerr);
	reply_error(r, "QubesException", "Failed to save qubes.xml: %s",
	    err.buf);
	sb_free(&err);
	return API_ERROR;
}

int
persist_create(const char *path, const char *base_dir, struct strbuf *err)
{
	static const struct {
		const char *name, *color;
	} dl[8] = {
		{ "red", "0xcc0000" }, { "orange", "0xf57900" },
		{ "yellow", "0xedd400" }, { "green", "0x73d216" },
		{ "gray", "0x555555" }, { "blue", "0x3465a4" },
		{ "purple", "0x75507b" }, { "black", "0x000000" },
	};
	struct app *a;
	struct vm *d0;
	struct kvlist *pools;
	struct strbuf kdir;
	char *data;
	size_t len, i;
	const char *step;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0660);
	if (fd < 0) {
		sb_addf(err, "%s: %s", path, errno == EEXIST ?
		    "already exists, aborting" : strerror(errno));
		return -1;
	}
	close(fd);
	a = app_new(base_dir);
	for (i = 0; i < 8; i++)
		app_add_label(a, (int)i + 1, dl[i].name, dl[i].color);
	pools = xcalloc(2, sizeof(*pools));
	a->pools = pools;
	a->npools = 2;
	kvl_set(&pools[0], "name", "varlibqubes");
	kvl_set(&pools[0], "dir_path", base_dir);
	/* qubes-create: file-reflink where the directory can reflink */
	kvl_set(&pools[0], "driver", reflink_dir_supported(base_dir) == 1 ?
	    "file-reflink" : "file");
	kvl_set(&pools[0], "revisions_to_keep", "1");
	sb_init(&kdir, 0);
	sb_addf(&kdir, "%s/vm-kernels", base_dir);
	kvl_set(&pools[1], "name", "linux-kernel");
	kvl_set(&pools[1], "dir_path", kdir.buf);
	kvl_set(&pools[1], "driver", "linux-kernel");
	sb_free(&kdir);
	pval_set(&a->gprops[GP_default_pool_kernel], "linux-kernel");
	d0 = vm_new(VMC_ADMIN, "dom0", 0);
	pval_set(&d0->props[VMP_label], "black");
	app_add_vm(a, d0);
	if (persist_serialize(a, &data, &len) < 0) {
		app_free(a);
		unlink(path);
		sb_adds(err, "cannot serialize");
		return -1;
	}
	app_free(a);
	if (atomicfile_write(path, data, len, 0660, qubes_gid(), NULL,
	    &step) < 0) {
		sb_addf(err, "cannot write %s (%s): %s", path, step,
		    strerror(errno));
		free(data);
		unlink(path);
		return -1;
	}
	free(data);
	return 0;
}

void
persist_cleanup(void)
{
	if (kept_doc != NULL)
		xmlFreeDoc(kept_doc);
	kept_doc = NULL;
	free(store_path);
	store_path = NULL;
}

int
persist_quarantined_name(const char *name)
{
	xmlNodePtr d;
	char *n;
	int found = 0;

	if (kept_doc == NULL)
		return 0;
	for (d = xmlDocGetRootElement(kept_doc)->children; d && !found;
	    d = d->next) {
		n = domain_prop(d, "name");
		found = n != NULL && strcmp(n, name) == 0;
		free(n);
	}
	return found;
}

int
persist_quarantined_qid(int qid)
{
	xmlNodePtr d;
	char *q;
	int64_t v;
	int found = 0;

	if (kept_doc == NULL)
		return 0;
	for (d = xmlDocGetRootElement(kept_doc)->children; d && !found;
	    d = d->next) {
		q = domain_prop(d, "qid");
		found = q != NULL && parse_pyint(q, strlen(q), &v) == 0 &&
		    v == qid;
		free(q);
	}
	return found;
}
