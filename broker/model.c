/*
 * model.c - the in-memory state and its container helpers.  The only
 * mutable global of the broker lives here (STYLE rule 14).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "validate.h"

struct app *app;

const char *const vm_class_names[VMC_COUNT] = {
	"AdminVM", "AppVM", "DispVM", "StandaloneVM", "TemplateVM",
};

int
vm_class_from_name(const char *s)
{
	int i;

	for (i = 0; i < VMC_COUNT; i++)
		if (strcmp(vm_class_names[i], s) == 0)
			return i;
	return -1;
}

/* ---- kvlist */

const char *
kvl_get(const struct kvlist *l, const char *key)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return l->v[i].value;
	return NULL;
}

int
kvl_set(struct kvlist *l, const char *key, const char *value)
{
	size_t i;
	char *v, *k;
	struct kv *nv;

	v = strdup(value);
	if (v == NULL)
		return -1;
	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].key, key) == 0) {
			free(l->v[i].value);
			l->v[i].value = v;
			return 0;
		}
	}
	if (l->n == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 8;

		nv = realloc(l->v, na * sizeof(*nv));
		if (nv == NULL) {
			free(v);
			return -1;
		}
		l->v = nv;
		l->alloc = na;
	}
	k = strdup(key);
	if (k == NULL) {
		free(v);
		return -1;
	}
	l->v[l->n].key = k;
	l->v[l->n].value = v;
	l->n++;
	return 0;
}

int
kvl_del(struct kvlist *l, const char *key)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].key, key) == 0) {
			free(l->v[i].key);
			free(l->v[i].value);
			memmove(&l->v[i], &l->v[i + 1],
			    (l->n - i - 1) * sizeof(l->v[0]));
			l->n--;
			return 1;
		}
	}
	return 0;
}

int
kvl_copy(struct kvlist *dst, const struct kvlist *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		if (kvl_set(dst, src->v[i].key, src->v[i].value) < 0)
			return -1;
	return 0;
}

void
kvl_free(struct kvlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- strset (sorted, bytewise) */

static size_t
strset_pos(const struct strset *s, const char *x, int *found)
{
	size_t lo = 0, hi = s->n, mid;
	int c;

	*found = 0;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		c = strcmp(s->v[mid], x);
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

int
strset_has(const struct strset *s, const char *x)
{
	int found;

	strset_pos(s, x, &found);
	return found;
}

int
strset_add(struct strset *s, const char *x)
{
	int found;
	size_t pos = strset_pos(s, x, &found);
	char **nv, *d;

	if (found)
		return 0;
	d = strdup(x);
	if (d == NULL)
		return -1;
	nv = realloc(s->v, (s->n + 1) * sizeof(*nv));
	if (nv == NULL) {
		free(d);
		return -1;
	}
	s->v = nv;
	memmove(&s->v[pos + 1], &s->v[pos], (s->n - pos) * sizeof(*nv));
	s->v[pos] = d;
	s->n++;
	return 1;
}

int
strset_del(struct strset *s, const char *x)
{
	int found;
	size_t pos = strset_pos(s, x, &found);

	if (!found)
		return 0;
	free(s->v[pos]);
	memmove(&s->v[pos], &s->v[pos + 1], (s->n - pos - 1) * sizeof(char *));
	s->n--;
	return 1;
}

void
strset_free(struct strset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* ---- properties */

int
pval_set(struct pval *p, const char *value)
{
	char *v = NULL;

	if (value != NULL && (v = strdup(value)) == NULL)
		return -1;
	free(p->value);
	p->value = v;
	p->set = v != NULL;
	return 0;
}

/* ---- qubes */

struct vm *
vm_new(enum vm_class cls, const char *name, int qid)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	if (vm == NULL)
		return NULL;
	vm->cls = cls;
	vm->qid = qid;
	vm->xid = -1;
	vm->name = strdup(name);
	if (vm->name == NULL) {
		free(vm);
		return NULL;
	}
	return vm;
}

void
vm_free(struct vm *vm)
{
	size_t i, j;

	if (vm == NULL)
		return;
	free(vm->name);
	for (i = 0; i < VMP_MAX; i++)
		free(vm->props[i].value);
	kvl_free(&vm->features);
	strset_free(&vm->tags);
	for (i = 0; i < vm->ndevs; i++) {
		for (j = 0; j < vm->devs[i].n; j++) {
			free(vm->devs[i].v[j].backend);
			free(vm->devs[i].v[j].ident);
			kvl_free(&vm->devs[i].v[j].options);
		}
		free(vm->devs[i].v);
		free(vm->devs[i].cls);
	}
	free(vm->devs);
	for (i = 0; i < vm->nvolumes; i++)
		kvl_free(&vm->volumes[i]);
	free(vm->volumes);
	free(vm);
}

static int
vm_order(const struct vm *a, const struct vm *b)
{
	if (a->cls == VMC_ADMIN)
		return b->cls == VMC_ADMIN ? 0 : -1;
	if (b->cls == VMC_ADMIN)
		return 1;
	return strcmp(a->name, b->name);
}

int
app_add_vm(struct app *a, struct vm *vm)
{
	struct vm **nv;
	size_t pos;

	nv = realloc(a->vms, (a->nvms + 1) * sizeof(*nv));
	if (nv == NULL)
		return -1;
	a->vms = nv;
	for (pos = 0; pos < a->nvms; pos++)
		if (vm_order(vm, a->vms[pos]) < 0)
			break;
	memmove(&a->vms[pos + 1], &a->vms[pos],
	    (a->nvms - pos) * sizeof(*nv));
	a->vms[pos] = vm;
	a->nvms++;
	return 0;
}

void
app_remove_vm(struct app *a, struct vm *vm)
{
	size_t i;

	for (i = 0; i < a->nvms; i++) {
		if (a->vms[i] == vm) {
			memmove(&a->vms[i], &a->vms[i + 1],
			    (a->nvms - i - 1) * sizeof(a->vms[0]));
			a->nvms--;
			return;
		}
	}
}

struct vm *
app_vm(const struct app *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nvms; i++)
		if (strcmp(a->vms[i]->name, name) == 0)
			return a->vms[i];
	return NULL;
}

struct vm *
app_vm_by_qid(const struct app *a, int qid)
{
	size_t i;

	for (i = 0; i < a->nvms; i++)
		if (a->vms[i]->qid == qid)
			return a->vms[i];
	return NULL;
}

struct vm *
app_dom0(const struct app *a)
{
	/* collection order puts the AdminVM first */
	if (a->nvms > 0 && a->vms[0]->cls == VMC_ADMIN)
		return a->vms[0];
	return NULL;
}

struct app *
app_new(const char *base_dir)
{
	struct app *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->base_dir = strdup(base_dir);
	if (a->base_dir == NULL) {
		free(a);
		return NULL;
	}
	a->host_mem_kib = 4096 * 1024;
	return a;
}

void
app_free(struct app *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->nvms; i++)
		vm_free(a->vms[i]);
	free(a->vms);
	for (i = 0; i < a->nlabels; i++) {
		free(a->labels[i].name);
		free(a->labels[i].color);
	}
	free(a->labels);
	for (i = 0; i < a->npools; i++)
		kvl_free(&a->pools[i]);
	free(a->pools);
	for (i = 0; i < GP_MAX; i++)
		free(a->gprops[i].value);
	free(a->base_dir);
	free(a);
}

/* ---- labels */

struct label *
app_label_by_name(const struct app *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nlabels; i++)
		if (strcmp(a->labels[i].name, name) == 0)
			return &a->labels[i];
	return NULL;
}

struct label *
app_label_by_index(const struct app *a, int index)
{
	size_t i;

	for (i = 0; i < a->nlabels; i++)
		if (a->labels[i].index == index)
			return &a->labels[i];
	return NULL;
}

struct label *
app_label_lookup(const struct app *a, const char *s)
{
	struct label *l;
	int64_t n;

	/* qubes.app.Qubes.get_label: name, then int(s) as index */
	if ((l = app_label_by_name(a, s)) != NULL)
		return l;
	if (parse_pyint(s, strlen(s), &n) == 0 && n >= 0 && n <= 0x7fffffff)
		return app_label_by_index(a, (int)n);
	return NULL;
}

int
app_add_label(struct app *a, int index, const char *name, const char *color)
{
	struct label *nl;
	size_t pos;
	char *n, *c;

	n = strdup(name);
	c = strdup(color);
	nl = realloc(a->labels, (a->nlabels + 1) * sizeof(*nl));
	if (n == NULL || c == NULL || nl == NULL) {
		free(n);
		free(c);
		if (nl != NULL)
			a->labels = nl;
		return -1;
	}
	a->labels = nl;
	for (pos = 0; pos < a->nlabels; pos++)
		if (a->labels[pos].index > index)
			break;
	memmove(&a->labels[pos + 1], &a->labels[pos],
	    (a->nlabels - pos) * sizeof(*nl));
	a->labels[pos].index = index;
	a->labels[pos].name = n;
	a->labels[pos].color = c;
	a->nlabels++;
	return 0;
}

void
app_remove_label(struct app *a, struct label *l)
{
	size_t i = (size_t)(l - a->labels);

	free(l->name);
	free(l->color);
	memmove(&a->labels[i], &a->labels[i + 1],
	    (a->nlabels - i - 1) * sizeof(*l));
	a->nlabels--;
}

/* ---- pools */

const struct kvlist *
app_pool(const struct app *a, const char *name)
{
	size_t i;
	const char *n;

	for (i = 0; i < a->npools; i++) {
		n = kvl_get(&a->pools[i], "name");
		if (n != NULL && strcmp(n, name) == 0)
			return &a->pools[i];
	}
	return NULL;
}

const char *
pool_attr(const struct kvlist *pool, const char *key)
{
	return kvl_get(pool, key);
}

size_t
vm_persistent_pci_count(const struct vm *vm)
{
	size_t i;

	for (i = 0; i < vm->ndevs; i++)
		if (strcmp(vm->devs[i].cls, "pci") == 0)
			return vm->devs[i].n;
	return 0;
}
