/*
 * test_frame.c - lib/frame.c against the framing of protocol.md 2 and the
 * reply records of protocol.md 3 (byte-exact).
 */
#include <string.h>

#include "frame.h"
#include "strbuf.h"
#include "unit.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
/* a byte-string literal and its length, embedded NULs included */
#define B(s)		s, sizeof(s) - 1

static const struct {
	const char	*in;
	size_t		 len;
	const char	*why;		/* NULL: parses */
	const char	*method, *arg, *src, *dest;
	const char	*payload;
	size_t		 plen;
} parse_cases[] = {
	/* the examples of protocol.md 2 */
	{ B("admin.vm.List+ dom0 name dom0\0"), NULL,
	    "admin.vm.List", "", "dom0", "dom0", B("") },
	{ B("admin.vm.property.Get+label dom0 name work\0"), NULL,
	    "admin.vm.property.Get", "label", "dom0", "work", B("") },
	{ B("admin.vm.property.Set+label mgmt name work\0blue"), NULL,
	    "admin.vm.property.Set", "label", "mgmt", "work", B("blue") },
	{ B("admin.vm.List+ dom0 keyword adminvm\0"), NULL,
	    "admin.vm.List", "", "dom0", "dom0", B("") },
	{ B("admin.vm.List dom0 name dom0\0"), NULL,
	    "admin.vm.List", "", "dom0", "dom0", B("") },
	/* the argument is everything after the first '+' */
	{ B("admin.vm.feature.Set+a+b+c dom0 name work\0v"), NULL,
	    "admin.vm.feature.Set", "a+b+c", "dom0", "work", B("v") },
	{ B("admin.vm.Shutdown+force+wait dom0 name work\0"), NULL,
	    "admin.vm.Shutdown", "force+wait", "dom0", "work", B("") },
	{ B("admin.vm.List++ dom0 name dom0\0"), NULL,
	    "admin.vm.List", "+", "dom0", "dom0", B("") },
	/* the 4th field keeps the rest, spaces included */
	{ B("admin.vm.List dom0 name dom0 extra\0"), NULL,
	    "admin.vm.List", "", "dom0", "dom0 extra", B("") },
	{ B("admin.vm.List dom0 name a  b \0"), NULL,
	    "admin.vm.List", "", "dom0", "a  b ", B("") },
	/* empty fields are not the framing's business */
	{ B("admin.vm.List dom0 name \0"), NULL,
	    "admin.vm.List", "", "dom0", "", B("") },
	{ B("admin.vm.List+  name dom0\0"), NULL,
	    "admin.vm.List", "", "", "dom0", B("") },
	{ B("+arg dom0 name dom0\0"), NULL,
	    "", "arg", "dom0", "dom0", B("") },
	{ B(" dom0 name dom0\0"), NULL,
	    "", "", "dom0", "dom0", B("") },
	/* nor is ASCII: the dispatcher checks it after the lookups */
	{ B("admin.vm.L\xc3\xafst d\xc3\xb6m0 name w\xc3\xb6rk\0"), NULL,
	    "admin.vm.L\xc3\xafst", "", "d\xc3\xb6m0", "w\xc3\xb6rk", B("") },
	/* the payload: everything after the first NUL, NULs included */
	{ B("admin.vm.List dom0 name dom0\0\0"), NULL,
	    "admin.vm.List", "", "dom0", "dom0", B("\0") },
	{ B("admin.vm.feature.Set+f dom0 name work\0a\0b\0\0c\0"), NULL,
	    "admin.vm.feature.Set", "f", "dom0", "work", B("a\0b\0\0c\0") },
	{ B("admin.vm.feature.Set+f dom0 name work\0 x y z \n"), NULL,
	    "admin.vm.feature.Set", "f", "dom0", "work", B(" x y z \n") },
	{ B("a b name c\0keyword adminvm\0"), NULL,
	    "a", "", "b", "c", B("keyword adminvm\0") },

	/* framing errors */
	{ B(""), "no NUL", NULL, NULL, NULL, NULL, NULL, 0 },
	{ B("admin.vm.List dom0 name dom0"), "no NUL",
	    NULL, NULL, NULL, NULL, NULL, 0 },
	{ B("\0"), "too few fields", NULL, NULL, NULL, NULL, NULL, 0 },
	{ B("admin.vm.List dom0 name\0"), "too few fields",
	    NULL, NULL, NULL, NULL, NULL, 0 },
	{ B("admin.vm.List dom0 name\0 dom0"), "too few fields",
	    NULL, NULL, NULL, NULL, NULL, 0 },
	{ B("dom0\0admin.vm.List\0dom0\0\0"), "too few fields",
	    NULL, NULL, NULL, NULL, NULL, 0 },
	{ B("admin.vm.List\tdom0\tname\tdom0\0"), "too few fields",
	    NULL, NULL, NULL, NULL, NULL, 0 },
	{ B("admin.vm.List  dom0 name dom0\0"), "bad destination type",
	    NULL, NULL, NULL, NULL, NULL, 0 },
	{ B("admin.vm.List dom0 keyword default\0"), "bad destination type",
	    NULL, NULL, NULL, NULL, NULL, 0 },
	{ B("admin.vm.List dom0 keyword adminvm \0"), "bad destination type",
	    NULL, NULL, NULL, NULL, NULL, 0 },
	{ B("admin.vm.List dom0 keyword dom0\0"), "bad destination type",
	    NULL, NULL, NULL, NULL, NULL, 0 },
	{ B("admin.vm.List dom0 keyword \0"), "bad destination type",
	    NULL, NULL, NULL, NULL, NULL, 0 },
	{ B("admin.vm.List dom0 Name dom0\0"), "bad destination type",
	    NULL, NULL, NULL, NULL, NULL, 0 },
	{ B("admin.vm.List dom0 NAME dom0\0"), "bad destination type",
	    NULL, NULL, NULL, NULL, NULL, 0 },
	{ B("admin.vm.List dom0 uuid dom0\0"), "bad destination type",
	    NULL, NULL, NULL, NULL, NULL, 0 },
	{ B("admin.vm.List dom0  name dom0\0"), "bad destination type",
	    NULL, NULL, NULL, NULL, NULL, 0 },
};

static void
test_parse(void)
{
	struct frame_request req;
	const unsigned char *in;
	const char *why;
	size_t i, hlen;
	int rc;

	for (i = 0; i < NELEM(parse_cases); i++) {
		in = (const unsigned char *)parse_cases[i].in;
		why = NULL;
		rc = frame_parse_request(in, parse_cases[i].len, &req, &why);
		if (parse_cases[i].why != NULL) {
			is_int(rc, -1, "parse %s fails",
			    unit_q(in, parse_cases[i].len));
			is_str(why, parse_cases[i].why, "parse %s: reason",
			    unit_q(in, parse_cases[i].len));
			ok(req.method == NULL && req.arg == NULL &&
			    req.src == NULL && req.dest == NULL &&
			    req.payload == NULL && req.payload_len == 0,
			    "parse %s: request left zeroed",
			    unit_q(in, parse_cases[i].len));
			frame_request_free(&req);
			continue;
		}
		if (!is_int(rc, 0, "parse %s succeeds",
		    unit_q(in, parse_cases[i].len))) {
			diag("reason: %s", why ? why : "(none)");
			continue;
		}
		is_str(req.method, parse_cases[i].method, "  method");
		is_str(req.arg, parse_cases[i].arg, "  arg");
		is_str(req.src, parse_cases[i].src, "  src");
		is_str(req.dest, parse_cases[i].dest, "  dest");
		is_mem(req.payload, req.payload_len, parse_cases[i].payload,
		    parse_cases[i].plen, "  payload");
		/* borrowed: the payload is the input right after the 1st NUL */
		hlen = strlen(parse_cases[i].in);
		ok(req.payload == in + hlen + 1,
		    "  payload points into the input");
		frame_request_free(&req);
		ok(req.method == NULL && req.dest == NULL,
		    "  frame_request_free clears");
		frame_request_free(&req);		/* twice is fine */
	}
	frame_request_free(NULL);
	ok(1, "frame_request_free(NULL)");
}

static const struct {
	const char	*method, *arg, *src, *dest;
	const char	*payload;
	size_t		 plen;
	const char	*out;
	size_t		 outlen;
} build_cases[] = {
	{ "admin.vm.List", "", "dom0", "dom0", B(""),
	    B("admin.vm.List+ dom0 name dom0\0") },
	{ "admin.vm.List", NULL, "dom0", "dom0", NULL, 0,
	    B("admin.vm.List+ dom0 name dom0\0") },
	{ "admin.vm.property.Set", "label", "mgmt", "work", B("blue"),
	    B("admin.vm.property.Set+label mgmt name work\0blue") },
	{ "admin.vm.Shutdown", "force+wait", "dom0", "work", B(""),
	    B("admin.vm.Shutdown+force+wait dom0 name work\0") },
	{ "admin.vm.feature.Set", "f", "dom0", "work", B("a\0b\0"),
	    B("admin.vm.feature.Set+f dom0 name work\0a\0b\0") },
	{ "internal.GetSystemInfo", "", "dom0", "dom0", B(""),
	    B("internal.GetSystemInfo+ dom0 name dom0\0") },
};

static void
test_build(void)
{
	struct frame_request req;
	struct strbuf sb;
	const char *why;
	size_t i;

	for (i = 0; i < NELEM(build_cases); i++) {
		sb_init(&sb, 0);
		is_int(frame_build_request(&sb, build_cases[i].method,
		    build_cases[i].arg, build_cases[i].src,
		    build_cases[i].dest, build_cases[i].payload,
		    build_cases[i].plen), 0, "build %s+%s",
		    build_cases[i].method, build_cases[i].arg ?
		    build_cases[i].arg : "(null)");
		is_mem(sb.buf, sb.len, build_cases[i].out,
		    build_cases[i].outlen, "  bytes");
		/* and back */
		if (is_int(frame_parse_request((unsigned char *)sb.buf, sb.len,
		    &req, &why), 0, "  parses back")) {
			is_str(req.method, build_cases[i].method, "  method");
			is_str(req.arg, build_cases[i].arg ?
			    build_cases[i].arg : "", "  arg");
			is_str(req.src, build_cases[i].src, "  src");
			is_str(req.dest, build_cases[i].dest, "  dest");
			is_mem(req.payload, req.payload_len,
			    build_cases[i].plen ? build_cases[i].payload : "",
			    build_cases[i].plen, "  payload");
			frame_request_free(&req);
		}
		sb_free(&sb);
	}

	/* the cap of the buffer holds */
	sb_init(&sb, 16);
	is_int(frame_build_request(&sb, "admin.vm.List", "", "dom0", "dom0",
	    NULL, 0), -1, "build over the cap fails");
	ok(!sb_ok(&sb), "  and marks the buffer");
	sb_free(&sb);
}

static void
test_replies(void)
{
	static const char *const kv_netvm[] = {
		"name", "netvm", "newvalue", "sys-firewall", "oldvalue", "None",
	};
	static const char *const kv_stats[] = {
		"memory_kb", "303916", "cpu_time", "2849496",
		"cpu_usage", "0", "cpu_usage_raw", "0",
	};
	static const char *const kv_add[] = { "vm", "newvm" };
	static const char list[] = "dom0 class=AdminVM state=Running\n"
	    "test-vm1 class=AppVM state=Halted\n";
	struct strbuf sb;

	sb_init(&sb, 0);
	is_int(frame_reply_ok(&sb, "", 0), 0, "reply ok, empty");
	is_lit(sb.buf, sb.len, ("0\0"), "  is exactly 0\\0");
	sb_reset(&sb);
	frame_reply_ok(&sb, NULL, 0);
	is_lit(sb.buf, sb.len, ("0\0"), "reply ok, NULL content");
	sb_reset(&sb);
	frame_reply_ok(&sb, list, sizeof(list) - 1);
	is_lit(sb.buf, sb.len,
	    ("0\0dom0 class=AdminVM state=Running\n"
	    "test-vm1 class=AppVM state=Halted\n"), "reply ok, list");
	sb_reset(&sb);
	frame_reply_ok(&sb, "a\0b", 3);
	is_lit(sb.buf, sb.len, ("0\0a\0b"),
	    "reply ok, content with NUL");

	sb_reset(&sb);
	is_int(frame_reply_exception(&sb, "QubesVMNotFoundError",
	    "No such domain: 'nonexist'"), 0, "reply exception");
	is_lit(sb.buf, sb.len,
	    ("2\0QubesVMNotFoundError\0\0No such domain: 'nonexist'\0"),
	    "  bytes");
	sb_reset(&sb);
	frame_reply_exception(&sb, "QubesValueError", "");
	is_lit(sb.buf, sb.len, ("2\0QubesValueError\0\0\0"),
	    "reply exception without message");
	sb_reset(&sb);
	frame_reply_exception(&sb, "QubesException", "qubes-exception");
	is_lit(sb.buf, sb.len, ("2\0QubesException\0\0qubes-exception\0"),
	    "reply QubesException");

	sb_reset(&sb);
	is_int(frame_reply_event(&sb, "", "connection-established", NULL, 0),
	    0, "event connection-established");
	is_lit(sb.buf, sb.len, ("1\0\0connection-established\0\0"),
	    "  bytes");
	sb_reset(&sb);
	frame_reply_event(&sb, NULL, "connection-established", NULL, 0);
	is_lit(sb.buf, sb.len, ("1\0\0connection-established\0\0"),
	    "event with NULL subject");
	sb_reset(&sb);
	frame_reply_event(&sb, "work", "property-set:netvm", kv_netvm, 3);
	is_lit(sb.buf, sb.len,
	    ("1\0work\0property-set:netvm\0name\0netvm\0"
	    "newvalue\0sys-firewall\0oldvalue\0None\0\0"),
	    "event property-set:netvm");
	sb_reset(&sb);
	frame_reply_event(&sb, "", "domain-add", kv_add, 1);
	is_lit(sb.buf, sb.len, ("1\0\0domain-add\0vm\0newvm\0\0"),
	    "event domain-add");
	sb_reset(&sb);
	frame_reply_event(&sb, "work", "vm-stats", kv_stats, 4);
	is_lit(sb.buf, sb.len,
	    ("1\0work\0vm-stats\0memory_kb\0" "303916\0"
	    "cpu_time\0" "2849496\0cpu_usage\0" "0\0cpu_usage_raw\0" "0\0\0"),
	    "event vm-stats");
	/* records of a stream follow each other */
	frame_reply_event(&sb, "", "domain-add", kv_add, 1);
	is_lit(sb.buf, sb.len,
	    ("1\0work\0vm-stats\0memory_kb\0" "303916\0"
	    "cpu_time\0" "2849496\0cpu_usage\0" "0\0cpu_usage_raw\0" "0\0\0"
	    "1\0\0domain-add\0vm\0newvm\0\0"), "two events in a row");
	sb_free(&sb);

	/* encoders respect the cap */
	sb_init(&sb, 4);
	is_int(frame_reply_ok(&sb, "abc", 3), -1, "reply ok over the cap");
	ok(!sb_ok(&sb), "  marks the buffer");
	sb_free(&sb);
	sb_init(&sb, 10);
	is_int(frame_reply_exception(&sb, "QubesException", "x"), -1,
	    "reply exception over the cap");
	sb_free(&sb);
	sb_init(&sb, 10);
	is_int(frame_reply_event(&sb, "work", "domain-add", kv_add, 1), -1,
	    "reply event over the cap");
	sb_free(&sb);
}

static void
test_ascii(void)
{
	is_int(frame_is_ascii("", 0), 1, "frame_is_ascii empty");
	is_int(frame_is_ascii("abc", 3), 1, "frame_is_ascii abc");
	is_int(frame_is_ascii("\x7f\x01", 2), 1, "frame_is_ascii DEL, ^A");
	is_int(frame_is_ascii("a\0b", 3), 1, "frame_is_ascii with NUL");
	is_int(frame_is_ascii("\x80", 1), 0, "frame_is_ascii 0x80");
	is_int(frame_is_ascii("a\xffz", 3), 0, "frame_is_ascii 0xff");
	is_int(frame_is_ascii("w\xc3\xb6rk", 5), 0, "frame_is_ascii UTF-8");
	is_int(frame_is_ascii("ab\x80", 2), 1, "frame_is_ascii reads len");
}

int
main(void)
{
	test_parse();
	test_build();
	test_replies();
	test_ascii();
	return done_testing();
}
