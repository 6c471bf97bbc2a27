/*
 * test_pool_add.c - case table for broker/poolcfg.c, the admin.pool.Add
 * payload parser (storage.md 5.5), plus a few storage.c helpers.
 */
#include <stdint.h>
#include <string.h>

#include "poolcfg.h"
#include "storage.h"
#include "unit.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const char *const file_params[] = {
	"revisions_to_keep", "dir_path", "ephemeral_volatile", NULL
};

static int
exists(const char *name)
{
	return strcmp(name, "varlibqubes") == 0 ||
	    strcmp(name, "linux-kernel") == 0;
}

#define P(s)	s, sizeof(s) - 1

static const struct {
	const char	*in;
	size_t		 len;
	int		 want;
	const char	*pairs;	/* OK: "k=v;k=v"; ERROR: the message */
} cases[] = {
	{ P("name=p\ndir_path=/x\n"), POOLCFG_OK, "name=p;dir_path=/x" },
	{ P("name=p"), POOLCFG_OK, "name=p" },
	{ P("name=p\r\n"), POOLCFG_OK, "name=p" },
	{ P("name=p\r"), POOLCFG_OK, "name=p" },
	{ P("dir_path=/x\nname=p"), POOLCFG_OK, "dir_path=/x;name=p" },
	/* every str.splitlines() boundary of ASCII */
	{ P("name=p\r\ndir_path=/x"), POOLCFG_OK, "name=p;dir_path=/x" },
	{ P("name=p\rdir_path=/x"), POOLCFG_OK, "name=p;dir_path=/x" },
	{ P("name=p\vdir_path=/x"), POOLCFG_OK, "name=p;dir_path=/x" },
	{ P("name=p\fdir_path=/x"), POOLCFG_OK, "name=p;dir_path=/x" },
	{ P("name=p\x1c" "dir_path=/x"), POOLCFG_OK, "name=p;dir_path=/x" },
	{ P("name=p\x1d" "dir_path=/x"), POOLCFG_OK, "name=p;dir_path=/x" },
	{ P("name=p\x1e" "dir_path=/x"), POOLCFG_OK, "name=p;dir_path=/x" },
	/* split at the first '=' only; values may be empty */
	{ P("name=p\ndir_path=/a=b"), POOLCFG_OK, "name=p;dir_path=/a=b" },
	{ P("name=p\ndir_path="), POOLCFG_OK, "name=p;dir_path=" },
	{ P("name=p.q-r_S9\nrevisions_to_keep=1\nephemeral_volatile=no"),
	    POOLCFG_OK, "name=p.q-r_S9;revisions_to_keep=1;"
	    "ephemeral_volatile=no" },
	/* deny: lines, duplicates, the name */
	{ P(""), POOLCFG_REFUSE, NULL },
	{ P("\n"), POOLCFG_REFUSE, NULL },
	{ P("name=p\n\n"), POOLCFG_REFUSE, NULL },
	{ P("name=p\n\rdir_path=/x"), POOLCFG_REFUSE, NULL },
	{ P("name=p\ndir_path"), POOLCFG_REFUSE, NULL },
	{ P("name=p\nname=q"), POOLCFG_REFUSE, NULL },
	{ P("name=p\ndir_path=/x\ndir_path=/x"), POOLCFG_REFUSE, NULL },
	{ P("dir_path=/x"), POOLCFG_REFUSE, NULL },
	{ P("name="), POOLCFG_REFUSE, NULL },
	{ P("name=a=b"), POOLCFG_REFUSE, NULL },
	{ P("name=p q"), POOLCFG_REFUSE, NULL },
	{ P("name=../x"), POOLCFG_REFUSE, NULL },
	{ P("name=a/b"), POOLCFG_REFUSE, NULL },
	{ P("name=varlibqubes"), POOLCFG_REFUSE, NULL },
	{ P("name=linux-kernel\nfoo=1"), POOLCFG_REFUSE, NULL },
	{ P("Name=p"), POOLCFG_REFUSE, NULL },
	/* deny: bytes qubes.xml cannot hold, non-ASCII */
	{ P("name=p\x1f" "dir_path=/x"), POOLCFG_REFUSE, NULL },
	{ P("name=p\tq"), POOLCFG_REFUSE, NULL },
	{ P("name=p\ndir_path=/x\x7f"), POOLCFG_REFUSE, NULL },
	{ P("name=p\0"), POOLCFG_REFUSE, NULL },
	{ P("name=p\ndir_path=/\xc3\xa9"), POOLCFG_REFUSE, NULL },
	{ P("name=p\x85" "dir_path=/x"), POOLCFG_REFUSE, NULL },
	/* unknown options: an error naming them in payload order */
	{ P("name=p\nfoo=1\nbar=2"), POOLCFG_ERROR,
	    "unexpected driver options: foo bar" },
	{ P("foo=1\nname=p\ndriver=file\ndir_path=/x"), POOLCFG_ERROR,
	    "unexpected driver options: foo driver" },
	{ P("name=p\nsetup_check=no"), POOLCFG_ERROR,
	    "unexpected driver options: setup_check" },
	{ P("=x\nname=p"), POOLCFG_ERROR, "unexpected driver options: " },
	/* the name checks come first */
	{ P("foo=1\nname=varlibqubes"), POOLCFG_REFUSE, NULL },
	{ P("foo=1\nfoo=2\nname=p"), POOLCFG_REFUSE, NULL },
};

static void
pairs_of(const struct kvlist *kv, char *buf, size_t len)
{
	size_t i, o = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < kv->n; i++) {
		n = snprintf(buf + o, len - o, "%s%s=%s", i ? ";" : "",
		    kv->v[i].key, kv->v[i].value);
		if (n < 0 || (size_t)n >= len - o)
			return;
		o += (size_t)n;
	}
}

static void
test_parser(void)
{
	struct kvlist kv;
	struct strbuf err;
	const char *why;
	char got[512];
	size_t i;
	int rc;

	for (i = 0; i < NELEM(cases); i++) {
		memset(&kv, 0, sizeof(kv));
		sb_init(&err, 4096);
		rc = poolcfg_parse(cases[i].in, cases[i].len, file_params,
		    exists, &kv, &why, &err);
		is_int(rc, cases[i].want, "poolcfg %s: status",
		    unit_q(cases[i].in, cases[i].len));
		if (rc == POOLCFG_OK) {
			pairs_of(&kv, got, sizeof(got));
			is_str(got, cases[i].pairs, "poolcfg %s: pairs",
			    unit_q(cases[i].in, cases[i].len));
		} else if (rc == POOLCFG_ERROR)
			is_str(err.buf, cases[i].pairs, "poolcfg %s: message",
			    unit_q(cases[i].in, cases[i].len));
		else
			ok(why != NULL, "poolcfg %s: a reason",
			    unit_q(cases[i].in, cases[i].len));
		kvl_free(&kv);
		sb_free(&err);
	}
}

static void
test_bool(void)
{
	static const struct {
		const char	*in;
		int		 want;
	} b[] = {
		{ "1", 1 }, { "yes", 1 }, { "True", 1 }, { "ON", 1 },
		{ "0", 0 }, { "no", 0 }, { "False", 0 }, { "oFF", 0 },
		{ "", -1 }, { "True\n", -1 }, { " 1", -1 }, { "2", -1 },
		{ "truee", -1 }, { "y", -1 }, { "n\xc3\xb6", -1 },
	};
	size_t i;

	for (i = 0; i < NELEM(b); i++)
		is_int(storage_parse_bool(b[i].in), b[i].want,
		    "storage_parse_bool(%s)", unit_qs(b[i].in));
}

static void
test_vol_view(void)
{
	struct kvlist kv;
	struct vol v;

	memset(&kv, 0, sizeof(kv));
	kvl_set(&kv, "name", "private");
	kvl_set(&kv, "pool", "nosuch");
	kvl_set(&kv, "vid", "appvms/work/private");
	kvl_set(&kv, "revisions_to_keep", "1");
	kvl_set(&kv, "rw", "True");
	kvl_set(&kv, "save_on_stop", "True");
	kvl_set(&kv, "size", "2147483648");
	vol_view(&kv, &v);
	is_str(v.name, "private", "vol_view: name");
	is_str(v.vid, "appvms/work/private", "vol_view: vid");
	ok(v.rw && v.save_on_stop && !v.snap_on_start, "vol_view: flags");
	is_int(v.ephemeral, -1, "vol_view: ephemeral unset");
	ok(v.size == 2147483648ULL, "vol_view: size");
	is_int(v.revisions_to_keep, 1, "vol_view: revisions_to_keep");
	ok(v.source == NULL, "vol_view: no source");
	/* a volatile volume: ephemeral from the pool, unless set */
	vol_unset(&kv, "save_on_stop");
	vol_set(&kv, "ephemeral", "True");
	vol_view(&kv, &v);
	is_int(v.ephemeral, 1, "vol_view: ephemeral set");
	is_int(vol_effective_ephemeral(&v, NULL), 1, "explicit ephemeral");
	vol_unset(&kv, "ephemeral");
	vol_view(&kv, &v);
	is_int(vol_effective_ephemeral(&v, NULL), 0,
	    "ephemeral_volatile unknown: False");
	vol_set(&kv, "snap_on_start", "True");
	vol_view(&kv, &v);
	is_int(vol_effective_ephemeral(&v, NULL), 0, "snapshot: never");
	kvl_free(&kv);
}

static void
test_drivers(void)
{
	static const char *const names[] = { "callback", "file",
	    "file-reflink", "linux-kernel", "lvm_thin", "zfs", NULL };
	size_t i;

	for (i = 0; names[i] != NULL; i++) {
		ok(storage_drivers[i] != NULL &&
		    strcmp(storage_drivers[i]->name, names[i]) == 0,
		    "ListDrivers order: %s", names[i]);
		ok(storage_driver(names[i]) == storage_drivers[i],
		    "storage_driver(%s)", names[i]);
	}
	ok(storage_drivers[i] == NULL, "no other driver");
	ok(storage_driver("zfs")->vol_create == NULL &&
	    storage_driver("callback")->vol_create == NULL,
	    "callback and zfs are listed but not implemented");
}

int
main(void)
{
	test_parser();
	test_bool();
	test_vol_view();
	test_drivers();
	return done_testing();
}
