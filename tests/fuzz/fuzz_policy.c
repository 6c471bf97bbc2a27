/*
 * fuzz_policy.c - libFuzzer target for the qrexec policy parser and
 * evaluator (lib/policy.c, lib/policy_eval.c).
 *
 * Input: [flags byte] MAIN [ "\n%%\n" INCLUDE ].  Bit 0 of the flags
 * parses MAIN in the service form of !include-service (service "test.Svc",
 * argument "*"), else in full form, as /pol/t.policy; INCLUDE is the
 * content of /pol/include/a and /pol/include/b (so "!include include/a",
 * "$include:include/b" and loops through them are reachable).  Nothing is
 * read from the file system (POLICY_LOAD_NOFS).
 *
 * Invariants:
 * - parsing never fails except for memory; every error has a message and
 *   a path when it has a line;
 * - a valid policy's rules print back (str(rule)) and re-parse in full
 *   form to one rule that prints the same (except allow rules for
 *   @default with an empty target=, whose "target=" is not printed);
 * - evaluation of a few fixed requests and of requests made from each
 *   rule's own tokens gives a consistent result: ALLOW has a target and
 *   a requested target, ASK has at least one offered target (and its
 *   default among them), DENY has a reason; the reply formats; an invalid
 *   policy always denies.
 *
 * Build and run: sh tests/fuzz/run.sh smoke fuzz_policy
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "strbuf.h"

#define CHECK(x) do {							\
	if (!(x)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #x);					\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char sysinfo_json[] =
    "{\"domains\": {"
    "\"dom0\": {\"tags\": [\"t0\"], \"type\": \"AdminVM\", "
    "\"template_for_dispvms\": false, \"default_dispvm\": \"dvm\", "
    "\"icon\": \"appvm-black\", \"guivm\": null, \"power_state\": "
    "\"Running\"}, "
    "\"work\": {\"tags\": [\"t1\", \"t2\"], \"type\": \"AppVM\", "
    "\"template_for_dispvms\": false, \"default_dispvm\": \"dvm\", "
    "\"icon\": \"appvm-red\", \"guivm\": \"dom0\", \"power_state\": "
    "\"Running\"}, "
    "\"dvm\": {\"tags\": [\"t2\"], \"type\": \"AppVM\", "
    "\"template_for_dispvms\": true, \"default_dispvm\": \"dvm\", "
    "\"icon\": \"appvm-red\", \"guivm\": \"dom0\", \"power_state\": "
    "\"Halted\"}, "
    "\"tpl\": {\"tags\": [], \"type\": \"TemplateVM\", "
    "\"template_for_dispvms\": false, \"default_dispvm\": null, "
    "\"icon\": \"appvm-black\", \"guivm\": null, \"power_state\": "
    "\"Halted\"}"
    "}}";

static struct policy_sysinfo *si;

static void
check_result(const struct policy *p, const struct policy_result *r)
{
	struct strbuf sb;
	size_t i;

	switch (r->action) {
	case POLICY_ALLOW:
		CHECK(policy_nerrors(p) == 0);
		CHECK(r->target != NULL && r->requested_target != NULL);
		CHECK(r->rule != NULL);
		break;
	case POLICY_ASK:
		CHECK(policy_nerrors(p) == 0);
		CHECK(r->ntargets > 0 && r->rule != NULL);
		for (i = 0; i < r->ntargets; i++)
			CHECK(r->targets[i] != NULL);
		if (r->default_target != NULL) {
			for (i = 0; i < r->ntargets; i++)
				if (strcmp(r->targets[i], r->default_target) ==
				    0)
					break;
			CHECK(i < r->ntargets);
		}
		break;
	case POLICY_DENY:
		CHECK(r->reason != NULL);
		break;
	}
	sb_init(&sb, 0);
	CHECK(policy_format_reply(&sb, r) == 0);
	sb_free(&sb);
}

static void
evaluate(const struct policy *p, const char *svc, const char *arg,
    const char *src, const char *tgt)
{
	struct policy_request rq = { svc, arg, src, tgt };
	struct policy_result r;

	policy_evaluate(p, si, &rq, POLICY_EVAL_EXPLAIN, &r);
	check_result(p, &r);
	policy_result_free(&r);
	policy_evaluate(p, si, &rq, POLICY_EVAL_NONINTERACTIVE, &r);
	CHECK(r.action != POLICY_ASK);
	check_result(p, &r);
	policy_result_free(&r);
}

/* The tab-separated fields of str(rule), NUL-terminated in place. */
static size_t
fields(char *s, char **f, size_t max)
{
	size_t n = 0;

	while (n < max) {
		f[n++] = s;
		s = strpbrk(s, "\t ");
		if (s == NULL)
			break;
		*s++ = '\0';
	}
	return n;
}

static void
check_rules(const struct policy *p, struct policy_load_opts *o)
{
	const struct policy_rule *r;
	struct strbuf a, b;
	struct policy *q;
	char *copy, *f[8];
	size_t i, n;

	sb_init(&a, 0);
	sb_init(&b, 0);
	for (i = 0; i < policy_nrules(p) && i < 64; i++) {
		r = policy_rule_at(p, i);
		CHECK(policy_rule_path(r) != NULL);
		sb_reset(&a);
		CHECK(policy_rule_format(&a, r) == 0);
		/* round trip through the full form */
		q = policy_parse_buffer(o, "rt.policy", a.buf, a.len, NULL,
		    NULL);
		CHECK(q != NULL);
		if (policy_nerrors(q) == 0) {
			CHECK(policy_nrules(q) == 1);
			sb_reset(&b);
			policy_rule_format(&b, policy_rule_at(q, 0));
			CHECK(strcmp(a.buf, b.buf) == 0);
		} else {
			CHECK(strstr(a.buf, "\t@default\tallow") != NULL);
		}
		policy_free(q);
		/* requests made of the rule's own words */
		copy = strdup(a.buf);
		if (copy == NULL)
			continue;
		n = fields(copy, f, 8);
		if (n >= 4)
			evaluate(p, strcmp(f[0], "*") ? f[0] : "test.Svc",
			    strcmp(f[1], "*") ? f[1] : "+", f[2], f[3]);
		free(copy);
	}
	sb_free(&a);
	sb_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_overlay ov[2];
	struct policy_load_opts o;
	const struct policy_error *e;
	const uint8_t *main_p, *inc = NULL, *sep;
	size_t main_n, inc_n = 0, i;
	struct policy *p;
	struct strbuf sb;
	int service_form;

	if (si == NULL &&
	    policy_sysinfo_from_json(sysinfo_json, sizeof(sysinfo_json) - 1,
	    &si, NULL) < 0)
		abort();
	if (size < 1)
		return 0;
	service_form = data[0] & 1;
	main_p = data + 1;
	main_n = size - 1;
	sep = memmem(main_p, main_n, "\n%%\n", 4);
	if (sep != NULL) {
		inc = sep + 4;
		inc_n = (size_t)(main_p + main_n - inc);
		main_n = (size_t)(sep - main_p);
	}
	memset(&o, 0, sizeof(o));
	o.dir = "/pol";
	o.legacy_dir = "/legacy";
	o.flags = POLICY_LOAD_NOFS;
	ov[0].path = "include/a";
	ov[1].path = "include/b";
	for (i = 0; i < 2; i++) {
		ov[i].content = inc != NULL ? (const char *)inc : NULL;
		ov[i].len = inc_n;
	}
	o.overlay = ov;
	o.noverlay = 2;

	p = policy_parse_buffer(&o, "t.policy", main_p, main_n,
	    service_form ? "test.Svc" : NULL, service_form ? "*" : NULL);
	CHECK(p != NULL);
	sb_init(&sb, 0);
	for (i = 0; i < policy_nerrors(p); i++) {
		e = policy_error_at(p, i);
		CHECK(e != NULL && e->msg != NULL);
		CHECK(e->line == 0 || e->path != NULL);
		sb_reset(&sb);
		CHECK(policy_format_error(&sb, e) == 0);
	}
	sb_free(&sb);
	CHECK(policy_error_at(p, policy_nerrors(p)) == NULL);

	if (policy_nerrors(p) == 0)
		check_rules(p, &o);
	evaluate(p, "test.Svc", "+", "work", "dvm");
	evaluate(p, "test.Svc", "+x", "work", "@dispvm");
	evaluate(p, "test.Svc", "+", "work", "dom0");
	evaluate(p, "other", "+", "dvm", "");
	evaluate(p, "test.Svc", "+", "tpl", "@dispvm:dvm");
	policy_free(p);
	return 0;
}
