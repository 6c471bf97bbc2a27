/*
 * policy_int.h - internals shared by policy.c (loader, parser) and
 * policy_eval.c (system information, evaluation).  Not part of the API:
 * only those two files include it.
 */
#ifndef POLICY_INT_H
#define POLICY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "strbuf.h"

/* The token kinds of policy.md 3; the classes of the reference parser. */
enum ptok_kind {
	PTOK_NAME,		/* plain qube name */
	PTOK_ADMINVM,		/* @adminvm, dom0 */
	PTOK_ANY,		/* * */
	PTOK_ANYVM,		/* @anyvm */
	PTOK_DEFAULT,		/* @default */
	PTOK_TYPE,		/* @type:T */
	PTOK_TAG,		/* @tag:T */
	PTOK_DISPVM,		/* @dispvm */
	PTOK_DISPVM_VM,		/* @dispvm:NAME */
	PTOK_DISPVM_TAG,	/* @dispvm:@tag:T */
};

/* Where a token appears (3.1); the names are the reference's classes. */
enum ptok_ctx {
	PCTX_SOURCE,
	PCTX_TARGET,
	PCTX_REDIRECT,
	PCTX_INTENDED,
};

struct ptok {
	enum ptok_kind	 kind;
	char		*text;		/* as str(token): dom0 is "@adminvm" */
	const char	*value;		/* after the prefix, in text */
};

struct policy_rule {
	char		*service;	/* "*" = any */
	char		*argument;	/* "*" = any */
	int		 any_service;
	int		 any_argument;
	struct ptok	 source;
	struct ptok	 target;
	enum policy_action action;
	int		 has_redirect;	/* target= given (maybe empty) */
	struct ptok	 redirect;
	int		 has_default;	/* default_target= given */
	struct ptok	 default_target;
	char		*user;		/* NULL: not given */
	int		 notify;
	int		 autostart;
	const char	*path;		/* interned in the policy */
	unsigned	 line;
};

/* Stat fingerprint of one path seen while loading. */
struct policy_stamp {
	char		*path;
	int		 exists;
	uint64_t	 dev, ino, size;
	int64_t		 mtime_s, mtime_ns, ctime_s, ctime_ns;
	unsigned	 mode;
};

struct policy {
	char			*dir;
	struct policy_rule	*rules;
	size_t			 nrules;
	size_t			 arules;
	struct policy_error	*errors;
	size_t			 nerrors;
	size_t			 aerrors;
	char			**paths;	/* interned rule paths */
	size_t			 npaths;
	size_t			 apaths;
	struct policy_stamp	*stamps;
	size_t			 nstamps;
	size_t			 astamps;
};

/*
 * Parse one token (span s, n bytes, valid UTF-8) for context ctx.
 * Returns 0 and fills *t (t->text malloc'd), or -1 with the reference's
 * message appended to err (errno EINVAL), or -1 with errno ENOMEM.
 */
int	ptok_parse(const char *s, size_t n, enum ptok_ctx ctx, struct ptok *t,
	    struct strbuf *err);
void	ptok_free(struct ptok *t);

/* Python repr() of a UTF-8 string (span). */
int	policy_pyrepr(struct strbuf *sb, const char *s, size_t n);

#endif
