/*
 * test_policy.c - case tables for lib/policy.c and lib/policy_eval.c:
 * every message of policy.md 6 and every token, action, option and
 * directive (parser); the worked examples of policy.md 8 and the
 * scenarios of 10.3 (evaluator); loader behaviour (1.1, 2.2-2.4), the
 * overlay used by the Policy Admin API, limits, staleness, replies.
 *
 * Most policies live in memory (POLICY_LOAD_NOFS, dir "/pol"); the
 * loader tests that need a real directory use a mkdtemp one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "policy.h"
#include "strbuf.h"
#include "unit.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct file {
	const char	*path;
	const char	*content;	/* NULL: removed */
};

/* Load files (relative to /pol) from memory only. */
static struct policy *
load_mem(const struct file *files, const struct file *extra)
{
	struct policy_overlay ov[64];
	struct policy_load_opts o;
	size_t n = 0;

	for (; files != NULL && files->path != NULL && n < 64; files++, n++) {
		ov[n].path = files->path;
		ov[n].content = files->content;
		ov[n].len = files->content ? strlen(files->content) : 0;
	}
	for (; extra != NULL && extra->path != NULL && n < 64; extra++, n++) {
		ov[n].path = extra->path;
		ov[n].content = extra->content;
		ov[n].len = extra->content ? strlen(extra->content) : 0;
	}
	memset(&o, 0, sizeof(o));
	o.dir = "/pol";
	o.legacy_dir = "/legacy";
	o.overlay = ov;
	o.noverlay = n;
	o.flags = POLICY_LOAD_NOFS;
	return policy_load(&o);
}

/* Parse one buffer as /pol/t.policy, full or service form. */
static struct policy *
parse_one(const char *content, size_t len, const char *service,
    const struct file *others)
{
	struct policy_overlay ov[16];
	struct policy_load_opts o;
	size_t n = 0;

	for (; others != NULL && others->path != NULL && n < 16; others++) {
		ov[n].path = others->path;
		ov[n].content = others->content;
		ov[n].len = others->content ? strlen(others->content) : 0;
		n++;
	}
	memset(&o, 0, sizeof(o));
	o.dir = "/pol";
	o.overlay = ov;
	o.noverlay = n;
	o.flags = POLICY_LOAD_NOFS;
	return policy_parse_buffer(&o, "t.policy", content, len, service,
	    service ? "*" : NULL);
}

/* All errors, formatted, one per line (static buffer). */
static const char *
errs(const struct policy *p)
{
	static char buf[65536];
	struct strbuf sb;
	size_t i;

	sb_init(&sb, 0);
	for (i = 0; i < policy_nerrors(p); i++) {
		if (i > 0)
			sb_addc(&sb, '\n');
		policy_format_error(&sb, policy_error_at(p, i));
	}
	snprintf(buf, sizeof(buf), "%s", sb.buf ? sb.buf : "");
	sb_free(&sb);
	return buf;
}

/* All rules as "path:line: str(rule)", one per line. */
static const char *
rules(const struct policy *p)
{
	static char buf[65536];
	struct strbuf sb;
	const struct policy_rule *r;
	size_t i;

	sb_init(&sb, 0);
	for (i = 0; i < policy_nrules(p); i++) {
		r = policy_rule_at(p, i);
		if (i > 0)
			sb_addc(&sb, '\n');
		sb_addf(&sb, "%s:%u: ", policy_rule_path(r),
		    policy_rule_line(r));
		policy_rule_format(&sb, r);
	}
	snprintf(buf, sizeof(buf), "%s", sb.buf ? sb.buf : "");
	sb_free(&sb);
	return buf;
}

/* ------------------------------------------------------------------ */
/* Parser: one line each, full form (policy.md 6 table and more) */

#define T	"/pol/t.policy:1: "

static const struct {
	const char	*line;
	const char	*err;		/* NULL: accepted */
	const char	*rule;		/* str(rule) when accepted */
} full_cases[] = {
	/* the message list of policy.md 6, in its order */
	{ "test.Service +argument @anyvm @anyvm", T "wrong number of fields",
	    NULL },
	{ "test+Service * @anyvm @anyvm allow", T "service 'test+Service' "
	    "contains invalid characters: ('+',)", NULL },
	{ "test.Service +arg/x @anyvm @anyvm allow", T "argument '+arg/x' "
	    "contains invalid characters: ('/',)", NULL },
	{ "test.Service argument @anyvm @anyvm allow", T "argument "
	    "'argument' does not start with +", NULL },
	{ "* +argument @anyvm @default allow", T "only * argument allowed "
	    "for * service", NULL },
	{ "test.Service +argument @dispvm @default allow", T "invalid source "
	    "token: '@dispvm'", NULL },
	{ "test.Service +argument @default @default allow", T "invalid "
	    "source token: '@default'", NULL },
	{ "test.Service +argument @invalid @anyvm allow", T "invalid source "
	    "token: '@invalid'", NULL },
	{ "test.Service +argument @anyvm @invalid deny", T "invalid target "
	    "token: '@invalid'", NULL },
	{ "test.Service +a @tag: @anyvm allow", T "invalid empty @tag: "
	    "token: '@tag:'", NULL },
	{ "test.Service +a @type: @anyvm allow", T "invalid empty @type: "
	    "token: '@type:'", NULL },
	{ "test.Service +a @anyvm @dispvm: allow", T "invalid empty "
	    "@dispvm: token: '@dispvm:'", NULL },
	{ "test.Service +a @anyvm @dispvm:@tag: allow", T "invalid empty "
	    "@dispvm:@tag: token: '@dispvm:@tag:'", NULL },
	{ "test.Service +argument @anyvm @anyvm invalid", T "invalid action: "
	    "invalid", NULL },
	{ "test.Service +a @anyvm @anyvm allow,target=x", T "invalid action: "
	    "allow,target=x", NULL },
	{ "test.Service +argument @anyvm @anyvm allow extra", T "invalid "
	    "action parameter syntax: 'extra'", NULL },
	{ "test.Service +argument @anyvm @anyvm allow notify", T "invalid "
	    "action parameter syntax: 'notify'", NULL },
	{ "test.Service +a @anyvm @anyvm allow user=a user=b", T "parameter "
	    "given twice: 'user'", NULL },
	{ "test.Service +argument @anyvm @anyvm allow notify=xx", T "'notify' "
	    "is 'xx', but can be only 'yes' or 'no'", NULL },
	{ "test.Service +a @anyvm @anyvm allow autostart=maybe", T "'autostart'"
	    " is 'maybe', but can be only 'yes' or 'no'", NULL },
	{ "test.Service +argument @anyvm @default deny target=test-vm1", T
	    "invalid parameters for action Deny: ['target=test-vm1']", NULL },
	{ "test.Service +argument @anyvm @anyvm deny user=user", T "invalid "
	    "parameters for action Deny: ['user=user']", NULL },
	{ "test.Service +a @anyvm @anyvm deny notify=yes autostart=no", T
	    "invalid parameters for action Deny: ['notify=yes', "
	    "'autostart=no']", NULL },
	{ "test.Service +a @anyvm @anyvm allow default_target=test-vm1", T
	    "invalid parameters for action Allow: ['default_target=test-vm1']",
	    NULL },
	{ "test.Service +argument @anyvm @anyvm allow invalid=xx", T "invalid "
	    "parameters for action Allow: ['invalid=xx']", NULL },
	{ "test.Service +a @anyvm @default allow target=@tag:tag1", T
	    "invalid redirect token: '@tag:tag1'", NULL },
	{ "test.Service +a @anyvm @default allow target=@dispvm:@tag:tag1", T
	    "invalid redirect token: '@dispvm:@tag:tag1'", NULL },
	{ "test.Service +a @anyvm @default allow target=*", T "invalid "
	    "redirect token: '*'", NULL },
	{ "test.Service +a @anyvm @default allow target=@anyvm", T "invalid "
	    "redirect token: '@anyvm'", NULL },
	{ "test.Service +a @anyvm @default allow target=@default", T "invalid "
	    "redirect token: '@default'", NULL },
	{ "test.Service +argument @anyvm @default allow", T "allow action for "
	    "@default rule must specify target= option", NULL },
	{ "!include a b", T "invalid number of params", NULL },
	{ "!include-dir", T "invalid number of params", NULL },
	{ "!include-service include/inc", T "invalid number of params", NULL },
	{ "!compat-4.0 x", T "invalid number of params", NULL },
	{ "!foo x", T "invalid directive", NULL },
	{ "!", T "invalid directive", NULL },
	{ "!includex y", T "invalid directive", NULL },
	{ "!include include/nonexistent", T "not a file: "
	    "/pol/include/nonexistent", NULL },
	{ "!include-service a.B * include/nonexistent", T "not a file: "
	    "/pol/include/nonexistent", NULL },
	{ "!include-dir nonexistent", T "not a directory: /pol/nonexistent",
	    NULL },
	{ "!include /abs/missing", T "not a file: /abs/missing", NULL },
	{ "!include include/../x/./y", T "not a file: /pol/x/y", NULL },
	/* the order of the checks */
	{ "a+b c @x @y z", T "service 'a+b' contains invalid characters: "
	    "('+',)", NULL },
	{ "ab c @x @y z", T "argument 'c' does not start with +", NULL },
	{ "ab +c @x @y z", T "invalid source token: '@x'", NULL },
	{ "ab +c x @y z", T "invalid target token: '@y'", NULL },
	{ "ab +c x y z", T "invalid action: z", NULL },
	{ "a +b x y allow extra user=a user=b", T "invalid action parameter "
	    "syntax: 'extra'", NULL },
	{ "a +b x y allow user=a user=b extra", T "parameter given twice: "
	    "'user'", NULL },
	{ "a +b x y allow autostart=x notify=y", T "'notify' is 'y', but can "
	    "be only 'yes' or 'no'", NULL },
	{ "a +b x y deny autostart=maybe", T "'autostart' is 'maybe', but can "
	    "be only 'yes' or 'no'", NULL },
	{ "a +b x y allow target=@tag:x default_target=y", T "invalid "
	    "parameters for action Allow: ['target=@tag:x', "
	    "'default_target=y']", NULL },
	{ "a +b x y ask target=@tag:x default_target=@anyvm", T "invalid "
	    "redirect token: '@tag:x'", NULL },
	{ "a +b x y ask target=x default_target=@anyvm", T "invalid redirect "
	    "token: '@anyvm'", NULL },
	{ "a +b x y allow =x", T "invalid parameters for action Allow: "
	    "['=x']", NULL },
	{ "a +b x @default ask", NULL, "a\t+b\tx\t@default\task" },
	{ "a +b x @default allow target=", NULL,
	    "a\t+b\tx\t@default\tallow" },
	/* tokens */
	{ "a +b @anyvm @tag:@x deny", T "invalid target token: '@tag:@x'",
	    NULL },
	{ "a +b @tag:@x @anyvm deny", T "invalid source token: '@tag:@x'",
	    NULL },
	{ "a +b x @dispvm:@foo deny", T "invalid target token: "
	    "'@dispvm:@foo'", NULL },
	{ "a +b x @dispvm:@tag:@foo deny", T "invalid target token: "
	    "'@dispvm:@tag:@foo'", NULL },
	{ "a +b x y allow target=@tag:", T "invalid redirect token: '@tag:'",
	    NULL },
	{ "a +b x y allow target=@dispvm:", T "invalid empty @dispvm: token: "
	    "'@dispvm:'", NULL },
	{ "* * dom0 dom0 allow", NULL, "*\t*\t@adminvm\t@adminvm\tallow" },
	{ "* * @adminvm @adminvm deny", NULL,
	    "*\t*\t@adminvm\t@adminvm\tdeny" },
	{ "* * * * deny", NULL, "*\t*\t*\t*\tdeny" },
	{ "* * @anyvm @anyvm deny", NULL, "*\t*\t@anyvm\t@anyvm\tdeny" },
	{ "* * @type:AppVM @type:TemplateVM deny", NULL,
	    "*\t*\t@type:AppVM\t@type:TemplateVM\tdeny" },
	{ "* * @tag:t1 @tag:t2 deny", NULL, "*\t*\t@tag:t1\t@tag:t2\tdeny" },
	{ "* * @dispvm:x @dispvm deny", NULL,
	    "*\t*\t@dispvm:x\t@dispvm\tdeny" },
	{ "* * @dispvm:@tag:t @dispvm:@tag:u deny", NULL,
	    "*\t*\t@dispvm:@tag:t\t@dispvm:@tag:u\tdeny" },
	{ "* * x @dispvm:y deny", NULL, "*\t*\tx\t@dispvm:y\tdeny" },
	{ "* * *x x* deny", NULL, "*\t*\t*x\tx*\tdeny" },
	{ "test.Service +a \xe2\x98\x83 @anyvm allow", NULL,
	    "test.Service\t+a\t\xe2\x98\x83\t@anyvm\tallow" },
	/* actions and options */
	{ "test.Service + @anyvm @anyvm allow", NULL,
	    "test.Service\t+\t@anyvm\t@anyvm\tallow" },
	{ "a * x y allow target=dom0", NULL,
	    "a\t*\tx\ty\tallow target=@adminvm" },
	{ "a * x y allow target=@dispvm user=u notify=yes autostart=no", NULL,
	    "a\t*\tx\ty\tallow target=@dispvm user=u" },
	{ "a * x y allow target=@dispvm:d", NULL,
	    "a\t*\tx\ty\tallow target=@dispvm:d" },
	{ "a * x y ask target=@dispvm default_target=@dispvm:x", NULL,
	    "a\t*\tx\ty\task target=@dispvm default_target=@dispvm:x" },
	{ "a * x y ask default_target=w user=root notify=no autostart=yes",
	    NULL, "a\t*\tx\ty\task default_target=w user=root" },
	{ "a * x y deny notify=no", NULL, "a\t*\tx\ty\tdeny" },
	{ "a * x y allow user=", NULL, "a\t*\tx\ty\tallow" },
	{ "a * x y allow user=a=b", NULL, "a\t*\tx\ty\tallow user=a=b" },
	{ "a * x y allow # note", T "invalid action parameter syntax: '#'",
	    NULL },
	/* whitespace: tabs, runs, Unicode (NBSP, ideographic space) */
	{ "  a\t*  x\t\ty deny  ", NULL, "a\t*\tx\ty\tdeny" },
	{ "a\xc2\xa0*\xe3\x80\x80x y deny", NULL, "a\t*\tx\ty\tdeny" },
	{ "\xe2\x80\x83# comment after an em space", NULL, NULL },
	/* repr() of odd characters */
	{ "\xe2\x98\x83 * @anyvm @anyvm allow", T "service '\xe2\x98\x83' "
	    "contains invalid characters: ('\xe2\x98\x83',)", NULL },
	{ "test'x * @anyvm @anyvm allow", T "service \"test'x\" contains "
	    "invalid characters: (\"'\",)", NULL },
	{ "a\\b/c+ * x y deny", T "service 'a\\\\b/c+' contains invalid "
	    "characters: ('+', '/', '\\\\')", NULL },
	{ "a +\xc3\xa9\xc3\xa9 x y deny", T "argument '+\xc3\xa9\xc3\xa9' "
	    "contains invalid characters: ('\xc3\xa9',)", NULL },
	{ "a\x01 * x y deny", T "service 'a\\x01' contains invalid "
	    "characters: ('\\x01',)", NULL },
	{ "a\xc2\xad * x y deny", T "service 'a\\xad' contains invalid "
	    "characters: ('\\xad',)", NULL },
	{ "a +b @x\"' y deny", T "invalid source token: '@x\"\\''", NULL },
	/* bytes */
	{ "a * x y deny\xff", "/pol/t.policy:1: invalid UTF-8 (byte 0xff)",
	    NULL },
	{ "a * x y deny \xed\xa0\x80", "/pol/t.policy:1: invalid UTF-8 "
	    "(byte 0xed)", NULL },
};

static void
test_full_form(void)
{
	struct policy *p;
	const char *want;
	size_t i;

	for (i = 0; i < NELEM(full_cases); i++) {
		p = parse_one(full_cases[i].line, strlen(full_cases[i].line),
		    NULL, NULL);
		if (!ok(p != NULL, "parse %s", unit_qs(full_cases[i].line)))
			continue;
		is_str(errs(p), full_cases[i].err ? full_cases[i].err : "",
		    "errors of %s", unit_qs(full_cases[i].line));
		want = full_cases[i].rule;
		if (full_cases[i].err == NULL && want != NULL &&
		    is_int(policy_nrules(p), 1, "one rule for %s",
		    unit_qs(full_cases[i].line)))
			ok(strstr(rules(p), want) != NULL &&
			    strlen(rules(p)) == strlen("/pol/t.policy:1: ") +
			    strlen(want), "str(rule) of %s is %s",
			    unit_qs(full_cases[i].line), unit_qs(want));
		policy_free(p);
	}
}

/* A NUL inside a line: accepted by Python as a character, refused here
 * (it cannot be kept in a C string) unless a reference check fires. */
static void
test_nul(void)
{
	static const char l1[] = "a * x\0y @anyvm deny";
	static const char l2[] = "a\0 * x y deny";
	static const char l3[] = "a * x y allow user=a\0b";
	struct policy *p;

	p = parse_one(l1, sizeof(l1) - 1, NULL, NULL);
	is_str(errs(p), T "NUL byte in token: 'x\\x00y'", "NUL in a name");
	policy_free(p);
	p = parse_one(l2, sizeof(l2) - 1, NULL, NULL);
	is_str(errs(p), T "service 'a\\x00' contains invalid characters: "
	    "('\\x00',)", "NUL in a service: the reference message");
	policy_free(p);
	p = parse_one(l3, sizeof(l3) - 1, NULL, NULL);
	is_str(errs(p), T "NUL byte in option: 'user=a\\x00b'",
	    "NUL in an option");
	policy_free(p);
}

/* Line breaks, comments, numbering, every error collected. */
static void
test_lines(void)
{
	static const char text[] =
	    "# comment\n"
	    "\n"
	    "   # indented comment\r\n"
	    "a * x y deny\r"
	    "bad line\r\n"
	    "a * x y allow notify=x\n"
	    "\t\n"
	    "b * x y allow";
	struct policy *p;
	char *big;
	size_t i;

	p = parse_one(text, sizeof(text) - 1, NULL, NULL);
	is_str(errs(p), "/pol/t.policy:5: wrong number of fields\n"
	    "/pol/t.policy:6: 'notify' is 'x', but can be only 'yes' or 'no'",
	    "\\n, \\r\\n and lone \\r end lines; all errors reported");
	is_str(rules(p), "/pol/t.policy:4: a\t*\tx\ty\tdeny\n"
	    "/pol/t.policy:8: b\t*\tx\ty\tallow", "rules and their lines");
	policy_free(p);

	/* invalid UTF-8 on line 3: the file is refused as a whole */
	p = parse_one("a * x y deny\nb * x y deny\n\xc0\xaf\n", 29, NULL,
	    NULL);
	is_str(errs(p), "/pol/t.policy:3: invalid UTF-8 (byte 0xc0)",
	    "overlong encoding refused, line counted");
	is_int(policy_nrules(p), 0, "nothing kept from an undecodable file");
	policy_free(p);

	is_int(policy_utf8_prefix("ab\xc3\xa9\xed\xa0\x80", 7), 4,
	    "utf8 prefix stops at a surrogate");
	is_int(policy_utf8_prefix("\xf4\x90\x80\x80", 4), 0, "> U+10FFFF");
	is_int(policy_utf8_prefix("\xf0\x9f\x98\x80x", 5), 5, "4-byte ok");
	is_int(policy_utf8_prefix("\xe2\x98", 2), 0, "truncated");

	/* a line over POLICY_MAX_LINE */
	big = malloc(POLICY_MAX_LINE + 32);
	if (big != NULL) {
		memset(big, 'x', POLICY_MAX_LINE + 1);
		memcpy(big + POLICY_MAX_LINE + 1, "\na * x y deny", 14);
		p = parse_one(big, strlen(big), NULL, NULL);
		ok(strstr(errs(p), "/pol/t.policy:1: line too long") != NULL,
		    "line too long: %s", errs(p));
		is_int(policy_nrules(p), 1, "the next line still parsed");
		policy_free(p);
		free(big);
	}

	/* more errors than POLICY_MAX_ERRORS */
	big = malloc(8 * (POLICY_MAX_ERRORS + 10) + 1);
	if (big != NULL) {
		big[0] = '\0';
		for (i = 0; i < POLICY_MAX_ERRORS + 10; i++)
			strcat(big, "bad x\n");
		p = parse_one(big, strlen(big), NULL, NULL);
		is_int(policy_nerrors(p), POLICY_MAX_ERRORS + 1,
		    "errors capped, plus one note");
		is_str(policy_error_at(p, POLICY_MAX_ERRORS)->msg,
		    "too many errors, the rest is not reported", "the note");
		policy_free(p);
		free(big);
	}
}

/* Service form (2.3): what !include-service parses. */
static const struct {
	const char	*line;
	const char	*err;
	const char	*rule;
} svc_cases[] = {
	{ "@anyvm @anyvm", T "wrong number of fields", NULL },
	{ "qubes.A * @anyvm @anyvm deny", T "invalid action: @anyvm", NULL },
	{ "@anyvm @anyvm deny", NULL, "a.B\t*\t@anyvm\t@anyvm\tdeny" },
	{ "test-mgmt @tag:created-by-test-mgmt allow target=dom0", NULL,
	    "a.B\t*\ttest-mgmt\t@tag:created-by-test-mgmt\tallow "
	    "target=@adminvm" },
	{ "test-mgmt $tag:created-by-test-mgmt allow,target=dom0", NULL,
	    "a.B\t*\ttest-mgmt\t@tag:created-by-test-mgmt\tallow "
	    "target=@adminvm" },
	{ "$anyvm $dispvm:$tag:x ask,default_target=$dispvm,user=u", NULL,
	    "a.B\t*\t@anyvm\t@dispvm:@tag:x\task default_target=@dispvm "
	    "user=u" },
	{ "x,y,deny", NULL, "a.B\t*\tx\ty\tdeny" },
	{ "x y allow,target", T "invalid action parameter syntax: 'target'",
	    NULL },
	{ "!include-dir x", T "invalid directive", NULL },
	{ "!include-service a b c", T "invalid directive", NULL },
	{ "!compat-4.0", T "invalid directive", NULL },
	{ "!include", T "invalid number of params", NULL },
	{ "$include:a b", T "invalid number of params", NULL },
	{ "!include include/none", T "not a file: /pol/include/none", NULL },
	{ "$include:include/none", T "not a file: /pol/include/none", NULL },
	{ "# $include:include/none", NULL, NULL },
};

static void
test_service_form(void)
{
	struct policy *p;
	size_t i;

	for (i = 0; i < NELEM(svc_cases); i++) {
		p = parse_one(svc_cases[i].line, strlen(svc_cases[i].line),
		    "a.B", NULL);
		is_str(errs(p), svc_cases[i].err ? svc_cases[i].err : "",
		    "service form errors of %s", unit_qs(svc_cases[i].line));
		if (svc_cases[i].rule != NULL)
			is_str(rules(p) + strlen("/pol/t.policy:1: "),
			    svc_cases[i].rule, "service form rule of %s",
			    unit_qs(svc_cases[i].line));
		policy_free(p);
	}
}

/* ------------------------------------------------------------------ */
/* Loader */

static void
test_directory(void)
{
	static const struct file files[] = {
		{ "100-x.policy", "s * a b deny" },
		{ "20-x.policy", "s * c d deny" },
		{ "30_user.policy", "s * e f deny" },
		{ "30-user.policy", "s * g h deny" },
		{ "README", "not parsed" },
		{ "foo.policy.rpmnew", "not parsed" },
		{ ".hidden.policy", "not parsed" },
		{ "x.Policy", "not parsed" },
		{ "include/inc", "not parsed on its own" },
		{ NULL, NULL },
	};
	static const struct file bad[] = {
		{ "Foo.policy", "s * i j deny" },
		{ "a b.policy", "s * k l deny" },
		{ NULL, NULL },
	};
	struct policy *p;

	p = load_mem(files, NULL);
	is_str(errs(p), "", "filter of 1.1: skipped files are not parsed");
	is_str(rules(p),
	    "/pol/100-x.policy:1: s\t*\ta\tb\tdeny\n"
	    "/pol/20-x.policy:1: s\t*\tc\td\tdeny\n"
	    "/pol/30-user.policy:1: s\t*\tg\th\tdeny\n"
	    "/pol/30_user.policy:1: s\t*\te\tf\tdeny",
	    "strcmp order, not numeric");
	is_str(policy_dir(p), "/pol", "policy_dir");
	ok(!policy_stale(p), "NOFS policies are never stale");
	policy_free(p);

	p = load_mem(files, bad);
	is_str(errs(p), "invalid filename: /pol/Foo.policy\n"
	    "invalid filename: /pol/a b.policy", "bad names refuse the policy");
	policy_free(p);
}

static void
test_includes(void)
{
	static const struct file f1[] = {
		{ "10-a.policy",
		    "s * x y deny\n"
		    "!include include/a\n"
		    "!include-service svc +arg include/a2\n"
		    "!include /pol/include/b\n"
		    "s * z y deny\n" },
		/* relative to /pol, not to include/ */
		{ "include/a", "t * x y deny\n!include include/b\n" },
		{ "include/a2", "x y allow\n!include include/b2\n" },
		{ "include/b", "u * x y deny" },
		{ "include/b2", "w y deny" },
		{ NULL, NULL },
	};
	static const struct file loop1[] = {
		{ "10-a.policy", "!include include/a\ns * x y deny" },
		{ "include/a", "!include include/a" },
		{ NULL, NULL },
	};
	static const struct file loop2[] = {
		{ "10-a.policy", "!include-service s * include/a" },
		{ "include/a", "x y deny\n$include:include/b" },
		{ "include/b", "!include include/a" },
		{ NULL, NULL },
	};
	static const struct file loop3[] = {
		{ "10-a.policy", "!include 10-a.policy" },
		{ NULL, NULL },
	};
	static const struct file loop4[] = {
		{ "10-a.policy", "!include-dir ." },
		{ NULL, NULL },
	};
	static const struct file two_forms[] = {
		{ "10-a.policy", "!include include/x\n"
		    "!include-service s * include/x" },
		{ "include/x", "@anyvm @anyvm deny" },
		{ NULL, NULL },
	};
	static const struct file incdir[] = {
		{ "10-a.policy", "!include-dir d\ns * end y deny" },
		{ "d/2.policy", "s * two y deny" },
		{ "d/1.policy", "s * one y deny\n!include-dir d2" },
		{ "d/README", "junk" },
		{ "d2/x.policy", "s * deep y deny" },
		{ NULL, NULL },
	};
	static const struct file incdir_bad[] = {
		{ "10-a.policy", "!include-dir d" },
		{ "d/A.policy", "s * x y deny" },
		{ NULL, NULL },
	};
	struct file deep[POLICY_MAX_DEPTH + 3];
	char names[POLICY_MAX_DEPTH + 2][32], bodies[POLICY_MAX_DEPTH + 2][48];
	struct policy *p;
	size_t i;

	p = load_mem(f1, NULL);
	is_str(errs(p), "", "includes resolve");
	is_str(rules(p),
	    "/pol/10-a.policy:1: s\t*\tx\ty\tdeny\n"
	    "/pol/include/a:1: t\t*\tx\ty\tdeny\n"
	    "/pol/include/b:1: u\t*\tx\ty\tdeny\n"
	    "/pol/include/a2:1: svc\t+arg\tx\ty\tallow\n"
	    "/pol/include/b2:1: svc\t+arg\tw\ty\tdeny\n"
	    "/pol/include/b:1: u\t*\tx\ty\tdeny\n"
	    "/pol/10-a.policy:5: s\t*\tz\ty\tdeny",
	    "rules inserted in place, depth first; service context kept");
	policy_free(p);

	p = load_mem(loop1, NULL);
	is_str(errs(p), "/pol/include/a:1: include loop: /pol/include/a",
	    "self include is an error");
	is_str(rules(p), "/pol/10-a.policy:2: s\t*\tx\ty\tdeny",
	    "the rest still parsed");
	policy_free(p);
	p = load_mem(loop2, NULL);
	is_str(errs(p), "/pol/include/b:1: include loop: /pol/include/a",
	    "indirect loop through $include:");
	policy_free(p);
	p = load_mem(loop3, NULL);
	is_str(errs(p), "/pol/10-a.policy:1: include loop: /pol/10-a.policy",
	    "a main file including itself");
	policy_free(p);
	p = load_mem(loop4, NULL);
	is_str(errs(p), "/pol/10-a.policy:1: include loop: /pol/10-a.policy",
	    "!include-dir of the policy directory");
	policy_free(p);

	p = load_mem(two_forms, NULL);
	is_str(errs(p), "/pol/include/x:1: wrong number of fields",
	    "same file, two grammars (13.5)");
	is_str(rules(p), "/pol/include/x:1: s\t*\t@anyvm\t@anyvm\tdeny",
	    "service form rule kept");
	policy_free(p);

	p = load_mem(incdir, NULL);
	is_str(errs(p), "", "!include-dir");
	is_str(rules(p),
	    "/pol/d/1.policy:1: s\t*\tone\ty\tdeny\n"
	    "/pol/d2/x.policy:1: s\t*\tdeep\ty\tdeny\n"
	    "/pol/d/2.policy:1: s\t*\ttwo\ty\tdeny\n"
	    "/pol/10-a.policy:2: s\t*\tend\ty\tdeny",
	    "!include-dir: sorted, filtered, nested");
	policy_free(p);
	p = load_mem(incdir_bad, NULL);
	is_str(errs(p), "invalid filename: /pol/d/A.policy",
	    "!include-dir applies the name check");
	policy_free(p);

	/* a chain deeper than POLICY_MAX_DEPTH */
	for (i = 0; i < POLICY_MAX_DEPTH + 2; i++) {
		snprintf(names[i], sizeof(names[i]), i == 0 ? "10-a.policy" :
		    "include/%zu", i);
		snprintf(bodies[i], sizeof(bodies[i]), "!include include/%zu",
		    i + 1);
		deep[i].path = names[i];
		deep[i].content = bodies[i];
	}
	deep[i].path = NULL;
	p = load_mem(deep, NULL);
	ok(strstr(errs(p), "includes nested too deeply") != NULL,
	    "include depth is bounded: %s", errs(p));
	policy_free(p);
}

/* The overlay of the Policy Admin API (11.6). */
static void
test_overlay(void)
{
	static const struct file base[] = {
		{ "90-admin-default.policy",
		    "!include-service admin.vm.List * include/admin-local-rwx\n"
		    "!include-service admin.vm.Start * "
		    "include/admin-local-rwx\n" },
		{ "include/admin-local-rwx", "" },
		{ NULL, NULL },
	};
	static const struct file rm[] = {
		{ "include/admin-local-rwx", NULL },
		{ NULL, NULL },
	};
	static const struct file bad_inc[] = {
		{ "include/admin-local-rwx", "qubes.A * @anyvm @anyvm deny\n" },
		{ NULL, NULL },
	};
	static const struct file good_inc[] = {
		{ "include/admin-local-rwx", "test-mgmt "
		    "@tag:created-by-test-mgmt allow target=dom0\n" },
		{ "30-user.policy", "qubes.Gpg * work vault allow\n" },
		{ NULL, NULL },
	};
	static const struct file rm_main[] = {
		{ "90-admin-default.policy", NULL },
		{ NULL, NULL },
	};
	static const struct file missing[] = {
		{ "30-user.policy", "!include include/nonexistent\n" },
		{ NULL, NULL },
	};
	struct policy *p;

	p = load_mem(base, rm);
	is_str(errs(p), "/pol/90-admin-default.policy:1: including a file "
	    "that will be removed: /pol/include/admin-local-rwx\n"
	    "/pol/90-admin-default.policy:2: including a file that will be "
	    "removed: /pol/include/admin-local-rwx",
	    "removing an included file");
	policy_free(p);
	p = load_mem(base, bad_inc);
	is_str(errs(p), "/pol/include/admin-local-rwx:1: invalid action: "
	    "@anyvm\n/pol/include/admin-local-rwx:1: invalid action: @anyvm",
	    "an include file is validated in the form it is reached in");
	policy_free(p);
	p = load_mem(base, good_inc);
	is_str(errs(p), "", "valid change");
	is_str(rules(p),
	    "/pol/30-user.policy:1: qubes.Gpg\t*\twork\tvault\tallow\n"
	    "/pol/include/admin-local-rwx:1: admin.vm.List\t*\ttest-mgmt\t"
	    "@tag:created-by-test-mgmt\tallow target=@adminvm\n"
	    "/pol/include/admin-local-rwx:1: admin.vm.Start\t*\ttest-mgmt\t"
	    "@tag:created-by-test-mgmt\tallow target=@adminvm",
	    "replaced and added files are parsed in order");
	policy_free(p);
	p = load_mem(base, rm_main);
	is_str(errs(p), "", "removing a main file");
	is_int(policy_nrules(p), 0, "its rules are gone");
	policy_free(p);
	p = load_mem(base, missing);
	is_str(errs(p), "/pol/30-user.policy:1: not a file: "
	    "/pol/include/nonexistent", "the 11.7 example");
	policy_free(p);
}

/* !compat-4.0 (2.4) */
static void
test_compat(void)
{
	static const struct file files[] = {
		{ "35-compat.policy", "!compat-4.0" },
		{ "/legacy/qubes.Svc", "$anyvm $anyvm ask" },
		{ "/legacy/qubes.Svc+b", "work vault allow,target=vault" },
		{ "/legacy/qubes.Svc+a", "$include:include/inc" },
		{ "/legacy/include/inc", "work $adminvm allow" },
		{ "/legacy/a.Other", "$anyvm dom0 deny" },
		{ "/legacy/.hidden", "junk" },
		{ "/legacy/qubes.Svc.rpmnew", "junk" },
		{ "/legacy/qubes.Svc+c.swp", "junk" },
		{ "/legacy/bad name", "junk" },
		{ NULL, NULL },
	};
	static const struct file rec[] = {
		{ "35-compat.policy", "!compat-4.0" },
		{ "/legacy/x", "!compat-4.0" },
		{ NULL, NULL },
	};
	struct policy *p;

	p = load_mem(files, NULL);
	is_str(errs(p), "", "legacy policy loads");
	is_str(rules(p),
	    "/legacy/a.Other:1: a.Other\t*\t@anyvm\t@adminvm\tdeny\n"
	    "/legacy/include/inc:1: qubes.Svc\t+a\twork\t@adminvm\tallow\n"
	    "/legacy/qubes.Svc+a:0: qubes.Svc\t+a\t@anyvm\t@anyvm\tdeny\n"
	    "/legacy/qubes.Svc+a:0: qubes.Svc\t+a\t@anyvm\t@adminvm\tdeny\n"
	    "/legacy/qubes.Svc+b:1: qubes.Svc\t+b\twork\tvault\tallow "
	    "target=vault\n"
	    "/legacy/qubes.Svc+b:0: qubes.Svc\t+b\t@anyvm\t@anyvm\tdeny\n"
	    "/legacy/qubes.Svc+b:0: qubes.Svc\t+b\t@anyvm\t@adminvm\tdeny\n"
	    "/legacy/qubes.Svc:1: qubes.Svc\t*\t@anyvm\t@anyvm\task",
	    "services sorted, specific arguments first, implicit denies, "
	    "includes relative to the legacy directory");
	policy_free(p);
	p = load_mem(rec, NULL);
	is_str(errs(p), "/legacy/x:1: !compat-4.0 is not recursive",
	    "!compat-4.0 inside legacy content");
	policy_free(p);
}

/* Real directories: symlinks, missing dir, staleness, overlay on disk. */
static void
write_file(const char *dir, const char *name, const char *content)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	if (fp == NULL)
		return;
	fputs(content, fp);
	fclose(fp);
}

static void
test_filesystem(void)
{
	char tmpl[] = "/tmp/test_policy.XXXXXX", path[512], want[1024];
	struct policy_load_opts o;
	struct policy_overlay ov[2];
	struct policy *p;
	char *dir, *real;
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	dir = mkdtemp(tmpl);
	if (!ok(dir != NULL, "mkdtemp"))
		return;
	real = realpath(dir, NULL);
	snprintf(path, sizeof(path), "%s/include", dir);
	mkdir(path, 0755);
	write_file(dir, "30-a.policy", "!include include/link\n");
	write_file(dir, "include/target", "s * a b deny\n");
	snprintf(path, sizeof(path), "%s/include/link", dir);
	if (symlink("target", path) < 0)
		diag("symlink: %s", strerror(errno));

	memset(&o, 0, sizeof(o));
	o.dir = dir;
	p = policy_load(&o);
	is_str(errs(p), "", "symlinked include");
	snprintf(want, sizeof(want), "%s/include/target:1: s\t*\ta\tb\tdeny",
	    real);
	is_str(rules(p), want, "the resolved path is reported");
	is_str(policy_dir(p), real, "policy_dir is the realpath");
	ok(!policy_stale(p), "fresh policy is not stale");
	nanosleep(&ts, NULL);
	write_file(dir, "include/target", "s * a b allow\n");
	ok(policy_stale(p), "changing an included file makes it stale");
	policy_free(p);

	p = policy_load(&o);
	ok(!policy_stale(p), "reloaded");
	write_file(dir, "40-new.policy", "");
	ok(policy_stale(p), "a new file makes it stale");
	policy_free(p);

	/* overlay over real files: replace one, add one */
	ov[0].path = "include/link";
	ov[0].content = "s * c d deny\n";
	ov[0].len = strlen(ov[0].content);
	ov[1].path = "50-added.policy";
	ov[1].content = "!include include/missing\n";
	ov[1].len = strlen(ov[1].content);
	o.overlay = ov;
	o.noverlay = 2;
	p = policy_load(&o);
	snprintf(want, sizeof(want), "%s/50-added.policy:1: not a file: "
	    "%s/include/missing", real, real);
	is_str(errs(p), want, "overlay: added file validated");
	snprintf(want, sizeof(want), "%s/include/link:1: s\t*\tc\td\tdeny",
	    real);
	is_str(rules(p), want, "overlay: replaced content used");
	policy_free(p);

	/* a missing directory */
	snprintf(path, sizeof(path), "%s/nonexistent", dir);
	memset(&o, 0, sizeof(o));
	o.dir = path;
	p = policy_load(&o);
	snprintf(want, sizeof(want), "failed to load %s/nonexistent file: "
	    "[Errno 2] No such file or directory: '%s/nonexistent'", real,
	    real);
	is_str(errs(p), want, "missing directory: Python's OSError text");
	mkdir(path, 0755);
	ok(policy_stale(p), "creating the directory makes it stale");
	policy_free(p);

	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		diag("cleanup of %s failed", dir);
	free(real);
}

/* ------------------------------------------------------------------ */
/* System information */

static const char si8_json[] =
    "{\"domains\": {"
    "\"dom0\": {\"tags\": [\"dom0-tag\"], \"type\": \"AdminVM\", "
    "\"template_for_dispvms\": false, \"default_dispvm\": \"default-dvm\", "
    "\"icon\": \"appvm-black\", \"guivm\": null, \"power_state\": "
    "\"Running\"}, "
    "\"test-vm1\": {\"tags\": [\"tag1\", \"tag2\"], \"type\": \"AppVM\", "
    "\"template_for_dispvms\": false, \"default_dispvm\": \"default-dvm\", "
    "\"icon\": \"appvm-red\", \"guivm\": \"dom0\", \"power_state\": "
    "\"Running\"}, "
    "\"test-vm2\": {\"tags\": [\"tag2\"], \"type\": \"AppVM\", "
    "\"template_for_dispvms\": false, \"default_dispvm\": \"default-dvm\", "
    "\"icon\": \"appvm-red\", \"guivm\": \"dom0\", \"power_state\": "
    "\"Running\"}, "
    "\"test-vm3\": {\"tags\": [\"tag3\"], \"type\": \"AppVM\", "
    "\"template_for_dispvms\": true, \"default_dispvm\": \"default-dvm\", "
    "\"icon\": \"appvm-red\", \"guivm\": \"dom0\", \"power_state\": "
    "\"Halted\"}, "
    "\"default-dvm\": {\"tags\": [], \"type\": \"AppVM\", "
    "\"template_for_dispvms\": true, \"default_dispvm\": \"default-dvm\", "
    "\"icon\": \"appvm-red\", \"guivm\": \"dom0\", \"power_state\": "
    "\"Halted\"}, "
    "\"test-invalid-dvm\": {\"tags\": [\"tag1\", \"tag2\"], \"type\": "
    "\"AppVM\", \"template_for_dispvms\": false, \"default_dispvm\": "
    "\"test-vm1\", \"icon\": \"appvm-red\", \"guivm\": \"dom0\", "
    "\"power_state\": \"Halted\"}, "
    "\"test-no-dvm\": {\"tags\": [\"tag1\", \"tag2\"], \"type\": \"AppVM\", "
    "\"template_for_dispvms\": false, \"default_dispvm\": null, \"icon\": "
    "\"appvm-red\", \"guivm\": \"dom0\", \"power_state\": \"Halted\"}, "
    "\"test-template\": {\"tags\": [\"tag1\", \"tag2\"], \"type\": "
    "\"TemplateVM\", \"template_for_dispvms\": false, \"default_dispvm\": "
    "\"default-dvm\", \"icon\": \"appvm-red\", \"guivm\": \"dom0\", "
    "\"power_state\": \"Halted\"}, "
    "\"test-standalone\": {\"tags\": [\"tag1\", \"tag2\"], \"type\": "
    "\"StandaloneVM\", \"template_for_dispvms\": false, "
    "\"default_dispvm\": \"default-dvm\", \"icon\": \"appvm-red\", "
    "\"guivm\": \"dom0\", \"power_state\": \"Halted\"}"
    "}}";

static struct policy_sysinfo *
si8(void)
{
	struct policy_sysinfo *si = NULL;

	if (policy_sysinfo_from_json(si8_json, sizeof(si8_json) - 1, &si,
	    NULL) < 0)
		return NULL;
	return si;
}

/* The same system built in C, power states through the callback. */
static const char *
power_cb(void *ctx, const char *name)
{
	(void)ctx;
	return strncmp(name, "test-vm", 7) == 0 && name[7] != '3' ?
	    "Running" : strcmp(name, "dom0") == 0 ? "Running" : "Halted";
}

static struct policy_sysinfo *
si8_built(void)
{
	static const char *const t12[] = { "tag1", "tag2" };
	static const char *const t2[] = { "tag2" }, *const t3[] = { "tag3" };
	static const char *const t0[] = { "dom0-tag" };
	static const struct policy_domain_info d[] = {
		{ "dom0", "AdminVM", t0, 1, 0, "default-dvm", NULL, NULL,
		    NULL },
		{ "test-vm1", "AppVM", t12, 2, 0, "default-dvm", NULL, "dom0",
		    NULL },
		{ "test-vm2", "AppVM", t2, 1, 0, "default-dvm", NULL, "dom0",
		    NULL },
		{ "test-vm3", "AppVM", t3, 1, 1, "default-dvm", NULL, "dom0",
		    NULL },
		{ "default-dvm", "AppVM", NULL, 0, 1, "default-dvm", NULL,
		    "dom0", NULL },
		{ "test-invalid-dvm", "AppVM", t12, 2, 0, "test-vm1", NULL,
		    "dom0", NULL },
		{ "test-no-dvm", "AppVM", t12, 2, 0, NULL, NULL, "dom0", NULL },
		{ "test-template", "TemplateVM", t12, 2, 0, "default-dvm",
		    NULL, "dom0", NULL },
		{ "test-standalone", "StandaloneVM", t12, 2, 0, "default-dvm",
		    NULL, "dom0", NULL },
	};
	struct policy_sysinfo *si;
	size_t i;

	if ((si = policy_sysinfo_new()) == NULL)
		return NULL;
	policy_sysinfo_set_power_lookup(si, power_cb, NULL);
	for (i = 0; i < NELEM(d); i++)
		if (policy_sysinfo_add(si, &d[i]) < 0) {
			policy_sysinfo_free(si);
			return NULL;
		}
	return si;
}

static void
test_sysinfo(void)
{
	static const struct {
		const char	*json;
		const char	*err;
	} bad[] = {
		{ "", "invalid JSON" },
		{ "[]", "no \"domains\" object" },
		{ "{\"domains\": []}", "no \"domains\" object" },
		{ "{\"domains\": {\"a\": 1}}",
		    "malformed entry for domain 'a'" },
		{ "{\"domains\": {\"a\": {\"type\": 1}}}", "malformed entry "
		    "for domain 'a'" },
		{ "{\"domains\": {\"a\": {\"type\": \"AppVM\", "
		    "\"tags\": [1]}}}",
		    "malformed entry for domain 'a'" },
		{ "{\"domains\": {\"a\": {\"type\": \"AppVM\", \"guivm\": 2}}}",
		    "malformed entry for domain 'a'" },
		{ "{\"domains\": {\"a\": {\"type\": \"AppVM\"}, \"a\": "
		    "{\"type\": \"AppVM\"}}}", "invalid JSON" },
	};
	struct policy_domain_info dup = { "x", "AppVM", NULL, 0, 0, NULL, NULL,
	    NULL, NULL };
	const struct policy_domain_info *d;
	struct policy_sysinfo *si;
	struct strbuf err;
	size_t i;

	si = si8();
	if (!ok(si != NULL, "the 8 system information parses"))
		return;
	is_int(policy_sysinfo_count(si), 9, "9 domains");
	is_str(policy_sysinfo_at(si, 0)->name, "dom0", "insertion order kept");
	is_str(policy_sysinfo_at(si, 8)->name, "test-standalone", "last");
	d = policy_sysinfo_find(si, "test-vm1");
	ok(d != NULL && d->ntags == 2 && strcmp(d->tags[1], "tag2") == 0 &&
	    strcmp(d->guivm, "dom0") == 0 && !d->template_for_dispvms,
	    "find test-vm1");
	d = policy_sysinfo_find(si, "test-no-dvm");
	ok(d != NULL && d->default_dispvm == NULL, "null default_dispvm");
	is_str(policy_sysinfo_power(si, policy_sysinfo_find(si, "test-vm3")),
	    "Halted", "power_state");
	ok(policy_sysinfo_find(si, "nope") == NULL, "unknown name");
	policy_sysinfo_free(si);

	for (i = 0; i < NELEM(bad); i++) {
		sb_init(&err, 0);
		si = (struct policy_sysinfo *)1;
		is_int(policy_sysinfo_from_json(bad[i].json,
		    strlen(bad[i].json), &si, &err), -1, "refused: %s",
		    unit_qs(bad[i].json));
		ok(si == NULL && err.buf != NULL &&
		    strncmp(err.buf, bad[i].err, strlen(bad[i].err)) == 0,
		    "reason %s (%s)", unit_qs(bad[i].err),
		    err.buf ? err.buf : "");
		sb_free(&err);
	}

	si = policy_sysinfo_new();
	is_int(policy_sysinfo_add(si, &dup), 0, "add");
	errno = 0;
	ok(policy_sysinfo_add(si, &dup) < 0 && errno == EEXIST,
	    "duplicate refused");
	is_str(policy_sysinfo_power(si, policy_sysinfo_find(si, "x")), "NA",
	    "no power state, no callback: NA");
	policy_sysinfo_free(si);
	policy_sysinfo_free(NULL);
}

/* ------------------------------------------------------------------ */
/* Evaluation: policy.md 8 */

/*
 * A result as one string:
 *	allow:TARGET:LINE   deny:LINE (or deny:-)   ask:T1 T2..:DEFAULT:LINE
 */
static const char *
summary(const struct policy_result *r)
{
	static char buf[2048];
	char line[16];
	size_t i, o;

	if (r->rule != NULL)
		snprintf(line, sizeof(line), "%u", policy_rule_line(r->rule));
	else
		snprintf(line, sizeof(line), "-");
	switch (r->action) {
	case POLICY_ALLOW:
		snprintf(buf, sizeof(buf), "allow:%s:%s", r->target, line);
		break;
	case POLICY_DENY:
		snprintf(buf, sizeof(buf), "deny:%s", line);
		break;
	case POLICY_ASK:
		o = (size_t)snprintf(buf, sizeof(buf), "ask:");
		for (i = 0; i < r->ntargets && o < sizeof(buf); i++)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
			    i ? " " : "", r->targets[i]);
		if (o < sizeof(buf))
			snprintf(buf + o, sizeof(buf) - o, ":%s:%s",
			    r->default_target ? r->default_target : "-", line);
		break;
	}
	return buf;
}

static const char *
eval(const struct policy *p, const struct policy_sysinfo *si,
    const char *svc, const char *arg, const char *src, const char *tgt,
    unsigned flags, struct policy_result *res)
{
	struct policy_request rq = { svc, arg, src, tgt };

	policy_evaluate(p, si, &rq, flags, res);
	return summary(res);
}

struct ecase {
	const char	*src;
	const char	*target;
	const char	*want;
};

static void
run_cases(const char *name, const char *policy, const struct ecase *c,
    size_t n, const struct policy_sysinfo *si)
{
	struct policy_result res;
	struct policy *p;
	size_t i;

	p = parse_one(policy, strlen(policy), NULL, NULL);
	is_str(errs(p), "", "%s parses", name);
	for (i = 0; i < n; i++) {
		is_str(eval(p, si, "test.Service", "+argument", c[i].src,
		    c[i].target, 0, &res), c[i].want, "%s: %s -> %s", name,
		    c[i].src, c[i].target);
		policy_result_free(&res);
	}
	policy_free(p);
}


static void
test_policy_a(const struct policy_sysinfo *si)
{
	static const char pol[] =
	    "* * test-vm1 test-vm2 allow\n"
	    "* * test-vm1 @anyvm ask\n"
	    "* * test-vm2 @tag:tag1 deny\n"
	    "* * test-vm2 @tag:tag2 allow\n"
	    "* * test-vm2 @dispvm:@tag:tag3 allow\n"
	    "* * test-vm2 @dispvm:@tag:tag2 allow\n"
	    "* * test-vm2 @dispvm:default-dvm allow\n"
	    "* * @type:AppVM @default allow target=test-vm3\n"
	    "* * @tag:tag1 @type:AppVM allow\n";
	static const char ask1[] = "ask:test-vm2 test-vm3 default-dvm "
	    "test-invalid-dvm test-no-dvm test-template test-standalone "
	    "@dispvm:test-vm3 @dispvm:default-dvm:-:2";
	static const struct ecase c[] = {
		{ "test-vm1", "test-vm2", "allow:test-vm2:1" },
		{ "test-vm1", "test-vm3", ask1 },
		/* rule 4; executing fails as loopback */
		{ "test-vm2", "test-vm2", "deny:4" },
		{ "test-vm2", "test-no-dvm", "deny:3" },
		{ "test-vm1", "@default", ask1 },
		{ "test-vm1", "", ask1 },
		{ "test-vm2", "@default", "allow:test-vm3:8" },
		{ "test-no-dvm", "test-vm3", "allow:test-vm3:9" },
		{ "test-vm2", "@dispvm:test-vm3", "allow:@dispvm:test-vm3:5" },
		{ "test-vm2", "@dispvm", "allow:@dispvm:default-dvm:7" },
		{ "test-no-dvm", "test-standalone", "deny:-" },
		{ "test-no-dvm", "@dispvm", "deny:-" },
		{ "test-standalone", "@default", "deny:-" },
		{ "test-vm2", "dom0", "deny:-" },
		{ "test-vm2", "@adminvm", "deny:-" },
	};
	struct policy_result res;
	struct policy *p;

	run_cases("8.1 policy A", pol, c, NELEM(c), si);

	p = parse_one(pol, sizeof(pol) - 1, NULL, NULL);
	is_str(eval(p, si, "test.Service", "+argument", "test-vm2", "test-vm2",
	    POLICY_EVAL_NONINTERACTIVE, &res), "allow:test-vm2:4",
	    "8.1: non-interactive evaluation does not refuse loopback");
	policy_result_free(&res);
	eval(p, si, "test.Service", "+argument", "test-vm2", "test-vm2", 0,
	    &res);
	ok(res.reason != NULL && strncmp(res.reason, "loopback qrexec "
	    "connection not supported", 40) == 0, "loopback reason: %s",
	    res.reason ? res.reason : "");
	policy_result_free(&res);
	is_str(eval(p, si, "test.Service", "+argument", "test-vm1", "test-vm3",
	    POLICY_EVAL_NONINTERACTIVE, &res), "deny:2",
	    "non-interactive: ask counts as deny");
	policy_result_free(&res);
	policy_free(p);
}

static void
test_policy_b(const struct policy_sysinfo *si)
{
	static const char pol[] =
	    "* * test-vm1 test-vm2 allow\n"
	    "* * test-vm1 @default allow target=test-vm2\n"
	    "* * @tag:tag1 test-vm2 ask\n"
	    "* * @tag:tag1 test-vm3 ask default_target=test-vm3\n"
	    "* * @tag:tag2 @anyvm allow\n"
	    "* * test-vm3 @anyvm deny\n";
#define CHOICES "test-vm1 test-vm2 test-vm3 default-dvm test-invalid-dvm " \
	"test-no-dvm test-template @dispvm:test-vm3 @dispvm:default-dvm"
	static const struct ecase c[] = {
		{ "test-vm1", "test-vm2", "allow:test-vm2:1" },
		{ "test-vm1", "@default", "allow:test-vm2:2" },
		{ "test-vm1", "no-such-vm", "allow:test-vm2:2" },
		{ "test-standalone", "@default", "deny:5" },
		{ "test-standalone", "test-vm2", "ask:" CHOICES ":-:3" },
		{ "test-standalone", "test-vm3", "ask:" CHOICES ":test-vm3:4" },
		{ "test-vm2", "test-vm3", "allow:test-vm3:5" },
		{ "test-vm3", "test-vm1", "deny:6" },
		{ "test-vm2", "@dispvm", "allow:@dispvm:default-dvm:5" },
		{ "test-vm2", "dom0", "deny:-" },
	};
#undef CHOICES
	struct policy_result res;
	struct policy *p;

	run_cases("8.2 policy B", pol, c, NELEM(c), si);
	p = parse_one(pol, sizeof(pol) - 1, NULL, NULL);
	eval(p, si, "test.Service", "+argument", "test-vm1", "no-such-vm", 0,
	    &res);
	is_str(res.requested_target, "@default",
	    "unknown name reported as @default");
	policy_result_free(&res);
	eval(p, si, "test.Service", "+argument", "test-vm3", "test-vm1", 0,
	    &res);
	is_str(res.reason, "denied by policy /pol/t.policy:6", "deny reason");
	ok(res.notify, "deny notifies by default");
	policy_result_free(&res);
	eval(p, si, "test.Service", "+argument", "test-standalone",
	    "@default", 0, &res);
	is_str(res.reason, "policy define 'allow' action at /pol/t.policy:5 "
	    "but no target is specified by caller or policy", "no target");
	policy_result_free(&res);
	policy_free(p);
}

static void
test_small(const struct policy_sysinfo *si)
{
	static const struct {
		const char	*policy;
		const char	*src;
		const char	*target;
		const char	*want;
		int		 notify;	/* -1: not checked */
		const char	*requested;
	} c[] = {
		{ "* * @anyvm @anyvm deny", "test-vm1", "test-vm2", "deny:1", 1,
		    NULL },
		{ "* * @anyvm @anyvm deny notify=no", "test-vm1", "test-vm2",
		    "deny:1", 0, NULL },
		{ "* * test-vm1 test-vm2 allow autostart=no", "test-vm1",
		    "test-vm2", "allow:test-vm2:1", 0, NULL },
		{ "* * test-vm1 test-vm3 allow autostart=no", "test-vm1",
		    "test-vm3", "deny:1", -1, NULL },
		{ "* * test-vm3 @default ask", "test-vm3", "@default", "deny:1",
		    -1, NULL },
		{ "* * test-vm1 @anyvm ask autostart=no", "test-vm1",
		    "test-vm2", "ask:test-vm2:-:1", 0, NULL },
		{ "* * test-vm3 @dispvm allow", "test-vm3", "@dispvm",
		    "allow:@dispvm:default-dvm:1", -1, "@dispvm" },
		{ "* * test-no-dvm @dispvm allow", "test-no-dvm", "@dispvm",
		    "deny:1", -1, NULL },
		{ "* * test-vm3 @anyvm allow target=no-such-vm", "test-vm3",
		    "@default", "deny:1", -1, NULL },
		{ "* * @anyvm @anyvm allow target=@dispvm", "test-vm3",
		    "test-vm1", "allow:@dispvm:default-dvm:1", -1, "test-vm1" },
		{ "* * @anyvm @anyvm ask default_target=@dispvm", "test-vm3",
		    "test-vm1", "ask:test-vm1 test-vm2 default-dvm "
		    "test-invalid-dvm test-no-dvm test-template "
		    "test-standalone @dispvm:test-vm3 @dispvm:default-dvm:"
		    "@dispvm:default-dvm:1",
		    -1, NULL },
		{ "* * test-vm3 @adminvm allow", "test-vm3", "dom0",
		    "allow:dom0:1", -1, "@adminvm" },
		{ "* * test-vm3 dom0 ask default_target=dom0", "test-vm3",
		    "dom0", "ask:dom0:dom0:1", -1, NULL },
		{ "* * @anyvm @anyvm allow", "test-vm1", "@dispvm:default-dvm",
		    "allow:@dispvm:default-dvm:1", -1, "@dispvm:default-dvm" },
		/* quirk 5.4: offered "@adminvm", default expanded to dom0 */
		{ "* * test-vm3 dom0 ask target=dom0 default_target=dom0",
		    "test-vm3", "dom0", "deny:1", -1, NULL },
		{ "* * test-vm3 dom0 ask target=dom0", "test-vm3", "dom0",
		    "ask:@adminvm:-:1", -1, NULL },
		{ "* * test-vm3 dom0 ask target=", "test-vm3", "dom0",
		    "ask::-:1", -1, NULL },
		{ "* * test-vm3 dom0 ask default_target=", "test-vm3", "dom0",
		    "deny:1", -1, NULL },
		{ "* * test-vm3 @anyvm allow target=", "test-vm3", "test-vm1",
		    "allow:test-vm1:1", -1, NULL },
		{ "* * test-vm3 @anyvm allow target=@dispvm:test-vm1",
		    "test-vm3", "test-vm1", "deny:1", -1, NULL },
		{ "* * test-vm3 @anyvm allow target=@dispvm:test-vm3 "
		    "autostart=no", "test-vm3", "test-vm1", "deny:1", -1,
		    NULL },
		{ "* * test-vm1 @anyvm allow target=dom0 autostart=no",
		    "test-vm1", "test-vm3", "allow:dom0:1", -1, "test-vm3" },
		/* intended targets that are refused before any rule */
		{ "* * * * allow", "test-vm1", "@anyvm", "deny:-", -1, NULL },
		{ "* * * * allow", "test-vm1", "*", "deny:-", -1, NULL },
		{ "* * * * allow", "test-vm1", "@tag:tag1", "deny:-", -1,
		    NULL },
		{ "* * * * allow", "test-vm1", "@dispvm:test-vm2", "deny:-", -1,
		    NULL },
		{ "* * * * allow", "test-vm1", "@dispvm:nope", "deny:-", -1,
		    NULL },
		/* * matches dom0 and every keyword, also as source */
		{ "* * * * allow", "test-vm1", "dom0", "allow:dom0:1", -1,
		    NULL },
		{ "* * * * allow", "nonexistent", "test-vm1",
		    "allow:test-vm1:1", -1, NULL },
		{ "* * @anyvm * allow", "dom0", "test-vm1", "allow:test-vm1:1",
		    -1, NULL },
		/* dom0 as SOURCE never matches the source "dom0" (3.2) */
		{ "* * dom0 * allow", "dom0", "test-vm1", "deny:-", -1, NULL },
		{ "* * @type:AdminVM @anyvm allow", "dom0", "test-vm1",
		    "allow:test-vm1:1", -1, NULL },
		/* @tag/@type never match dom0 as target */
		{ "* * @anyvm @tag:dom0-tag allow", "test-vm1", "dom0",
		    "deny:-", -1, NULL },
		{ "* * @anyvm @type:AdminVM allow", "test-vm1", "dom0",
		    "deny:-", -1, NULL },
		/* @dispvm:X and @dispvm:@tag:T as SOURCE never match */
		{ "* * @dispvm:test-vm3 @anyvm allow", "test-vm3", "test-vm1",
		    "deny:-", -1, NULL },
		{ "* * @dispvm:@tag:tag3 @anyvm allow", "test-vm3", "test-vm1",
		    "deny:-", -1, NULL },
		/* @dispvm:@tag: against @dispvm via the source's default */
		{ "* * @anyvm @dispvm:@tag:tag3 allow", "test-invalid-dvm",
		    "@dispvm", "deny:-", -1, NULL },
		/* @dispvm resolves through default_dispvm unchecked (5.3.3):
		 * the reference allows, creating the disposable fails later */
		{ "* * @anyvm @dispvm:test-vm1 allow", "test-invalid-dvm",
		    "@dispvm", "allow:@dispvm:test-vm1:1", -1, NULL },
		{ "* * @anyvm @dispvm:@tag:tag3 allow", "test-vm1",
		    "@dispvm:test-vm3", "allow:@dispvm:test-vm3:1", -1, NULL },
		/* service and argument matching */
		{ "test.Service +other * * allow\ntest.Service + * * deny\n"
		    "other * * * allow\ntest.Service +argument * * deny "
		    "notify=no", "test-vm1", "test-vm2", "deny:4", 0, NULL },
		/* user= */
		{ "* * * * allow user=root", "test-vm1", "test-vm2",
		    "allow:test-vm2:1", -1, NULL },
	};
	struct policy_result res;
	struct policy *p;
	size_t i;

	for (i = 0; i < NELEM(c); i++) {
		p = parse_one(c[i].policy, strlen(c[i].policy), NULL, NULL);
		if (!is_str(errs(p), "", "parses: %s", unit_qs(c[i].policy))) {
			policy_free(p);
			continue;
		}
		is_str(eval(p, si, "test.Service", "+argument", c[i].src,
		    c[i].target, 0, &res), c[i].want, "8.3 %s: %s -> %s",
		    unit_qs(c[i].policy), c[i].src, c[i].target);
		if (c[i].notify >= 0)
			is_int(res.notify, c[i].notify, "notify of %s",
			    unit_qs(c[i].policy));
		if (c[i].requested != NULL)
			is_str(res.requested_target, c[i].requested,
			    "requested_target of %s", unit_qs(c[i].policy));
		policy_result_free(&res);
		policy_free(p);
	}
	p = parse_one("* * * * allow user=root", 23, NULL, NULL);
	eval(p, si, "test.Service", "+argument", "test-vm1", "test-vm2", 0,
	    &res);
	is_str(res.user, "root", "user= carried");
	policy_result_free(&res);
	eval(p, si, "test.Service", "+argument", "test-vm1", "@dispvm:test-vm2",
	    0, &res);
	is_str(res.reason, "not a template for dispvm: test-vm2",
	    "reason for a non-template");
	policy_result_free(&res);
	eval(p, si, "test.Service", "+argument", "test-vm1", "@anyvm", 0,
	    &res);
	is_str(res.reason, "invalid intendedtarget token: '@anyvm'",
	    "reason for a bad intended target");
	policy_result_free(&res);
	policy_free(p);
}

/* Replies (5.3, 5.4) and explain data. */
static void
test_reply(const struct policy_sysinfo *si)
{
	static const char pol[] =
	    "other * * * allow\n"
	    "test.Service +x * * allow\n"
	    "test.Service * test-vm2 * allow\n"
	    "test.Service * test-vm1 test-vm2 deny\n"
	    "test.Service * test-vm1 @anyvm ask default_target=dom0 "
	    "user=u autostart=no\n"
	    "test.Service * test-vm1 dom0 allow target=dom0 autostart=no\n";
	struct policy_result res;
	struct strbuf sb;
	struct policy *p;

	p = parse_one(pol, sizeof(pol) - 1, NULL, NULL);
	sb_init(&sb, 0);
	eval(p, si, "test.Service", "+argument", "test-vm1", "dom0",
	    POLICY_EVAL_EXPLAIN, &res);
	policy_format_reply(&sb, &res);
	is_str(sb.buf, "user=DEFAULT\nresult=allow\ntarget=dom0\n"
	    "autostart=False\nrequested_target=@adminvm\n", "allow reply");
	is_int(res.npassed, 3, "three rules passed over");
	if (res.npassed == 3) {
		is_int(policy_rule_line(res.passed[0].rule), 3, "rule 3");
		is_str(res.passed[0].why, "source does not match", "why 3");
		is_int(policy_rule_line(res.passed[1].rule), 4, "rule 4");
		is_str(res.passed[1].why, "target does not match", "why 4");
		is_int(policy_rule_line(res.passed[2].rule), 5, "rule 5");
		is_str(res.passed[2].why, "target does not match",
		    "@anyvm does not match dom0");
	}
	policy_result_free(&res);
	sb_reset(&sb);
	eval(p, si, "test.Service", "+argument", "test-vm1", "test-vm2", 0,
	    &res);
	policy_format_reply(&sb, &res);
	is_str(sb.buf, "result=deny\n", "deny reply");
	ok(res.npassed == 0 && res.passed == NULL, "no list without EXPLAIN");
	policy_result_free(&res);
	sb_reset(&sb);
	eval(p, si, "test.Service", "+argument", "test-vm1", "test-vm3", 0,
	    &res);
	policy_format_reply(&sb, &res);
	/* offered: rule 6 adds dom0, rule 5 everything, rule 4 removes
	 * test-vm2, the source is dropped; autostart=no keeps running ones */
	is_str(sb.buf, "user=u\nresult=ask\ntargets=dom0\n"
	    "default_target=dom0\nautostart=False\n"
	    "requested_target=test-vm3\n", "ask reply (only running targets)");
	is_str(res.guivm, "dom0", "ask goes to the source's guivm");
	policy_result_free(&res);
	policy_free(p);

	/* an invalid policy denies everything */
	p = parse_one("a * x y allow,target=x\nb * x y allow", 36, NULL, NULL);
	is_str(eval(p, si, "b", "+", "x", "y", 0, &res), "deny:-",
	    "invalid policy: deny");
	is_str(res.reason, "error loading policy: /pol/t.policy:1: invalid "
	    "action: allow,target=x", "invalid policy: reason");
	policy_result_free(&res);
	is_int(policy_allows(p, si, "b", "+", "x", "y"), 0, "allows: no");
	policy_free(p);
	is_str(eval(NULL, si, "b", "+", "x", "y", 0, &res), "deny:-",
	    "no policy: deny");
	policy_result_free(&res);
	sb_free(&sb);

	/* bad requests */
	p = parse_one("* * * * allow", 13, NULL, NULL);
	is_str(eval(p, si, "x", "arg", "test-vm1", "test-vm2", 0, &res),
	    "deny:-", "argument without + refused");
	policy_result_free(&res);
	is_str(eval(p, NULL, "x", "+", "test-vm1", "test-vm2", 0, &res),
	    "deny:-", "no system information: deny");
	policy_result_free(&res);
	is_str(eval(p, si, "x", NULL, "test-vm1", "test-vm2", 0, &res),
	    "allow:test-vm2:1", "NULL argument is +");
	policy_result_free(&res);
	policy_free(p);
}

/* ------------------------------------------------------------------ */
/* policy.md 10: monitoring and management qubes, default files */

static const struct file scen[] = {
	{ "30-test-mgmt.policy",
	    "admin.vm.Create.AppVM  *  test-mgmt  @adminvm  "
	    "allow target=dom0\n" },
	{ "90-admin-default.policy",
	    "# generated\n"
	    "!include-service admin.Events * include/admin-global-ro\n"
	    "!include-service admin.label.List * include/admin-global-ro\n"
	    "!include-service admin.property.Get * include/admin-global-ro\n"
	    "!include-service admin.vm.Create.AppVM * "
	    "include/admin-global-rwx\n"
	    "!include-service admin.vm.Create.TemplateVM * "
	    "include/admin-global-rwx\n"
	    "!include-service admin.vm.List * include/admin-global-ro\n"
	    "!include-service admin.vm.property.Get * include/admin-local-ro\n"
	    "!include-service admin.vm.property.GetAll * "
	    "include/admin-local-ro\n"
	    "!include-service admin.vm.property.Set * include/admin-local-rwx\n"
	    "!include-service admin.vm.Remove * include/admin-global-rwx\n"
	    "!include-service admin.vm.Start * include/admin-local-rwx\n"
	    "!include-service admin.vm.tag.Remove * "
	    "include/admin-local-rwx\n" },
	{ "include/admin-global-ro",
	    "## Do not modify this file\n"
	    "!include include/admin-global-rwx\n"
	    "test-mon   @adminvm                  allow target=dom0\n"
	    "test-mon   @anyvm                    allow target=dom0\n"
	    "test-mgmt  @adminvm                  allow target=dom0\n"
	    "test-mgmt  @tag:created-by-test-mgmt allow target=dom0\n" },
	{ "include/admin-global-rwx", "## empty\n" },
	{ "include/admin-local-ro",
	    "!include include/admin-local-rwx\n"
	    "test-mon   @adminvm                  allow target=dom0\n"
	    "test-mon   @anyvm                    allow target=dom0\n" },
	{ "include/admin-local-rwx",
	    "test-mgmt  @tag:created-by-test-mgmt allow target=dom0\n" },
	{ NULL, NULL },
};

static struct policy_sysinfo *
si10(void)
{
	static const char *const made[] = { "created-by-test-mgmt" };
	static const struct policy_domain_info d[] = {
		{ "dom0", "AdminVM", NULL, 0, 0, NULL, "appvm-black", NULL,
		    "Running" },
		{ "default-dvm", "AppVM", NULL, 0, 1, "default-dvm", NULL,
		    "dom0", "Halted" },
		{ "fedora-41", "TemplateVM", NULL, 0, 0, "default-dvm", NULL,
		    "dom0", "Halted" },
		{ "test-mgmt", "AppVM", NULL, 0, 0, "default-dvm", NULL,
		    "dom0", "Running" },
		{ "test-mon", "AppVM", NULL, 0, 0, "default-dvm", NULL, "dom0",
		    "Running" },
		{ "test-work", "AppVM", made, 1, 0, "default-dvm", NULL,
		    "dom0", "Halted" },
		{ "work", "AppVM", NULL, 0, 0, "default-dvm", NULL, "dom0",
		    "Halted" },
	};
	struct policy_sysinfo *si = policy_sysinfo_new();
	size_t i;

	for (i = 0; si != NULL && i < NELEM(d); i++)
		if (policy_sysinfo_add(si, &d[i]) < 0) {
			policy_sysinfo_free(si);
			return NULL;
		}
	return si;
}

static void
test_scenarios(void)
{
	static const struct {
		const char	*src;
		const char	*call;		/* service+arg */
		const char	*dest;
		const char	*want;		/* allow/deny */
		const char	*file;		/* deciding rule's file */
		unsigned	 line;
	} c[] = {
		{ "test-mon", "admin.vm.List", "dom0", "allow",
		    "include/admin-global-ro", 3 },
		{ "test-mon", "admin.vm.List", "work", "allow",
		    "include/admin-global-ro", 4 },
		{ "test-mon", "admin.Events", "dom0", "allow",
		    "include/admin-global-ro", 3 },
		{ "test-mon", "admin.property.Get+default_netvm", "dom0",
		    "allow", "include/admin-global-ro", 3 },
		{ "test-mon", "admin.vm.property.Get+netvm", "work", "allow",
		    "include/admin-local-ro", 3 },
		{ "test-mon", "admin.vm.property.Get+netvm", "dom0", "allow",
		    "include/admin-local-ro", 2 },
		{ "test-mon", "admin.vm.property.Set+netvm", "work", "deny",
		    NULL, 0 },
		{ "test-mon", "admin.vm.Start", "work", "deny", NULL, 0 },
		{ "test-mon", "admin.vm.Create.AppVM+fedora-41", "dom0", "deny",
		    NULL, 0 },
		{ "test-mgmt", "admin.vm.Create.AppVM+fedora-41", "dom0",
		    "allow", "30-test-mgmt.policy", 1 },
		{ "test-mgmt", "admin.vm.List", "dom0", "allow",
		    "include/admin-global-ro", 5 },
		{ "test-mgmt", "admin.label.List", "dom0", "allow",
		    "include/admin-global-ro", 5 },
		{ "test-mgmt", "admin.vm.property.Set+netvm", "test-work",
		    "allow", "include/admin-local-rwx", 1 },
		{ "test-mgmt", "admin.vm.property.Get+netvm", "test-work",
		    "allow", "include/admin-local-rwx", 1 },
		{ "test-mgmt", "admin.vm.Start", "test-work", "allow",
		    "include/admin-local-rwx", 1 },
		{ "test-mgmt", "admin.vm.tag.Remove+created-by-test-mgmt",
		    "test-work", "allow", "include/admin-local-rwx", 1 },
		{ "test-mgmt", "admin.vm.Start", "work", "deny", NULL, 0 },
		{ "test-mgmt", "admin.vm.property.Get+netvm", "work", "deny",
		    NULL, 0 },
		{ "test-mgmt", "admin.vm.property.GetAll", "work", "deny", NULL,
		    0 },
		{ "test-mgmt", "admin.vm.Create.TemplateVM", "dom0", "deny",
		    NULL, 0 },
		{ "test-mgmt", "admin.vm.Remove", "test-work", "deny", NULL,
		    0 },
		{ "test-mgmt", "admin.vm.property.Set+netvm", "dom0", "deny",
		    NULL, 0 },
	};
	static const char *const names[] = { "dom0", "default-dvm",
	    "fedora-41", "test-mgmt", "test-mon", "test-work", "work" };
	struct policy_sysinfo *si = si10();
	struct policy_result res;
	struct strbuf sb, list;
	struct policy *p;
	char svc[128], arg[128], path[128], *plus;
	size_t i;

	p = load_mem(scen, NULL);
	is_str(errs(p), "", "10.1 policy parses");
	sb_init(&sb, 0);
	for (i = 0; i < NELEM(c); i++) {
		snprintf(svc, sizeof(svc), "%s", c[i].call);
		snprintf(arg, sizeof(arg), "+");
		if ((plus = strchr(svc, '+')) != NULL) {
			snprintf(arg, sizeof(arg), "%s", plus);
			*plus = '\0';
		}
		eval(p, si, svc, arg, c[i].src, c[i].dest, 0, &res);
		is_str(res.action == POLICY_ALLOW ? "allow" : "deny", c[i].want,
		    "10.3 %s %s %s", c[i].src, c[i].call, c[i].dest);
		if (c[i].file != NULL && res.rule != NULL) {
			snprintf(path, sizeof(path), "/pol/%s", c[i].file);
			is_str(policy_rule_path(res.rule), path, "  rule file");
			is_int(policy_rule_line(res.rule), c[i].line,
			    "  rule line");
		} else if (c[i].file == NULL)
			ok(res.rule == NULL && strcmp(res.reason,
			    "no matching rule found") == 0 && res.notify,
			    "  no matching rule, notified");
		if (res.action == POLICY_ALLOW) {
			sb_reset(&sb);
			policy_format_reply(&sb, &res);
			ok(strstr(sb.buf, "\ntarget=dom0\n") != NULL,
			    "  admin calls go to dom0");
		}
		policy_result_free(&res);
	}

	/* 10.2: the admin.vm.List filter, once per qube */
	sb_init(&list, 0);
	for (i = 0; i < NELEM(names); i++)
		if (policy_allows(p, si, "admin.vm.List", "+", "test-mon",
		    names[i]))
			sb_addf(&list, "%s ", names[i]);
	is_str(list.buf, "dom0 default-dvm fedora-41 test-mgmt test-mon "
	    "test-work work ", "test-mon lists every qube");
	sb_reset(&list);
	for (i = 0; i < NELEM(names); i++)
		if (policy_allows(p, si, "admin.vm.List", "+", "test-mgmt",
		    names[i]))
			sb_addf(&list, "%s ", names[i]);
	is_str(list.buf, "dom0 test-work ", "test-mgmt lists dom0 and "
	    "test-work only");
	sb_free(&list);
	sb_free(&sb);
	policy_free(p);
	policy_sysinfo_free(si);
}

/* The JSON and the C-built system information give the same answers. */
static void
test_same_sysinfo(void)
{
	static const char pol[] =
	    "* * test-vm1 test-vm3 allow autostart=no\n"
	    "* * test-vm1 test-vm2 allow autostart=no\n"
	    "* * @tag:tag2 @dispvm:@tag:tag3 allow\n"
	    "* * @type:TemplateVM @anyvm ask\n";
	static const char *const names[] = { "dom0", "test-vm1", "test-vm2",
	    "test-vm3", "test-template", "@dispvm", "@dispvm:test-vm3",
	    "@default" };
	struct policy_sysinfo *a = si8(), *b = si8_built();
	struct policy_result ra, rb;
	struct policy *p;
	char sa[2048];
	size_t i, j;

	p = parse_one(pol, sizeof(pol) - 1, NULL, NULL);
	for (i = 0; i < NELEM(names); i++) {
		for (j = 0; j < NELEM(names); j++) {
			if (names[i][0] == '@')
				continue;
			snprintf(sa, sizeof(sa), "%s", eval(p, a, "s", "+",
			    names[i], names[j], 0, &ra));
			is_str(eval(p, b, "s", "+", names[i], names[j], 0, &rb),
			    sa, "built = JSON: %s -> %s", names[i], names[j]);
			policy_result_free(&ra);
			policy_result_free(&rb);
		}
	}
	policy_free(p);
	policy_sysinfo_free(a);
	policy_sysinfo_free(b);
}

int
main(void)
{
	struct policy_sysinfo *si;

	test_full_form();
	test_nul();
	test_lines();
	test_service_form();
	test_directory();
	test_includes();
	test_overlay();
	test_compat();
	test_filesystem();
	test_sysinfo();
	si = si8();
	if (ok(si != NULL, "system information of policy.md 8")) {
		test_policy_a(si);
		test_policy_b(si);
		test_small(si);
		test_reply(si);
	}
	policy_sysinfo_free(si);
	test_scenarios();
	test_same_sysinfo();
	policy_free(NULL);
	policy_result_free(NULL);
	return done_testing();
}
