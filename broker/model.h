/*
 * model.h - the in-memory state: qubes, their properties, features, tags,
 * devices and volume configuration; labels; pools; global properties.
 *
 * model.c owns the only mutable global, `app`.  Everything is plain data:
 * property values are stored as the text qubes.xml holds (bool "True" /
 * "False", decimal ints, qube and label names), with a separate "set" flag
 * per property (qubes-xml.md 15.1).  Computed values and defaults live in
 * props.c.
 *
 * Qubes are kept sorted in collection order (dom0 first, then by name,
 * bytewise: calls-core.md 0.1), so every listing is a plain walk.
 *
 * Ownership: every char * inside these structs is owned by the struct;
 * setters copy their arguments.  Functions returning struct vm * borrow.
 */
#ifndef MODEL_H
#define MODEL_H

#include <stddef.h>
#include <stdint.h>

enum vm_class {
	VMC_ADMIN,
	VMC_APP,
	VMC_DISP,
	VMC_STANDALONE,
	VMC_TEMPLATE,
};
#define VMC_COUNT	5
#define VMC_BIT(c)	(1u << (c))

/* "AdminVM", ... in admin.vmclass.List order. */
extern const char *const vm_class_names[VMC_COUNT];
/* Class by name; -1 if unknown. */
int	vm_class_from_name(const char *s);

/* Ordered key/value list: features, pool and volume attributes. */
struct kv {
	char	*key;
	char	*value;
};
struct kvlist {
	struct kv	*v;
	size_t		 n;
	size_t		 alloc;
};
const char *kvl_get(const struct kvlist *l, const char *key);
/* Replace in place, or append; 0 or -1 (ENOMEM). */
int	kvl_set(struct kvlist *l, const char *key, const char *value);
/* 1 if removed, 0 if absent. */
int	kvl_del(struct kvlist *l, const char *key);
int	kvl_copy(struct kvlist *dst, const struct kvlist *src);
void	kvl_free(struct kvlist *l);

/* Sorted set of strings (tags). */
struct strset {
	char	**v;
	size_t	  n;
};
int	strset_has(const struct strset *s, const char *x);
/* 1 if added, 0 if present, -1 on ENOMEM. */
int	strset_add(struct strset *s, const char *x);
int	strset_del(struct strset *s, const char *x);
void	strset_free(struct strset *s);

struct pval {
	int	 set;
	char	*value;		/* non-NULL iff set; "" = explicit None/empty */
};

/* Persistent device assignment (kept verbatim for qubes.xml). */
struct device {
	char		*backend;
	char		*ident;
	struct kvlist	 options;
};
struct devclass {
	char		*cls;
	struct device	*v;
	size_t		 n;
};

/* Property ids are indices into the tables of props.c. */
#define VMP_MAX		64
#define GP_MAX		32

struct vm {
	enum vm_class	 cls;
	char		*name;
	int		 qid;
	struct pval	 props[VMP_MAX];
	struct kvlist	 features;	/* insertion order */
	struct strset	 tags;
	struct devclass	*devs;
	size_t		 ndevs;
	struct kvlist	*volumes;	/* <volume> attributes, in order */
	size_t		 nvolumes;
	int		 has_volume_config;

	/* Runtime state, never persisted: virt.c keeps it in step with
	 * libvirt (lifecycle events and the lifecycle calls), so that
	 * readers never wait for libvirt.  Guarded by the model lock. */
	int		 power;		/* enum vm_power (virt.h) */
	int		 xid;		/* -1 while not running */
	double		 start_time;	/* Unix time of the last start */
	unsigned long long maxmem_kib;	/* of the libvirt domain, 0 if none */
	int		 busy;		/* a lifecycle call owns the qube */
	int		 cleanup_pending; /* auto_cleanup once released */
};

struct label {
	int	 index;
	char	*name;
	char	*color;
};

struct app {
	struct vm	**vms;		/* collection order */
	size_t		  nvms;
	struct label	 *labels;	/* index order */
	size_t		  nlabels;
	struct kvlist	 *pools;	/* pool attributes, file order */
	size_t		  npools;
	struct pval	  gprops[GP_MAX];
	char		 *base_dir;
	uint64_t	  host_mem_kib;	/* libvirt node memory */
};

extern struct app *app;

struct app *app_new(const char *base_dir);
void	app_free(struct app *a);

/* Qubes */
struct vm *vm_new(enum vm_class cls, const char *name, int qid);
void	vm_free(struct vm *vm);
/* Insert keeping collection order; takes ownership.  -1 on ENOMEM. */
int	app_add_vm(struct app *a, struct vm *vm);
/* Detach from the collection (not freed). */
void	app_remove_vm(struct app *a, struct vm *vm);
struct vm *app_vm(const struct app *a, const char *name);
struct vm *app_vm_by_qid(const struct app *a, int qid);
struct vm *app_dom0(const struct app *a);

/* Store an explicit property value (copied); NULL resets. */
int	pval_set(struct pval *p, const char *value);

/* Labels: lookup as qubes.app.Qubes.get_label (index, name, number). */
struct label *app_label_by_name(const struct app *a, const char *name);
struct label *app_label_by_index(const struct app *a, int index);
struct label *app_label_lookup(const struct app *a, const char *s);
int	app_add_label(struct app *a, int index, const char *name,
	    const char *color);
void	app_remove_label(struct app *a, struct label *l);

/* Pools */
const struct kvlist *app_pool(const struct app *a, const char *name);
const char *pool_attr(const struct kvlist *pool, const char *key);

/* Devices */
size_t	vm_persistent_pci_count(const struct vm *vm);

#endif
