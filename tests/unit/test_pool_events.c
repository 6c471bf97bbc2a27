/*
 * test_pool_events.c - admin.pool.Add / Remove through the dispatcher on
 * a temporary store: the events they release (storage.md 7.10) and what
 * reaches qubes.xml.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "events.h"
#include "log.h"
#include "model.h"
#include "persist.h"
#include "strbuf.h"
#include "unit.h"

static char root[256];
static struct strbuf seen;

static void
sink(const char *subject, const char *event, const char *const *kv,
    size_t nkv, void *ctx)
{
	size_t i;

	(void)ctx;
	sb_addf(&seen, "%s|%s", subject ? subject : "", event);
	for (i = 0; i < nkv; i++)	/* nkv pairs */
		sb_addf(&seen, "|%s=%s", kv[2 * i], kv[2 * i + 1]);
	sb_addc(&seen, ';');
}

/* one request; the reply bytes with NULs shown as '~' */
static const char *
req(const char *method, const char *arg, const char *payload)
{
	static char shown[4096];
	struct strbuf in, out;
	size_t i;

	sb_init(&in, 0);
	sb_init(&out, 0);
	sb_addf(&in, "%s+%s dom0 name dom0", method, arg);
	sb_addc(&in, '\0');
	sb_adds(&in, payload);
	dispatch_request(SOCK_ADMIN, (const unsigned char *)in.buf, in.len,
	    &out, NULL);
	for (i = 0; i < out.len && i + 1 < sizeof(shown); i++)
		shown[i] = out.buf[i] ? out.buf[i] : '~';
	shown[i] = '\0';
	sb_free(&in);
	sb_free(&out);
	return shown;
}

static int
xml_has(const char *needle)
{
	char path[300], *buf;
	FILE *f;
	long n;
	int found;

	snprintf(path, sizeof(path), "%s/qubes.xml", root);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	found = buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n &&
	    strstr(buf, needle) != NULL;
	free(buf);
	fclose(f);
	return found;
}

int
main(void)
{
	struct strbuf err, pl;
	struct app *a = NULL;
	char path[300], cmd[300];
	FILE *f;

	snprintf(root, sizeof(root), "%s/test_pool_events.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(root) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/qubes.xml", root);
	if ((f = fopen(path, "w")) == NULL)
		return 1;
	fprintf(f, "<?xml version='1.0' encoding='utf-8'?>\n<qubes><labels>"
	    "<label id=\"label-1\" color=\"0xcc0000\">red</label></labels>"
	    "<pools><pool name=\"varlibqubes\" dir_path=\"%s\" driver=\"file\""
	    " revisions_to_keep=\"1\"/></pools><properties/><domains>"
	    "<domain id=\"domain-0\" class=\"AdminVM\"><properties>"
	    "<property name=\"label\">red</property></properties>"
	    "<features/><tags/></domain></domains></qubes>\n", root);
	fclose(f);
	log_set_quiet(1);
	sb_init(&err, 0);
	sb_init(&seen, 0);
	sb_init(&pl, 0);
	if (!ok(persist_load(path, root, &a, &err) == 0, "store loads")) {
		diag("%s", err.buf ? err.buf : "");
		goto out;
	}
	app = a;
	ev_set_sink(sink, NULL);

	sb_addf(&pl, "name=extra\ndir_path=%s/extra\n", root);
	is_str(req("admin.pool.Add", "file", pl.buf), "0~", "Add: ok");
	is_str(seen.buf, "|pool-add|pool=extra;", "Add: event pool-add");
	sb_reset(&pl);
	sb_addf(&pl, "<pool name=\"extra\" dir_path=\"%s/extra\" "
	    "driver=\"file\" revisions_to_keep=\"1\"/>", root);
	ok(xml_has(pl.buf), "Add: saved in qubes.xml");

	sb_reset(&seen);
	is_str(req("admin.pool.Add", "file", "name=extra\ndir_path=/x"), "",
	    "Add: existing name refused");
	is_str(req("admin.pool.Add", "nosuch", "name=z\ndir_path=/x"),
	    "2~QubesException~~unexpected driver name: nosuch~",
	    "Add: unknown driver");
	is_str(req("admin.pool.Add", "zfs", "name=z\ndir_path=/x"),
	    "2~QubesException~~unexpected driver options: dir_path~",
	    "Add: zfs is listed, its options are checked");
	ok(seen.len == 0, "failed Add: no event");

	is_str(req("admin.pool.Set.ephemeral_volatile", "extra", "True"),
	    "0~", "Set.ephemeral_volatile");
	is_str(req("admin.pool.Set.revisions_to_keep", "extra", "0"),
	    "0~", "Set.revisions_to_keep");
	sb_reset(&pl);
	sb_addf(&pl, "<pool name=\"extra\" dir_path=\"%s/extra\" "
	    "driver=\"file\" revisions_to_keep=\"0\" "
	    "ephemeral_volatile=\"True\"/>", root);
	ok(xml_has(pl.buf), "Set.*: saved, attribute order kept");
	ok(seen.len == 0, "Set.*: no event");

	is_str(req("admin.pool.Remove", "varlibqubes", ""),
	    "2~QubesPoolInUseError~~Storage pool is in use: set as "
	    "default_pool~", "Remove: the default pool");
	ok(seen.len == 0, "refused Remove: no event");
	is_str(req("admin.pool.Remove", "extra", ""), "0~", "Remove: ok");
	is_str(seen.buf, "|pool-pre-delete|pool=extra;|pool-delete|pool=extra;",
	    "Remove: pool-pre-delete then pool-delete");
	ok(!xml_has("name=\"extra\""), "Remove: gone from qubes.xml");

	ev_set_sink(NULL, NULL);
	app = NULL;
	app_free(a);
out:
	persist_cleanup();
	sb_free(&err);
	sb_free(&seen);
	sb_free(&pl);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		diag("could not remove %s", root);
	return done_testing();
}
