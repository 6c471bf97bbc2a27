/*
 * api_pool.c - admin.pool.* (storage.md 2, 5).
 *
 * Pools are the kvlists of app->pools (storage.h): the raw configuration
 * strings as given, echoed by Info and written to qubes.xml, parsed by
 * the drivers for behaviour.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_handlers.h"
#include "events.h"
#include "frame.h"
#include "model.h"
#include "persist.h"
#include "poolcfg.h"
#include "props.h"
#include "storage.h"
#include "util.h"
#include "validate.h"

static int
dest_dom0(struct call *c, struct reply *r)
{
	if (c->dest->cls != VMC_ADMIN)
		return reply_refuse(r, "destination must be dom0");
	return API_OK;
}

/* The pool named by the argument (mutable), or NULL. */
static struct kvlist *
arg_pool(struct call *c)
{
	const char *n;
	size_t i;

	for (i = 0; i < app->npools; i++) {
		n = kvl_get(&app->pools[i], "name");
		if (n != NULL && strcmp(n, c->arg) == 0)
			return &app->pools[i];
	}
	return NULL;
}

/* dest dom0 and an existing pool as argument, else deny */
static struct kvlist *
pool_call(struct call *c, struct reply *r)
{
	struct kvlist *pool;

	if (dest_dom0(c, r) != API_OK)
		return NULL;
	if ((pool = arg_pool(c)) == NULL)
		reply_refuse(r, "no such pool");
	return pool;
}

static int
has_param(const struct storage_driver *d, const char *key)
{
	size_t i;

	for (i = 0; d != NULL && d->params != NULL && d->params[i] != NULL;
	    i++)
		if (strcmp(d->params[i], key) == 0)
			return 1;
	return 0;
}

static const char *
driver_default(const struct storage_driver *d, const char *key)
{
	size_t i;

	for (i = 0; d->defaults != NULL && d->defaults[i] != NULL &&
	    d->defaults[i + 1] != NULL; i += 2)
		if (strcmp(d->defaults[i], key) == 0)
			return d->defaults[i + 1];
	return NULL;
}

int
api_pool_list(struct call *c, struct reply *r)
{
	const char *n;
	size_t i;

	if (dest_dom0(c, r) != API_OK)
		return API_REFUSE;
	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	for (i = 0; i < app->npools; i++)
		if ((n = kvl_get(&app->pools[i], "name")) != NULL)
			sb_addf(&r->out, "%s\n", n);
	return API_OK;
}

int
api_pool_listdrivers(struct call *c, struct reply *r)
{
	const struct storage_driver *d;
	size_t i, j;

	if (dest_dom0(c, r) != API_OK)
		return API_REFUSE;
	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	for (i = 0; (d = storage_drivers[i]) != NULL; i++) {
		sb_addf(&r->out, "%s ", d->name);
		for (j = 0; d->params != NULL && d->params[j] != NULL; j++)
			sb_addf(&r->out, "%s%s", j ? " " : "", d->params[j]);
		sb_addc(&r->out, '\n');
	}
	return API_OK;
}

/* ---- Info */

struct cfgitem {
	const char	*key;
	const char	*value;
};

static int
cfgitem_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cfgitem *)a)->key,
	    ((const struct cfgitem *)b)->key);
}

/* realpath(), or the path itself when it cannot be resolved */
static void
real_dir(const char *path, char *buf)
{
	if (realpath(path, buf) == NULL)
		snprintf(buf, PATH_MAX, "%s", path);
}

/* Is `anc` an ancestor-or-equal of `dir` (os.path.commonpath)? */
static int
path_contains(const char *anc, const char *dir)
{
	size_t n = strlen(anc);

	if (strcmp(anc, "/") == 0)
		return *dir == '/';
	return strncmp(anc, dir, n) == 0 && (dir[n] == '\0' || dir[n] == '/');
}

/* LVM's device-mapper name part: '-' doubled */
static void
dm_escape(struct strbuf *sb, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '-')
			sb_addc(sb, '-');
		sb_addc(sb, *s);
	}
}

/*
 * The lvm_thin pool backing the file system of dir: its device is a
 * device-mapper thin volume whose pool device is <vg>-<thin_pool>-tpool
 * (qubes.storage.search_pool_containing_dir, via sysfs).
 */
static const char *
lvm_pool_of_dir(const char *dir)
{
	struct stat st;
	struct dirent *de;
	struct strbuf want;
	const char *drv, *vg, *tp, *found = NULL;
	char path[PATH_MAX], name[256];
	FILE *f;
	DIR *d;
	size_t i, n;

	if (stat(dir, &st) == -1)
		return NULL;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/slaves",
	    major(st.st_dev), minor(st.st_dev));
	if ((d = opendir(path)) == NULL)
		return NULL;
	sb_init(&want, 1024);
	while (found == NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/slaves/"
		    "%s/dm/name", major(st.st_dev), minor(st.st_dev),
		    de->d_name) >= (int)sizeof(path) ||
		    (f = fopen(path, "re")) == NULL)
			continue;
		if (fgets(name, sizeof(name), f) == NULL)
			name[0] = '\0';
		fclose(f);
		n = strcspn(name, "\n");
		name[n] = '\0';
		for (i = 0; i < app->npools && found == NULL; i++) {
			drv = kvl_get(&app->pools[i], "driver");
			vg = kvl_get(&app->pools[i], "volume_group");
			tp = kvl_get(&app->pools[i], "thin_pool");
			if (drv == NULL || strcmp(drv, "lvm_thin") != 0 ||
			    vg == NULL || tp == NULL)
				continue;
			sb_reset(&want);
			dm_escape(&want, vg);
			sb_addc(&want, '-');
			dm_escape(&want, tp);
			sb_adds(&want, "-tpool");
			if (sb_ok(&want) && strcmp(want.buf, name) == 0)
				found = kvl_get(&app->pools[i], "name");
		}
	}
	sb_free(&want);
	closedir(d);
	return found;
}

/* Pool.included_in of file, file-reflink and linux-kernel pools. */
static const char *
pool_included_in(const struct kvlist *pool)
{
	const char *dir = kvl_get(pool, "dir_path"), *odir, *drv;
	char rd[PATH_MAX], ro[PATH_MAX];
	size_t i;

	drv = kvl_get(pool, "driver");
	if (dir == NULL || drv == NULL || strcmp(drv, "lvm_thin") == 0)
		return NULL;
	real_dir(dir, rd);
	for (i = 0; i < app->npools; i++) {
		if (&app->pools[i] == pool ||
		    (odir = kvl_get(&app->pools[i], "dir_path")) == NULL)
			continue;
		drv = kvl_get(&app->pools[i], "driver");
		if (drv != NULL && strcmp(drv, "lvm_thin") == 0)
			continue;
		real_dir(odir, ro);
		if (path_contains(ro, rd))
			return kvl_get(&app->pools[i], "name");
	}
	return lvm_pool_of_dir(rd);
}

int
api_pool_info(struct call *c, struct reply *r)
{
	const struct storage_driver *d;
	const struct kvlist *pool;
	struct cfgitem *items;
	struct pool_usage u;
	const char *inc;
	size_t i, n = 0, nd = 0;

	if ((pool = pool_call(c, r)) == NULL)
		return API_REFUSE;
	d = pool_driver(pool);
	for (i = 0; d != NULL && d->defaults != NULL && d->defaults[i] != NULL;
	    i += 2)
		nd++;
	items = xcalloc(pool->n + nd + 1, sizeof(*items));
	for (i = 0; i < pool->n; i++) {
		items[n].key = pool->v[i].key;
		items[n++].value = pool->v[i].value;
	}
	/* the driver's config also holds its defaults */
	for (i = 0; d != NULL && d->defaults != NULL &&
	    d->defaults[i] != NULL && d->defaults[i + 1] != NULL; i += 2) {
		if (kvl_get(pool, d->defaults[i]) != NULL)
			continue;
		items[n].key = d->defaults[i];
		items[n++].value = d->defaults[i + 1];
	}
	qsort(items, n, sizeof(*items), cfgitem_cmp);
	for (i = 0; i < n; i++)
		sb_addf(&r->out, "%s=%s\n", items[i].key, items[i].value);
	free(items);
	if (d != NULL && d->pool_usage != NULL) {
		d->pool_usage(pool, &u);
		if (u.have_size)
			sb_addf(&r->out, "size=%llu\n",
			    (unsigned long long)u.size);
		if (u.have_usage)
			sb_addf(&r->out, "usage=%llu\n",
			    (unsigned long long)u.usage);
	}
	if ((inc = pool_included_in(pool)) != NULL)
		sb_addf(&r->out, "included_in=%s\n", inc);
	return API_OK;
}

int
api_pool_usagedetails(struct call *c, struct reply *r)
{
	const struct storage_driver *d;
	const struct kvlist *pool;

	if ((pool = pool_call(c, r)) == NULL)
		return API_REFUSE;
	if ((d = pool_driver(pool)) == NULL)
		return reply_refuse(r, "pool driver unknown");
	if (d->pool_usage_details == NULL)
		return API_OK;
	return d->pool_usage_details(r, pool, &r->out);
}

int
api_pool_volume_list(struct call *c, struct reply *r)
{
	const struct storage_driver *d;
	const struct kvlist *pool;

	if ((pool = pool_call(c, r)) == NULL)
		return API_REFUSE;
	if ((d = pool_driver(pool)) == NULL || d->pool_volumes == NULL)
		return reply_refuse(r, "pool cannot list its volumes");
	return d->pool_volumes(r, pool, &r->out);
}

/* ---- Add */

static int
pool_exists(const char *name)
{
	return app_pool(app, name) != NULL;
}

/*
 * os.path.normpath() of an absolute path: empty and "." components
 * dropped, ".." removes the previous component (never above "/").
 */
static int
normpath(const char *in, char *out, size_t len)
{
	size_t o = 0, n;
	const char *p = in, *e;

	if (len < 2 || *in != '/')
		return -1;
	out[o++] = '/';
	while (*p != '\0') {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n == 1 && p[0] == '.') {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--;
		} else {
			if (o > 1)
				out[o++] = '/';
			if (o + n + 1 > len)
				return -1;
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
	}
	out[o] = '\0';
	return 0;
}

/* revisions_to_keep as given to Add: a plain decimal (parse_size). */
static int
valid_count(const char *s)
{
	uint64_t v;

	return parse_size(s, strlen(s), &v) == 0 && v <= (uint64_t)INT64_MAX;
}

/*
 * The configuration a pool keeps (qubes-xml.md 4): name, the driver's
 * own keys, driver, revisions_to_keep, ephemeral_volatile; the values
 * as given, the defaults of the driver filled in for revisions_to_keep.
 * setup_check is only for the setup.
 */
static int
build_config(struct reply *r, const struct storage_driver *d,
    const struct kvlist *given, struct kvlist *cfg)
{
	static const char *const opt[] = { "revisions_to_keep",
	    "ephemeral_volatile", "setup_check", NULL };
	char norm[PATH_MAX];
	const char *v;
	size_t i, j;
	int optional;

	kvl_set(cfg, "name", kvl_get(given, "name"));
	for (i = 0; d->params != NULL && d->params[i] != NULL; i++) {
		for (optional = 0, j = 0; opt[j] != NULL; j++)
			if (strcmp(opt[j], d->params[i]) == 0)
				optional = 1;
		if (optional)
			continue;
		if ((v = kvl_get(given, d->params[i])) == NULL)
			return reply_refuse(r, "missing driver parameter");
		if (strcmp(d->params[i], "dir_path") == 0) {
			/* a relative directory would depend on our cwd */
			if (*v != '/')
				return reply_refuse(r, "dir_path must be "
				    "absolute");
			/* file: normpath; file-reflink: abspath */
			if (strcmp(d->name, "linux-kernel") != 0) {
				if (normpath(v, norm, sizeof(norm)) < 0)
					return reply_refuse(r, "dir_path too "
					    "long");
				v = norm;
			}
		}
		kvl_set(cfg, d->params[i], v);
	}
	kvl_set(cfg, "driver", d->name);
	if (has_param(d, "revisions_to_keep")) {
		v = kvl_get(given, "revisions_to_keep");
		if (v != NULL && !valid_count(v))
			return reply_refuse(r, "revisions_to_keep must be "
			    "decimal");
		if (v == NULL)
			v = driver_default(d, "revisions_to_keep");
		if (v != NULL)
			kvl_set(cfg, "revisions_to_keep", v);
	}
	for (j = 1; opt[j] != NULL; j++) {
		if ((v = kvl_get(given, opt[j])) == NULL)
			continue;
		/* we use the parsed value, so it must parse */
		if (storage_parse_bool(v) < 0)
			return reply_refuse(r, "invalid boolean option");
		kvl_set(cfg, opt[j], v);
	}
	return API_OK;
}

int
api_pool_add(struct call *c, struct reply *r)
{
	const struct storage_driver *d;
	struct kvlist given, cfg, *np;
	struct strbuf err;
	const char *why;
	int rc;

	if (dest_dom0(c, r) != API_OK)
		return API_REFUSE;
	if ((d = storage_driver(c->arg)) == NULL)
		return reply_error(r, "QubesException",
		    "unexpected driver name: %s", c->arg);
	memset(&given, 0, sizeof(given));
	memset(&cfg, 0, sizeof(cfg));
	sb_init(&err, 65536);
	rc = poolcfg_parse((const char *)c->untrusted_payload, c->payload_len,
	    d->params, pool_exists, &given, &why, &err);
	if (rc == POOLCFG_REFUSE) {
		rc = reply_refuse(r, why);
		goto out;
	}
	if (rc == POOLCFG_ERROR) {
		rc = reply_error(r, "QubesException", "%s", err.buf);
		goto out;
	}
	/* permission event: nothing vetoes it here */
	if ((rc = build_config(r, d, &given, &cfg)) != API_OK)
		goto out;
	if (d->pool_setup != NULL &&
	    (rc = d->pool_setup(r, &cfg)) != API_OK)
		goto out;
	kvl_del(&cfg, "setup_check");	/* not part of the config */
	np = realloc(app->pools, (app->npools + 1) * sizeof(*np));
	if (np == NULL)
		fatalx("out of memory");
	app->pools = np;
	app->pools[app->npools++] = cfg;
	memset(&cfg, 0, sizeof(cfg));
	ev_fire(NULL, "pool-add", "pool", kvl_get(&given, "name"), NULL);
	rc = persist_commit(r);
out:
	kvl_free(&given);
	kvl_free(&cfg);
	sb_free(&err);
	return rc;
}

/* ---- Remove */

int
api_pool_remove(struct call *c, struct reply *r)
{
	static const struct {
		int		 gp;
		const char	*name;
	} defaults[] = {
		{ GP_default_pool, "default_pool" },
		{ GP_default_pool_kernel, "default_pool_kernel" },
		{ GP_default_pool_private, "default_pool_private" },
		{ GP_default_pool_root, "default_pool_root" },
		{ GP_default_pool_volatile, "default_pool_volatile" },
	};
	struct kvlist *pool;
	const char *vp;
	char *name, *v = NULL;
	size_t i, j, idx;
	int inuse;

	if ((pool = pool_call(c, r)) == NULL)
		return API_REFUSE;
	name = xstrdup(kvl_get(pool, "name"));
	for (i = 0; i < app->nvms; i++)
		for (j = 0; j < app->vms[i]->nvolumes; j++) {
			vp = kvl_get(&app->vms[i]->volumes[j], "pool");
			if (vp != NULL && strcmp(vp, name) == 0) {
				reply_error(r, "QubesPoolInUseError",
				    "Storage pool is in use: ");
				sb_add_pyrepr(&r->msg, name);
				free(name);
				return API_ERROR;
			}
		}
	for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		inuse = gprop_get(defaults[i].gp, &v) == VAL_SET &&
		    strcmp(v, name) == 0;
		free(v);
		v = NULL;
		if (inuse) {
			free(name);
			return reply_error(r, "QubesPoolInUseError",
			    "Storage pool is in use: set as %s",
			    defaults[i].name);
		}
	}
	ev_fire(NULL, "pool-pre-delete", "pool", name, NULL);
	/* the driver's destroy hook is not called: no data is deleted */
	idx = (size_t)(pool - app->pools);
	kvl_free(pool);
	memmove(&app->pools[idx], &app->pools[idx + 1],
	    (app->npools - idx - 1) * sizeof(*app->pools));
	app->npools--;
	ev_fire(NULL, "pool-delete", "pool", name, NULL);
	free(name);
	return persist_commit(r);
}

/* ---- Set.* */

int
api_pool_set_revisions_to_keep(struct call *c, struct reply *r)
{
	const struct storage_driver *d;
	struct kvlist *pool;
	const char *v;
	uint64_t n;
	char num[32], *eph;
	int rc;

	if ((pool = pool_call(c, r)) == NULL)
		return API_REFUSE;
	/* sanitize start */
	if (parse_size((const char *)c->untrusted_payload, c->payload_len,
	    &n) < 0 || n > (uint64_t)INT64_MAX)
		return reply_refuse(r, "invalid number");
	/* sanitize end */
	d = pool_driver(pool);
	if (d != NULL && d->check_revisions != NULL &&
	    (rc = d->check_revisions(r, (long long)n)) != API_OK)
		return rc;
	/* linux-kernel: always 0, nothing stored */
	if (has_param(d, "revisions_to_keep")) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)n);
		if (kvl_set(pool, "revisions_to_keep", num) < 0)
			fatalx("out of memory");
		/* keep ephemeral_volatile the last attribute */
		if ((v = kvl_get(pool, "ephemeral_volatile")) != NULL) {
			eph = xstrdup(v);
			kvl_del(pool, "ephemeral_volatile");
			if (kvl_set(pool, "ephemeral_volatile", eph) < 0)
				fatalx("out of memory");
			free(eph);
		}
	}
	return persist_commit(r);
}

int
api_pool_set_ephemeral_volatile(struct call *c, struct reply *r)
{
	const char *p = (const char *)c->untrusted_payload;
	struct kvlist *pool;
	int v;

	if ((pool = pool_call(c, r)) == NULL)
		return API_REFUSE;
	/* sanitize start */
	if (!frame_is_ascii(p, c->payload_len) ||
	    memchr(p, '\0', c->payload_len) != NULL ||
	    parse_pybool(p, &v) < 0)
		return reply_refuse(r, "invalid boolean");
	/* sanitize end */
	if (has_param(pool_driver(pool), "ephemeral_volatile")) {
		/* qubes.xml keeps true only (qubes-xml.md 4) */
		if (v) {
			if (kvl_set(pool, "ephemeral_volatile", "True") < 0)
				fatalx("out of memory");
		} else
			kvl_del(pool, "ephemeral_volatile");
	}
	return persist_commit(r);
}
