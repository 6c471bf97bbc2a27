/*
 * storage.h - pools, volumes and the storage-driver interface
 * (storage.md).
 *
 * Model.  Pools are struct kvlist in app->pools (the <pool> attributes,
 * raw strings as given: storage.md 2.1 "echo the raw strings, parse them
 * for behaviour").  A qube's volumes are struct kvlist in vm->volumes (the
 * <volume> attributes of qubes-xml.md 7.7, in the order root, private,
 * volatile, kernel, extras).  Both are persisted verbatim by persist.c, so
 * drivers keep whatever they need in those attributes (never booleans
 * "False": omit the attribute).  struct vol is a parsed, read-only view of
 * one volume built on demand by vol_view(); drivers change a volume
 * through vol_set()/vol_unset().
 *
 * Drivers.  One struct storage_driver per driver name, registered in the
 * order of admin.pool.ListDrivers (file, file-reflink, linux-kernel,
 * lvm_thin).  Every operation takes the reply of the current call: it
 * returns API_OK, or API_ERROR after reply_error() (StoragePoolException,
 * QubesValueError ... with the reference's message), or API_REFUSE for
 * what the reference answers with a silent close (NotImplementedError and
 * other non-Qubes exceptions: storage.md 9.1).  A NULL operation means
 * "not implemented": callers answer API_REFUSE.
 *
 * Paths handed out by import_begin are inside the pool's storage and
 * never contain a space (ImportBegin refuses such paths).
 *
 * Blocking: driver operations run on the broker's loop; they must not
 * take long (file/reflink create sparse files and rename; lvm runs the
 * LVM tools, bounded by a timeout).  Bulk data never passes through the
 * broker: Import streams in the service executable.
 */
#ifndef STORAGE_H
#define STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "call.h"
#include "model.h"

/* Parsed view of one volume (borrowed strings: valid while the kvlist
 * is unchanged). */
struct vol {
	const struct kvlist	*kv;
	const char		*name;
	const char		*pool;		/* pool name */
	const char		*vid;
	const char		*source;	/* source vid or NULL */
	int			 rw;
	int			 save_on_stop;
	int			 snap_on_start;
	int			 ephemeral;	/* -1 unset, 0, 1 */
	uint64_t		 size;		/* configured size */
	long long		 revisions_to_keep;
};

/* What admin.vm.volume.Info needs from the driver. */
struct vol_state {
	uint64_t	 size;		/* current size (storage.md 1.1) */
	uint64_t	 usage;		/* allocated bytes, 0 if unknown */
	char		 path[4096];	/* "" if none */
	int		 is_outdated;
};

/* What admin.pool.Info prints after the config keys. */
struct pool_usage {
	int		 have_size, have_usage;
	uint64_t	 size, usage;
};

struct storage_driver {
	const char		*name;
	/* constructor parameters minus name, ListDrivers order */
	const char *const	*params;
	/* parameters with defaults for Info/config ("key", "default") */
	const char *const	*defaults;	/* NULL-terminated pairs */

	/* admin.pool.Add: validate the config and set the pool up
	 * (directories, reflink check, LVM checks). */
	int	(*pool_setup)(struct reply *r, const struct kvlist *pool);
	void	(*pool_usage)(const struct kvlist *pool, struct pool_usage *u);
	/* admin.pool.UsageDetails body ("key=value\n", sorted) */
	int	(*pool_usage_details)(struct reply *r, const struct kvlist *pool,
		    struct strbuf *out);
	/* admin.pool.volume.List body (vids, one per line) */
	int	(*pool_volumes)(struct reply *r, const struct kvlist *pool,
		    struct strbuf *out);
	/* pool.Set.revisions_to_keep / vm.volume.Set.revisions_to_keep
	 * value check (file: >1 refused, linux-kernel: non-zero refused) */
	int	(*check_revisions)(struct reply *r, long long n);

	/* Volumes.  vm owns vol; pool is the volume's pool. */
	int	(*vol_create)(struct reply *r, const struct kvlist *pool,
		    struct vm *vm, const struct vol *vol);
	int	(*vol_remove)(struct reply *r, const struct kvlist *pool,
		    struct vm *vm, const struct vol *vol);
	void	(*vol_state)(const struct kvlist *pool, const struct vm *vm,
		    const struct vol *vol, struct vol_state *st);
	/* revision ids, oldest first, one per line */
	int	(*vol_revisions)(struct reply *r, const struct kvlist *pool,
		    const struct vol *vol, struct strbuf *out);
	int	(*vol_revert)(struct reply *r, const struct kvlist *pool,
		    struct vm *vm, const struct vol *vol, const char *revision);
	int	(*vol_resize)(struct reply *r, const struct kvlist *pool,
		    struct vm *vm, const struct vol *vol, uint64_t size);
	/* import: a zero-filled target of exactly size bytes; *path is
	 * written into pathbuf (PATH_MAX) */
	int	(*import_begin)(struct reply *r, const struct kvlist *pool,
		    struct vm *vm, const struct vol *vol, uint64_t size,
		    char *pathbuf, size_t pathlen);
	int	(*import_end)(struct reply *r, const struct kvlist *pool,
		    struct vm *vm, const struct vol *vol, int success);
	/* CloneTo: copy src's last committed data into dst */
	int	(*vol_clone)(struct reply *r, const struct kvlist *dpool,
		    struct vm *dvm, const struct vol *dst,
		    const struct kvlist *spool, const struct vm *svm,
		    const struct vol *src);
	/* Set.rw / Set.ephemeral driver refusals (NULL: allowed) */
	int	(*check_rw)(struct reply *r, int rw);
	int	(*check_ephemeral)(struct reply *r, int eph);
};

/* ---- registry and pools */

/* Drivers in ListDrivers order; NULL-terminated. */
extern const struct storage_driver *const storage_drivers[];
const struct storage_driver *storage_driver(const char *name);
const struct storage_driver *pool_driver(const struct kvlist *pool);
/* Pool attribute with the driver default filled in; NULL if neither. */
const char *pool_param(const struct kvlist *pool, const char *key);
/* Parsed pool revisions_to_keep (default 1). */
long long pool_revisions(const struct kvlist *pool);
/* Boolean parser of storage.md 0.2; -1 if invalid. */
int	storage_parse_bool(const char *s);

/* ---- volumes */

/* The volume named `name` of vm, or NULL. */
struct kvlist *vm_volume(const struct vm *vm, const char *name);
/* Parse a volume's attributes. */
void	vol_view(const struct kvlist *kv, struct vol *out);
int	vol_set(struct kvlist *kv, const char *key, const char *value);
void	vol_unset(struct kvlist *kv, const char *key);
/* Effective ephemeral of storage.md 1.1. */
int	vol_effective_ephemeral(const struct vol *v, const struct kvlist *pool);

/* ---- qube storage (Create / Remove) */

/* Create the images of every volume of a new qube (after volconfig). */
int	storage_create_vm(struct reply *r, struct vm *vm);
/* Remove them (errors are only logged, as the reference does). */
void	storage_remove_vm(struct vm *vm);

/* Per-qube directory: <pool dir>/appvms/<name> or vm-templates/<name>. */
int	storage_vm_dir(const struct kvlist *pool, const struct vm *vm,
	    char *buf, size_t len);

/* ---- file-reflink specifics (storage_reflink.c) */

/* 1 if files in dir can be reflinked (FICLONE works), 0 if not, -1 on
 * error: the default pool of a new store (storage.md 2.3). */
int	reflink_dir_supported(const char *dir);
/* Parse a revision file name "V.img.<N>@<time>Z" suffix. */
int	reflink_parse_revision(const char *name, unsigned long long *n,
	    size_t *idlen);
/* Lifecycle operations, for the VM start/stop path. */
int	reflink_vol_start(struct reply *r, const struct kvlist *pool,
	    struct vm *vm, const struct vol *v);
int	reflink_vol_stop(struct reply *r, const struct kvlist *pool,
	    struct vm *vm, const struct vol *v);

/* ---- helpers shared by the file-based drivers */

/* Create a sparse file of exactly size bytes (mode 0664); fails with
 * EEXIST if it exists unless `replace`. */
int	sparse_create(const char *path, uint64_t size, int replace);
/* Allocated bytes (st_blocks * 512) of path, 0 if missing. */
uint64_t file_usage(const char *path);
/* mkdir -p with mode 0775. */
int	mkdir_p(const char *path);

#endif
