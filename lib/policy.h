/*
 * policy.h - the qrexec policy engine of qubes-core-qrexec 4.2: the
 * policy.d parser and the evaluator (spec: policy.md 1-10 and 13).
 *
 * Calling sequence
 *
 *	struct policy_load_opts o = { .dir = "/etc/qubes/policy.d" };
 *	struct policy *p = policy_load(&o);	// NULL only on ENOMEM
 *	if (policy_nerrors(p) != 0)		// every error, file:line
 *		... policy_error_at(p, i), policy_format_error() ...
 *	struct policy_sysinfo *si = ...;	// from JSON or built in C
 *	struct policy_request rq = { "admin.vm.List", "+", "work", "dom0" };
 *	struct policy_result res;
 *	policy_evaluate(p, si, &rq, 0, &res);
 *	policy_format_reply(&sb, &res);		// "user=..\nresult=allow\n.."
 *	policy_result_free(&res);
 *	policy_sysinfo_free(si);
 *	policy_free(p);
 *
 * Loading.  policy_load() reads opts->dir like the reference
 * FilePolicy: the *.policy files of the directory (1.1 filter, name check,
 * strcmp order), every !include / !include-dir / !include-service /
 * !compat-4.0 expanded in place, depth first (1.2, 2.2-2.4).  It does not
 * stop at the first error: every line gets checked (one error per line at
 * most, the first check of policy.md 6 that fails), so lint can print them
 * all; an unresolvable include is an error at the directive's line and its
 * content is skipped.  A policy with any error is *invalid*: the
 * evaluator denies every call for it ("error loading policy: <first
 * error>"), as qrexec-policy-daemon does (1.3).
 *
 * The overlay (opts->overlay) replaces files in memory: each entry names a
 * file (absolute, or relative to opts->dir, e.g. "30-user.policy" or
 * "include/admin-local-rwx") and gives its new content, or content NULL
 * for "removed".  Removed files are skipped when listing a directory and
 * an include naming one fails with "including a file that will be
 * removed: <path>"; new files appear in directory listings (subject to the
 * 1.1 filter).  When a path appears more than once the last entry wins.
 * This is how the Policy Admin API validates "the whole
 * policy with the change applied" (11.6) without writing anything.  With
 * POLICY_LOAD_NOFS nothing is read from the file system at all: the
 * overlay is the whole world (unit tests, fuzzing).
 *
 * Differences from the reference, deliberate: include cycles are an error
 * ("include loop: <path>") instead of a crash; limits below are errors;
 * new main-directory files named outside [0-9a-z_.-] are refused like
 * existing ones (13.2); undecodable UTF-8 is reported with a line number;
 * a missing legacy directory counts as empty for !compat-4.0; a NUL byte
 * inside a name or option value is an error (it cannot live in a C
 * string); "ask" with a default_target= that is not offered (the
 * reference's assertion, 5.4) is a deny with a reason; an "ask" result
 * for a source without a GUI qube is still ASK (res->guivm NULL): the
 * reference refuses it only when prompting.
 *
 * System information (3.3) is a set of domains.  Build it with
 * policy_sysinfo_new() + policy_sysinfo_add() (the broker, from its model)
 * or policy_sysinfo_from_json() (the internal.GetSystemInfo reply).  A
 * domain whose power_state is NULL is asked through the power lookup
 * callback, only when the autostart=no check needs it.
 *
 * Evaluation (5) never fails for policy reasons: every outcome is a
 * struct policy_result with action DENY, ALLOW or ASK, the deciding rule
 * (NULL when none matched or the request was invalid) and a reason for a
 * deny.  Flags:
 *	POLICY_EVAL_NONINTERACTIVE  the qubesd filter of admin.vm.List and
 *	    admin.Events (protocol.md 4.3): "ask" counts as deny and nothing
 *	    is executed, so the loopback check of 5.3 step 7 is skipped.
 *	POLICY_EVAL_EXPLAIN  record the rules passed over (service and
 *	    argument matched, source or target did not), in order, at most
 *	    POLICY_MAX_PASSED of them.
 * Without flags the result is what qrexec-policy-daemon answers the
 * qrexec daemon (including the loopback deny); "ask" is returned as ASK
 * with the offered targets (5.4) instead of prompting.
 *
 * Ownership: policy_load() copies everything it needs from opts (the
 * overlay may be freed afterwards).  Rules and errors are owned by the
 * policy and live until policy_free().  A result borrows its rule from
 * the policy (free the result first); its strings are owned by the result
 * (policy_result_free()).  policy_sysinfo_add() copies its argument;
 * policy_sysinfo_find() and _at() return pointers into the sysinfo, valid
 * until the next policy_sysinfo_add() or _free().  All *_free() functions
 * accept NULL.
 *
 * Errors: functions returning int give 0, or -1 with errno (ENOMEM,
 * EINVAL for a malformed request or JSON).  Nothing here exits or logs:
 * the caller decides what to report.
 */
#ifndef POLICY_H
#define POLICY_H

#include <stddef.h>

#include "strbuf.h"

/* Defaults of the reference installation. */
#define POLICY_DEFAULT_DIR	"/etc/qubes/policy.d"
#define POLICY_DEFAULT_LEGACY_DIR "/etc/qubes-rpc/policy"

/* Limits; reaching one is an error of the policy, never a crash. */
#define POLICY_MAX_FILE_SIZE	(4u * 1024u * 1024u)	/* one file */
#define POLICY_MAX_TOTAL_SIZE	(64u * 1024u * 1024u)	/* all reads */
#define POLICY_MAX_LINE		(64u * 1024u)		/* bytes per line */
#define POLICY_MAX_DEPTH	32u			/* include nesting */
#define POLICY_MAX_FILES	16384u			/* file parses */
#define POLICY_MAX_DIR_ENTRIES	4096u			/* per directory */
#define POLICY_MAX_RULES	(1u << 20)
#define POLICY_MAX_ERRORS	1000u	/* then one "too many errors" */
#define POLICY_MAX_PASSED	1024u	/* explain: rules passed over */
#define POLICY_MAX_DOMAINS	65536u	/* system information */
#define POLICY_MAX_TAGS		4096u	/* per domain */
#define POLICY_MAX_JSON		(64u * 1024u * 1024u)

enum policy_action {
	POLICY_DENY,
	POLICY_ALLOW,
	POLICY_ASK,
};

/* ---- Loading */

struct policy_overlay {
	const char	*path;		/* absolute or relative to dir */
	const char	*content;	/* NULL: the file is removed */
	size_t		 len;
};

#define POLICY_LOAD_NOFS	0x1	/* read nothing but the overlay */

struct policy_load_opts {
	const char			*dir;		/* NULL: default */
	const char			*legacy_dir;	/* NULL: default */
	const struct policy_overlay	*overlay;
	size_t				 noverlay;
	unsigned			 flags;
};

/* One error.  line 0: not line-based ("invalid filename: ..."). */
struct policy_error {
	char		*path;		/* resolved file path, or NULL */
	unsigned	 line;
	char		*msg;		/* exact text of policy.md 6 */
};

struct policy;
struct policy_rule;

/* Load a whole policy; NULL only when out of memory. */
struct policy *policy_load(const struct policy_load_opts *opts);
/*
 * Parse one file's content as if it were found at `path` (resolved as
 * an include would be), in full form or, if service/argument are given,
 * in the service form of !include-service.  Includes it contains are
 * resolved through opts as by policy_load().  Used by the fuzzer and the
 * unit tests; NULL only when out of memory.
 */
struct policy *policy_parse_buffer(const struct policy_load_opts *opts,
	    const char *path, const void *buf, size_t len,
	    const char *service, const char *argument);
void	policy_free(struct policy *p);

/* Errors, in the order met; the policy is valid iff there is none. */
size_t	policy_nerrors(const struct policy *p);
const struct policy_error *policy_error_at(const struct policy *p, size_t i);
/* Append "<path>:<line>: <msg>" (or "<msg>" when line is 0) to sb. */
int	policy_format_error(struct strbuf *sb, const struct policy_error *e);

/*
 * Length of the longest prefix of buf that is valid UTF-8 as Python's
 * decoder reads it (no overlongs, surrogates or values over U+10FFFF);
 * len itself when all of it is.  The loader refuses a file that is not
 * valid UTF-8; the Policy Admin API checks content it stores (11.6).
 */
size_t	policy_utf8_prefix(const void *buf, size_t len);

/* The resolved policy directory (realpath of opts->dir). */
const char *policy_dir(const struct policy *p);
/*
 * 1 if any file or directory read (or found missing) while loading has
 * changed since (stat: inode, size, mtime, ctime), 0 if not.  Cheap
 * enough to call before every evaluation.  Always 0 for NOFS loads.
 */
int	policy_stale(const struct policy *p);

/* The rule list of 1.2, in evaluation order. */
size_t	policy_nrules(const struct policy *p);
const struct policy_rule *policy_rule_at(const struct policy *p, size_t i);
const char *policy_rule_service(const struct policy_rule *r);	/* "*" */
const char *policy_rule_argument(const struct policy_rule *r);	/* "*", "+x" */
const char *policy_rule_path(const struct policy_rule *r);	/* file */
unsigned policy_rule_line(const struct policy_rule *r);
enum policy_action policy_rule_action(const struct policy_rule *r);
/*
 * Append the reference's str(rule) (8.3 serialisation check):
 * SERVICE\tARGUMENT\tSOURCE\tTARGET\tACTION[ target=..][ default_target=..]
 * [ user=..] -- dom0 is shown as @adminvm, as the reference does.
 */
int	policy_rule_format(struct strbuf *sb, const struct policy_rule *r);

/* ---- System information */

struct policy_domain_info {
	const char		*name;
	const char		*type;		/* "AppVM", ... */
	const char *const	*tags;
	size_t			 ntags;
	int			 template_for_dispvms;
	const char		*default_dispvm; /* NULL: none */
	const char		*icon;		/* NULL: none */
	const char		*guivm;		/* NULL: none */
	const char		*power_state;	/* NULL: ask the callback */
};

struct policy_sysinfo;

typedef const char *(*policy_power_fn)(void *ctx, const char *name);

struct policy_sysinfo *policy_sysinfo_new(void);
void	policy_sysinfo_free(struct policy_sysinfo *si);
/* Add a domain (copied).  -1: ENOMEM, EEXIST (duplicate), E2BIG, EINVAL. */
int	policy_sysinfo_add(struct policy_sysinfo *si,
	    const struct policy_domain_info *d);
/* Called for domains added with power_state NULL; may return NULL. */
void	policy_sysinfo_set_power_lookup(struct policy_sysinfo *si,
	    policy_power_fn fn, void *ctx);
/*
 * Parse the JSON of internal.GetSystemInfo (3.3).  Returns 0 and *out,
 * or -1 with a reason in err (when err is not NULL).  Unknown keys are
 * ignored; a missing "domains" object, a non-string tag or a type of the
 * wrong kind is an error.
 */
int	policy_sysinfo_from_json(const char *json, size_t len,
	    struct policy_sysinfo **out, struct strbuf *err);
size_t	policy_sysinfo_count(const struct policy_sysinfo *si);
/* Domain by index (insertion order) or name; NULL if none. */
const struct policy_domain_info *policy_sysinfo_at(
	    const struct policy_sysinfo *si, size_t i);
const struct policy_domain_info *policy_sysinfo_find(
	    const struct policy_sysinfo *si, const char *name);
/* Power state, through the callback if needed; "NA" when unknown. */
const char *policy_sysinfo_power(const struct policy_sysinfo *si,
	    const struct policy_domain_info *d);

/* ---- Evaluation */

struct policy_request {
	const char	*service;	/* without '+' */
	const char	*argument;	/* "+" or "+arg"; NULL or "" = "+" */
	const char	*source;
	const char	*target;	/* as the caller gave it; NULL/"" =
					   @default */
};

struct policy_passed {
	const struct policy_rule	*rule;
	const char			*why;	/* static text */
};

struct policy_result {
	enum policy_action	 action;
	const struct policy_rule *rule;		/* deciding rule or NULL */
	char			*requested_target; /* normalised, or NULL */
	char			*target;	/* ALLOW: resolved target */
	char			*user;		/* ALLOW/ASK: NULL = DEFAULT */
	int			 autostart;
	int			 notify;
	char			**targets;	/* ASK: offered, in order */
	size_t			 ntargets;
	char			*default_target; /* ASK: or NULL */
	char			*guivm;		/* ASK: where to prompt */
	char			*reason;	/* DENY: human-readable */
	struct policy_passed	*passed;	/* EXPLAIN only */
	size_t			 npassed;
	int			 passed_truncated;
};

#define POLICY_EVAL_NONINTERACTIVE	0x1
#define POLICY_EVAL_EXPLAIN		0x2

/*
 * Evaluate one call.  Fills *res (always, even on -1, where it is a deny
 * with reason "out of memory").  p may be invalid or NULL, si may be NULL
 * (both deny).  The request strings are untrusted and only compared.
 */
int	policy_evaluate(const struct policy *p, const struct policy_sysinfo *si,
	    const struct policy_request *rq, unsigned flags,
	    struct policy_result *res);
void	policy_result_free(struct policy_result *res);

/*
 * 1 only if the call evaluates to ALLOW non-interactively (the qubesd
 * filter for admin.vm.List / admin.Events), else 0.
 */
int	policy_allows(const struct policy *p, const struct policy_sysinfo *si,
	    const char *service, const char *argument, const char *source,
	    const char *target);

/*
 * Append the reply of 5.3 (each line ends in "\n"):
 *	deny:	result=deny
 *	allow:	user=<user or DEFAULT>, result=allow, target=<resolved>,
 *		autostart=True|False, requested_target=<normalised>
 *	ask:	user=..., result=ask, targets=<offered, space-separated>,
 *		default_target=<target or empty>, autostart=...,
 *		requested_target=...  (the reference never sends "ask" to the
 *		daemon, it prompts; this is our extension for explain)
 */
int	policy_format_reply(struct strbuf *sb, const struct policy_result *res);

#endif
