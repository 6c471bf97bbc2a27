/*
 * test_persist.c - the qubes.xml loader and writer (broker/persist.c):
 * a table of documents with what loading them must give, and the
 * serialise -> load -> serialise fixed point.
 */
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "persist.h"
#include "props.h"
#include "unit.h"

#define LABELS \
	"<labels><label id=\"label-1\" color=\"0xcc0000\">red</label>" \
	"<label id=\"label-6\" color=\"0x3465a4\">blue</label>" \
	"<label id=\"label-8\" color=\"0x000000\">black</label></labels>"
#define POOLS \
	"<pools><pool name=\"varlibqubes\" dir_path=\"/nonexistent\" " \
	"driver=\"file\" revisions_to_keep=\"1\"/></pools>"
#define DOM0 \
	"<domain id=\"domain-0\" class=\"AdminVM\"><properties>" \
	"<property name=\"label\">black</property></properties></domain>"
#define TPL \
	"<domain id=\"domain-1\" class=\"TemplateVM\"><properties>" \
	"<property name=\"label\">black</property>" \
	"<property name=\"name\">tpl</property>" \
	"<property name=\"qid\">1</property>" \
	"<property name=\"uuid\">82cc7880-7c75-4408-8874-4d0645238a8c" \
	"</property></properties></domain>"
#define APP(q, n, extra) \
	"<domain id=\"domain-" #q "\" class=\"AppVM\"><properties>" \
	"<property name=\"label\">red</property>" \
	"<property name=\"name\">" n "</property>" \
	"<property name=\"qid\">" #q "</property>" \
	"<property name=\"uuid\">4a1a86a1-a031-4b83-8564-d9b294a04f4" #q \
	"</property><property name=\"template\">tpl</property>" extra \
	"</properties></domain>"
#define DOC(globals, domains) \
	"<qubes>" LABELS POOLS "<properties>" globals "</properties>" \
	"<domains>" domains "</domains></qubes>"

static const struct {
	const char	*name;
	const char	*xml;
	int		 ok;		/* load must succeed */
	int		 nvms;		/* qubes in the model (with dom0) */
	const char	*absent;	/* a qube that must be left out */
} cases[] = {
	{ "minimal", DOC("", DOM0 TPL APP(2, "work", "")), 1, 3, NULL },
	{ "no dom0: added", DOC("", TPL APP(2, "work", "")), 1, 3, NULL },
	{ "xml declaration and version attribute",
	    "<?xml version=\"1.0\"?><qubes version=\"3.0\">" LABELS POOLS
	    "<domains>" DOM0 "</domains></qubes>", 1, 1, NULL },
	{ "malformed", "<qubes><labels>", 0, 0, NULL },
	{ "empty", "", 0, 0, NULL },
	{ "wrong root", "<notqubes/>", 0, 0, NULL },
	{ "unknown property: that qube only",
	    DOC("", DOM0 TPL APP(2, "work", "") APP(3, "bad",
	    "<property name=\"bogus\">1</property>")), 1, 3, "bad" },
	{ "unknown class", DOC("", DOM0 TPL
	    "<domain class=\"FooVM\"><properties/></domain>"), 1, 2, NULL },
	{ "duplicate qid: both left out", DOC("", DOM0 TPL APP(2, "work", "")
	    "<domain class=\"AppVM\"><properties>"
	    "<property name=\"label\">red</property>"
	    "<property name=\"name\">dup</property>"
	    "<property name=\"qid\">2</property>"
	    "<property name=\"uuid\">4a1a86a1-a031-4b83-8564-d9b294a04f49"
	    "</property><property name=\"template\">tpl</property>"
	    "</properties></domain>"), 1, 2, "work" },
	{ "qid out of range", DOC("", DOM0 TPL
	    "<domain class=\"AppVM\"><properties>"
	    "<property name=\"label\">red</property>"
	    "<property name=\"name\">big</property>"
	    "<property name=\"qid\">10001</property>"
	    "<property name=\"uuid\">4a1a86a1-a031-4b83-8564-d9b294a04f49"
	    "</property><property name=\"template\">tpl</property>"
	    "</properties></domain>"), 1, 2, "big" },
	{ "dangling netvm",
	    DOC("", DOM0 TPL APP(2, "work", "<property name=\"netvm\">nope"
	    "</property>")), 1, 2, "work" },
	{ "template left out: its AppVMs too", DOC("", DOM0
	    "<domain class=\"TemplateVM\"><properties>"
	    "<property name=\"name\">tpl</property>"
	    "<property name=\"qid\">1</property>"
	    "<property name=\"bogus\">x</property></properties></domain>"
	    APP(2, "work", "")), 1, 1, "work" },
	{ "global names a missing qube",
	    DOC("<property name=\"default_netvm\">nope</property>", DOM0),
	    0, 0, NULL },
	{ "unknown global property ignored",
	    DOC("<property name=\"bogus\">x</property>", DOM0), 1, 1, NULL },
	{ "label by ref", DOC("", DOM0 TPL
	    "<domain class=\"AppVM\"><properties>"
	    "<property name=\"label\" ref=\"label-6\"/>"
	    "<property name=\"name\">work</property>"
	    "<property name=\"qid\">2</property>"
	    "<property name=\"uuid\">4a1a86a1-a031-4b83-8564-d9b294a04f48"
	    "</property><property name=\"template\">tpl</property>"
	    "</properties></domain>"), 1, 3, NULL },
	{ "unknown label", DOC("", DOM0 TPL
	    "<domain class=\"AppVM\"><properties>"
	    "<property name=\"label\">pink</property>"
	    "<property name=\"name\">work</property>"
	    "<property name=\"qid\">2</property>"
	    "<property name=\"uuid\">4a1a86a1-a031-4b83-8564-d9b294a04f48"
	    "</property><property name=\"template\">tpl</property>"
	    "</properties></domain>"), 1, 2, "work" },
	{ "tag with a space", DOC("", DOM0 TPL
	    "<domain class=\"AppVM\"><properties>"
	    "<property name=\"label\">red</property>"
	    "<property name=\"name\">work</property>"
	    "<property name=\"qid\">2</property>"
	    "<property name=\"uuid\">4a1a86a1-a031-4b83-8564-d9b294a04f48"
	    "</property><property name=\"template\">tpl</property>"
	    "</properties><tags><tag name=\"a b\"/></tags></domain>"),
	    1, 2, "work" },
	{ "AppVM without template", DOC("", DOM0 TPL
	    "<domain class=\"AppVM\"><properties>"
	    "<property name=\"label\">red</property>"
	    "<property name=\"name\">work</property>"
	    "<property name=\"qid\">2</property>"
	    "<property name=\"uuid\">4a1a86a1-a031-4b83-8564-d9b294a04f48"
	    "</property></properties></domain>"), 1, 2, "work" },
	{ "dom0 with a name property",
	    DOC("", "<domain class=\"AdminVM\"><properties>"
	    "<property name=\"name\">dom0</property>"
	    "<property name=\"label\">black</property></properties>"
	    "</domain>"), 0, 0, NULL },
	{ "computed property stored", DOC("", DOM0 TPL
	    APP(2, "work", "<property name=\"xid\">3</property>")), 1, 2,
	    "work" },
	{ "bool written yes", DOC("", DOM0 TPL
	    APP(2, "work", "<property name=\"debug\">yes</property>")), 1, 3,
	    NULL },
};

static void
test_table(void)
{
	struct strbuf err;
	struct app *a;
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sb_init(&err, 0);
		a = NULL;
		r = persist_load_mem(cases[i].xml, strlen(cases[i].xml),
		    "/nonexistent", &a, &err);
		if (!cases[i].ok) {
			ok(r < 0 && err.len > 0, "%s: refused (%s)",
			    cases[i].name, err.buf ? err.buf : "");
		} else if (ok(r == 0, "%s: loads (%s)", cases[i].name,
		    err.buf ? err.buf : "")) {
			is_int((long long)a->nvms, cases[i].nvms,
			    "%s: number of qubes", cases[i].name);
			ok(app_dom0(a) != NULL, "%s: has dom0", cases[i].name);
			if (cases[i].absent)
				ok(app_vm(a, cases[i].absent) == NULL,
				    "%s: %s left out", cases[i].name,
				    cases[i].absent);
		}
		app_free(a);
		sb_free(&err);
	}
}

static void
test_values(void)
{
	const char *xml = DOC("<property name=\"default_netvm\"></property>",
	    DOM0 TPL APP(2, "work", "<property name=\"debug\">yes</property>"
	    "<property name=\"netvm\"></property>"));
	struct strbuf err;
	struct app *a = NULL;
	struct vm *w;

	sb_init(&err, 0);
	if (!ok(persist_load_mem(xml, strlen(xml), "/nonexistent", &a,
	    &err) == 0, "values document loads"))
		return;
	app = a;
	w = app_vm(a, "work");
	is_str(w->props[VMP_debug].value, "True", "bool normalised");
	ok(w->props[VMP_netvm].set && w->props[VMP_netvm].value[0] == '\0',
	    "explicit empty netvm kept as explicit None");
	ok(strset_has(&w->tags, "guivm-dom0"), "guivm tag re-added on load");
	ok(strset_has(&w->tags, "audiovm-dom0"), "audiovm tag re-added");
	app = NULL;
	app_free(a);
	sb_free(&err);
}

static void
test_fixed_point(void)
{
	const char *xml = DOC("<property name=\"default_template\">tpl"
	    "</property>", DOM0 TPL APP(2, "work",
	    "<property name=\"kernelopts\">a&amp;b &lt;x&gt;\"q\"</property>")
	    APP(3, "bad", "<property name=\"bogus\">1</property>"));
	struct strbuf err;
	struct app *a = NULL, *b = NULL;
	char *s1 = NULL, *s2 = NULL;
	size_t l1, l2;

	sb_init(&err, 0);
	if (!ok(persist_load_mem(xml, strlen(xml), "/nonexistent", &a,
	    &err) == 0, "fixed point: loads"))
		return;
	ok(persist_serialize(a, &s1, &l1) == 0, "serialise");
	ok(strstr(s1, "<property name=\"bogus\">1</property>") != NULL,
	    "left-out qube written back verbatim");
	ok(strncmp(s1, "<qubes>\n  <labels>\n", 19) == 0,
	    "no XML declaration, two-space indent");
	ok(persist_load_mem(s1, l1, "/nonexistent", &b, &err) == 0,
	    "reload of own output");
	ok(b != NULL && persist_serialize(b, &s2, &l2) == 0,
	    "serialise again");
	ok(s2 != NULL && l1 == l2 && memcmp(s1, s2, l1) == 0,
	    "serialise(load(serialise(x))) == serialise(x)");
	free(s1);
	free(s2);
	app_free(a);
	app_free(b);
	persist_cleanup();
	sb_free(&err);
}

int
main(void)
{
	test_table();
	test_values();
	test_fixed_point();
	persist_cleanup();
	return done_testing();
}
