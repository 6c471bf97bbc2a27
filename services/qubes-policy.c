/*
 * qubes-policy - check the qrexec policy and explain its decisions
 * (policy.md 1-6), with the engine of lib/policy.c.
 *
 *   qubes-policy lint [--policy-dir DIR] [--legacy-dir DIR]
 *   qubes-policy explain [--policy-dir DIR] [--legacy-dir DIR]
 *                        [--system-info FILE] SRC TARGET SERVICE[+ARG]
 *
 * lint parses the whole policy as the evaluator would and prints every
 * error, one per line, as "FILE:LINE: MESSAGE" (or just the message for
 * errors that are not about a line).
 *
 * explain evaluates one call.  Its first lines are the reply the reference
 * evaluator gives qrexec-daemon (policy.md 5.3): "result=deny", or the
 * user=/result=allow/target=/autostart=/requested_target= lines; "ask"
 * prints result=ask with targets= (the offered targets, space-separated)
 * and default_target= (5.4).  Then a blank line and a human explanation:
 * the deciding rule with FILE:LINE, the resolved target, and the rules
 * that were passed over on the way.  The system information comes from
 * FILE (the JSON of internal.GetSystemInfo) or else from qubesd (the
 * broker) on $QUBESD_INTERNAL_SOCKET, default /var/run/qubesd.internal.sock.
 *
 * Exit status (s6 style): 0 lint clean / explain allow or ask; 1 explain
 * deny; 2 the policy has errors (lint, and explain, whose answer is then
 * deny); 3 no usable system information; 100 usage; 111 system error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frame.h"
#include "ioall.h"
#include "policy.h"
#include "strbuf.h"

#define PROG		"qubes-policy"
#define INTERNAL_SOCK	"/var/run/qubesd.internal.sock"
#define REPLY_MAX	(POLICY_MAX_JSON + 2u)

#define EXIT_ALLOW	0
#define EXIT_DENY	1
#define EXIT_INVALID	2
#define EXIT_SYSINFO	3
#define EXIT_USAGE	100
#define EXIT_SYSTEM	111

static const char usage_text[] =
    "usage: " PROG " lint [--policy-dir DIR] [--legacy-dir DIR]\n"
    "       " PROG " explain [--policy-dir DIR] [--legacy-dir DIR]\n"
    "                    [--system-info FILE] SRC TARGET SERVICE[+ARG]\n"
    "\n"
    "  lint      parse the policy, print every error as FILE:LINE: MESSAGE\n"
    "  explain   evaluate one call: the reply qrexec-daemon would get\n"
    "            (result=..., policy.md 5.3/5.4), a blank line, then the\n"
    "            deciding rule, the resolved target and the rules passed\n"
    "            over\n"
    "\n"
    "  --policy-dir DIR    policy directory (default " POLICY_DEFAULT_DIR ")\n"
    "  --legacy-dir DIR    !compat-4.0 directory (default "
    POLICY_DEFAULT_LEGACY_DIR ")\n"
    "  --system-info FILE  internal.GetSystemInfo JSON; default: ask qubesd\n"
    "                      on $QUBESD_INTERNAL_SOCKET or " INTERNAL_SOCK "\n"
    "\n"
    "exit status: 0 lint clean, or explain says allow/ask; 1 explain says\n"
    "deny; 2 the policy has errors; 3 no usable system information;\n"
    "100 usage; 111 system error\n";

static void __attribute__((noreturn))
usage(void)
{
	fputs(usage_text, stderr);
	exit(EXIT_USAGE);
}

/* Print every error of p; the number printed. */
static size_t
print_errors(FILE *fp, const struct policy *p, const char *indent)
{
	struct strbuf sb;
	size_t i, n = policy_nerrors(p);

	sb_init(&sb, 0);
	for (i = 0; i < n; i++) {
		sb_reset(&sb);
		policy_format_error(&sb, policy_error_at(p, i));
		fprintf(fp, "%s%s\n", indent, sb.buf ? sb.buf : "");
	}
	sb_free(&sb);
	return n;
}

/* Flush stdout and check it: a full disk is not a success. */
static int
finish(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: write to stdout: %s\n", PROG,
		    strerror(errno));
		return EXIT_SYSTEM;
	}
	return rc;
}

static int
cmd_lint(const struct policy_load_opts *o)
{
	struct policy *p;
	size_t n;

	if ((p = policy_load(o)) == NULL) {
		fprintf(stderr, "%s: loading the policy: %s\n", PROG,
		    strerror(errno));
		return EXIT_SYSTEM;
	}
	n = print_errors(stdout, p, "");
	policy_free(p);
	return finish(n > 0 ? EXIT_INVALID : EXIT_ALLOW);
}

/* The system information from a file or from qubesd. */
static struct policy_sysinfo *
load_sysinfo(const char *file)
{
	struct policy_sysinfo *si = NULL;
	struct strbuf req, err;
	const char *sock;
	char *buf = NULL;
	size_t len = 0;
	int fd = -1;

	sb_init(&req, 4096);
	sb_init(&err, 4096);
	if (file != NULL) {
		fd = strcmp(file, "-") == 0 ? dup(STDIN_FILENO) :
		    open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read_all_bounded(fd, POLICY_MAX_JSON, &buf,
		    &len) < 0) {
			fprintf(stderr, "%s: %s: %s\n", PROG, file,
			    strerror(errno));
			goto done;
		}
	} else {
		sock = getenv("QUBESD_INTERNAL_SOCKET");
		if (sock == NULL || *sock == '\0')
			sock = INTERNAL_SOCK;
		frame_build_request(&req, "internal.GetSystemInfo", "",
		    "dom0", "dom0", NULL, 0);
		if (!sb_ok(&req) || (fd = unix_connect(sock)) < 0 ||
		    write_all(fd, req.buf, req.len) < 0 ||
		    shutdown(fd, SHUT_WR) < 0 ||
		    read_all_bounded(fd, REPLY_MAX, &buf, &len) < 0) {
			fprintf(stderr, "%s: internal.GetSystemInfo on %s: "
			    "%s\n", PROG, sock, strerror(errno));
			goto done;
		}
		if (len < 2 || memcmp(buf, "0\0", 2) != 0) {
			fprintf(stderr, "%s: internal.GetSystemInfo on %s: "
			    "no OK reply\n", PROG, sock);
			goto done;
		}
		memmove(buf, buf + 2, len - 2);
		len -= 2;
	}
	if (policy_sysinfo_from_json(buf, len, &si, &err) < 0) {
		fprintf(stderr, "%s: system information: %s\n", PROG,
		    err.buf ? err.buf : strerror(errno));
		si = NULL;
	}
done:
	if (fd >= 0)
		close(fd);
	free(buf);
	sb_free(&req);
	sb_free(&err);
	return si;
}

static void
print_rule(const char *label, const struct policy_rule *r)
{
	struct strbuf sb;

	sb_init(&sb, 0);
	policy_rule_format(&sb, r);
	printf("%s%s:%u: %s\n", label, policy_rule_path(r),
	    policy_rule_line(r), sb.buf ? sb.buf : "");
	sb_free(&sb);
}

/* The human part of explain, after the reply and a blank line. */
static void
explain_text(const struct policy *p, const struct policy_result *res,
    const char *target)
{
	static const char *const names[] = {
		[POLICY_DENY] = "deny",
		[POLICY_ALLOW] = "allow",
		[POLICY_ASK] = "ask",
	};
	size_t i;

	printf("decision: %s\n", names[res->action]);
	if (res->requested_target != NULL)
		printf("requested target: %s (as given: '%s')\n",
		    res->requested_target, target);
	if (res->rule != NULL)
		print_rule("deciding rule: ", res->rule);
	else
		printf("deciding rule: none\n");
	switch (res->action) {
	case POLICY_DENY:
		printf("reason: %s\n", res->reason ? res->reason : "");
		printf("notify: %s\n", res->notify ? "yes" : "no");
		break;
	case POLICY_ALLOW:
		printf("resolved target: %s\n", res->target);
		printf("user: %s\n", res->user ? res->user : "DEFAULT");
		printf("autostart: %s\n", res->autostart ? "yes" : "no");
		printf("notify: %s\n", res->notify ? "yes" : "no");
		break;
	case POLICY_ASK:
		printf("offered targets:");
		for (i = 0; i < res->ntargets; i++)
			printf(" %s", res->targets[i]);
		printf("\ndefault target: %s\n", res->default_target ?
		    res->default_target : "(none)");
		if (res->guivm != NULL)
			printf("prompt shown by: %s\n", res->guivm);
		else
			printf("prompt shown by: nobody: the source has no GUI "
			    "qube, so the call would be refused\n");
		break;
	}
	if (res->npassed > 0) {
		printf("rules passed over (service and argument matched):\n");
		for (i = 0; i < res->npassed; i++) {
			print_rule("  ", res->passed[i].rule);
			printf("    %s\n", res->passed[i].why);
		}
		if (res->passed_truncated)
			printf("  ... (more not shown)\n");
	} else
		printf("rules passed over: none\n");
	if (policy_nerrors(p) > 0) {
		printf("policy errors (every call is denied):\n");
		print_errors(stdout, p, "  ");
	}
}

static int
cmd_explain(const struct policy_load_opts *o, const char *sysinfo_file,
    char **argv)
{
	struct policy_request rq;
	struct policy_result res;
	struct policy_sysinfo *si;
	struct policy *p;
	struct strbuf out, arg;
	char *service, *plus;
	int rc;

	if ((p = policy_load(o)) == NULL) {
		fprintf(stderr, "%s: loading the policy: %s\n", PROG,
		    strerror(errno));
		return EXIT_SYSTEM;
	}
	if ((si = load_sysinfo(sysinfo_file)) == NULL) {
		policy_free(p);
		return EXIT_SYSINFO;
	}
	if ((service = strdup(argv[2])) == NULL) {
		policy_sysinfo_free(si);
		policy_free(p);
		return EXIT_SYSTEM;
	}
	sb_init(&arg, 0);
	sb_addc(&arg, '+');
	if ((plus = strchr(service, '+')) != NULL) {
		*plus = '\0';
		sb_adds(&arg, plus + 1);
	}
	rq.service = service;
	rq.argument = arg.buf;
	rq.source = argv[0];
	rq.target = argv[1];
	if (policy_evaluate(p, si, &rq, POLICY_EVAL_EXPLAIN, &res) < 0)
		fprintf(stderr, "%s: out of memory\n", PROG);
	sb_init(&out, 0);
	policy_format_reply(&out, &res);
	fputs(out.buf ? out.buf : "", stdout);
	fputc('\n', stdout);
	explain_text(p, &res, argv[1]);
	if (policy_nerrors(p) > 0)
		rc = EXIT_INVALID;
	else
		rc = res.action == POLICY_DENY ? EXIT_DENY : EXIT_ALLOW;
	sb_free(&out);
	sb_free(&arg);
	policy_result_free(&res);
	free(service);
	policy_sysinfo_free(si);
	policy_free(p);
	return finish(rc);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy-dir", required_argument, NULL, 'p' },
		{ "legacy-dir", required_argument, NULL, 'l' },
		{ "system-info", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct policy_load_opts o;
	const char *cmd, *sysinfo_file = NULL;
	int ch;

	signal(SIGPIPE, SIG_IGN);
	memset(&o, 0, sizeof(o));
	if (argc < 2)
		usage();
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		fputs(usage_text, stdout);
		return finish(0);
	}
	if (strcmp(cmd, "lint") != 0 && strcmp(cmd, "explain") != 0)
		usage();
	optind = 2;
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			o.dir = optarg;
			break;
		case 'l':
			o.legacy_dir = optarg;
			break;
		case 's':
			sysinfo_file = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return finish(0);
		default:
			usage();
		}
	}
	if (strcmp(cmd, "lint") == 0) {
		if (optind != argc || sysinfo_file != NULL)
			usage();
		return cmd_lint(&o);
	}
	if (argc - optind != 3)
		usage();
	return cmd_explain(&o, sysinfo_file, argv + optind);
}
