/*
 * policy.c - qrexec policy loader and parser (policy.md 1, 2, 3.1, 4, 6);
 * see policy.h.  Evaluation and system information are in policy_eval.c.
 *
 * The shape follows qrexec.policy.parser (qubes-core-qrexec 4.2):
 * FilePolicy.load_policy_dir() -> load_policy_file() per line ->
 * Rule.from_line() / from_line_service() -> VMToken(); the checks run in
 * the same order so that the first failing one gives the same message.
 * Unlike the reference we go on after an error, to report every bad line.
 *
 * Files are read through a small virtual file system: the overlay of
 * struct policy_load_opts first, then (unless POLICY_LOAD_NOFS) the real
 * one.  Everything read is bounded (policy.h limits) and every file being
 * parsed sits on an include stack, so a cycle is reported instead of
 * recursing until the stack runs out.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ioall.h"
#include "policy.h"
#include "policy_int.h"

#define PATH_CAP	(4u * PATH_MAX)	/* any path we build */
#define MSG_MAX		4096u		/* stored error message, bytes */
#define MAX_SYMLINKS	40

struct span {
	const char	*p;
	size_t		 n;
};

struct ovl {
	char		*path;		/* normalised key */
	const char	*content;	/* borrowed; NULL = removed */
	size_t		 len;
};

/* Service form context of !include-service (2.3); NULL: full form. */
struct svcctx {
	struct span	 service;
	struct span	 argument;
};

struct loader {
	struct policy	*p;
	int		 nofs;
	char		*legacy_dir;	/* absolute */
	struct ovl	*ovl;
	size_t		 novl;
	const char	*stack[POLICY_MAX_DEPTH + 1];
	size_t		 depth;
	size_t		 nfiles;
	size_t		 total;
	int		 legacy;	/* in !compat-4.0 content */
	int		 oom;
	int		 err_full;
	int		 files_full;
	int		 rules_full;
	int		 total_full;
	struct span	*fields;
	size_t		 afields;
};

static void	parse_content(struct loader *, const char *, const char *,
		    size_t, const struct svcctx *);
static void	load_dir(struct loader *, const char *, const char *,
		    unsigned);

/* ------------------------------------------------------------------ */
/* UTF-8 and Python string helpers */

/* Decode one code point; its length (1-4), or 0 if the bytes are invalid. */
static size_t
u8_dec(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (n == 0)
		return 0;
	c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		c &= 0x07;
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 1; i < len; i++) {
		if (i > 1 && (p[i] < 0x80 || p[i] > 0xbf))
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	*cp = c;
	return len;
}

/* str.isspace() / str.split() whitespace of Python 3. */
static int
py_isspace(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) ||
	    c == 0x85 || c == 0xa0 || c == 0x1680 ||
	    (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
	    c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Byte length of the whitespace code point at p, 0 if none. */
static size_t
ws_at(const char *p, size_t n)
{
	uint32_t c;
	size_t l;

	l = u8_dec((const unsigned char *)p, n, &c);
	return l && py_isspace(c) ? l : 0;
}

/*
 * str.isprintable() for code points above ASCII, approximated: the
 * control, format, separator, surrogate, private-use and non-character
 * ranges (unassigned code points are taken as printable).
 */
static int
py_isprintable(uint32_t c)
{
	static const uint32_t np[][2] = {
		{ 0x80, 0xa0 }, { 0xad, 0xad }, { 0x600, 0x605 },
		{ 0x61c, 0x61c }, { 0x6dd, 0x6dd }, { 0x70f, 0x70f },
		{ 0x890, 0x891 }, { 0x8e2, 0x8e2 }, { 0x1680, 0x1680 },
		{ 0x180e, 0x180e }, { 0x2000, 0x200f }, { 0x2028, 0x202f },
		{ 0x205f, 0x2064 }, { 0x2066, 0x206f }, { 0x3000, 0x3000 },
		{ 0xd800, 0xf8ff }, { 0xfeff, 0xfeff }, { 0xfff9, 0xfffb },
		{ 0xfffe, 0xffff }, { 0x110bd, 0x110bd }, { 0x110cd, 0x110cd },
		{ 0x13430, 0x1343f }, { 0x1bca0, 0x1bca3 },
		{ 0x1d173, 0x1d17a }, { 0xe0001, 0xe0001 },
		{ 0xe0020, 0xe007f }, { 0xf0000, 0x10ffff },
	};
	size_t i;

	for (i = 0; i < sizeof(np) / sizeof(np[0]); i++)
		if (c >= np[i][0] && c <= np[i][1])
			return 0;
	return 1;
}

/* One code point as repr() writes it inside quotes q. */
static void
pyrepr_cp(struct strbuf *sb, uint32_t c, const char *raw, size_t rawlen,
    char q)
{
	if (c == (uint32_t)q || c == '\\') {
		sb_addc(sb, '\\');
		sb_addc(sb, (char)c);
	} else if (c == '\t')
		sb_adds(sb, "\\t");
	else if (c == '\n')
		sb_adds(sb, "\\n");
	else if (c == '\r')
		sb_adds(sb, "\\r");
	else if (c < 0x20 || c == 0x7f)
		sb_addf(sb, "\\x%02x", (unsigned)c);
	else if (c < 0x80 || py_isprintable(c))
		sb_add(sb, raw, rawlen);
	else if (c <= 0xff)
		sb_addf(sb, "\\x%02x", (unsigned)c);
	else if (c <= 0xffff)
		sb_addf(sb, "\\u%04x", (unsigned)c);
	else
		sb_addf(sb, "\\U%08x", (unsigned)c);
}

int
policy_pyrepr(struct strbuf *sb, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	int sq = 0, dq = 0;
	size_t i, l;
	uint32_t c;
	char q;

	for (i = 0; i < n; i++) {
		if (s[i] == '\'')
			sq = 1;
		else if (s[i] == '"')
			dq = 1;
	}
	q = sq && !dq ? '"' : '\'';
	sb_addc(sb, q);
	for (i = 0; i < n; i += l) {
		l = u8_dec(u + i, n - i, &c);
		if (l == 0) {
			/* not reached for decoded input; keep it visible */
			sb_addf(sb, "\\x%02x", u[i]);
			l = 1;
			continue;
		}
		pyrepr_cp(sb, c, s + i, l, q);
	}
	return sb_addc(sb, q);
}

static int
span_eq(struct span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && memcmp(s.p, lit, n) == 0;
}

static char *
span_dup(struct span s)
{
	char *p;

	p = malloc(s.n + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s.p, s.n);
	p[s.n] = '\0';
	return p;
}

/* ------------------------------------------------------------------ */
/* Tokens (3.1) */

/* Kinds allowed per context: the reference's class inheritance. */
static unsigned
ctx_mask(enum ptok_ctx ctx)
{
#define B(k)	(1u << (k))
	switch (ctx) {
	case PCTX_SOURCE:
		return B(PTOK_NAME) | B(PTOK_ADMINVM) | B(PTOK_ANY) |
		    B(PTOK_ANYVM) | B(PTOK_TYPE) | B(PTOK_TAG) |
		    B(PTOK_DISPVM_VM) | B(PTOK_DISPVM_TAG);
	case PCTX_TARGET:
		return B(PTOK_NAME) | B(PTOK_ADMINVM) | B(PTOK_ANY) |
		    B(PTOK_ANYVM) | B(PTOK_DEFAULT) | B(PTOK_TYPE) |
		    B(PTOK_TAG) | B(PTOK_DISPVM) | B(PTOK_DISPVM_VM) |
		    B(PTOK_DISPVM_TAG);
	case PCTX_REDIRECT:
		return B(PTOK_NAME) | B(PTOK_ADMINVM) | B(PTOK_DISPVM) |
		    B(PTOK_DISPVM_VM);
	case PCTX_INTENDED:
		return B(PTOK_NAME) | B(PTOK_ADMINVM) | B(PTOK_DEFAULT) |
		    B(PTOK_DISPVM) | B(PTOK_DISPVM_VM);
	}
	return 0;
#undef B
}

static const char *const ctx_names[] = {
	[PCTX_SOURCE] = "source",
	[PCTX_TARGET] = "target",
	[PCTX_REDIRECT] = "redirect",
	[PCTX_INTENDED] = "intendedtarget",
};

int
ptok_parse(const char *s, size_t n, enum ptok_ctx ctx, struct ptok *t,
    struct strbuf *err)
{
	static const struct {
		const char	*str;
		enum ptok_kind	 kind;
	} exacts[] = {
		{ "@adminvm", PTOK_ADMINVM },
		{ "@anyvm", PTOK_ANYVM },
		{ "@default", PTOK_DEFAULT },
		{ "@dispvm", PTOK_DISPVM },
		{ "*", PTOK_ANY },
	}, prefixes[] = {
		{ "@type:", PTOK_TYPE },
		{ "@tag:", PTOK_TAG },
		{ "@dispvm:", PTOK_DISPVM_VM },
		{ "@dispvm:@tag:", PTOK_DISPVM_TAG },
	};
	const char *orig = s;
	size_t orig_n = n, i, pl;
	unsigned mask = ctx_mask(ctx);
	struct span sp;

	memset(t, 0, sizeof(*t));
	if (n == 4 && memcmp(s, "dom0", 4) == 0) {
		s = "@adminvm";
		n = 8;
	}
	sp.p = s;
	sp.n = n;
	if (n == 0 || (s[0] != '@' && !(n == 1 && s[0] == '*'))) {
		t->kind = PTOK_NAME;
		goto found;
	}
	for (i = 0; i < sizeof(exacts) / sizeof(exacts[0]); i++) {
		if ((mask & (1u << exacts[i].kind)) &&
		    span_eq(sp, exacts[i].str)) {
			t->kind = exacts[i].kind;
			goto found;
		}
	}
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (!(mask & (1u << prefixes[i].kind)))
			continue;
		pl = strlen(prefixes[i].str);
		if (n < pl || memcmp(s, prefixes[i].str, pl) != 0)
			continue;
		if (n == pl) {
			sb_addf(err, "invalid empty %s token: ",
			    prefixes[i].str);
			policy_pyrepr(err, s, n);
			errno = EINVAL;
			return -1;
		}
		if (s[pl] == '@')
			continue;
		t->kind = prefixes[i].kind;
		goto found;
	}
	sb_addf(err, "invalid %s token: ", ctx_names[ctx]);
	policy_pyrepr(err, orig, orig_n);
	errno = EINVAL;
	return -1;

found:
	t->text = span_dup(sp);
	if (t->text == NULL)
		return -1;
	switch (t->kind) {
	case PTOK_TYPE:
		t->value = t->text + 6;
		break;
	case PTOK_TAG:
		t->value = t->text + 5;
		break;
	case PTOK_DISPVM_VM:
		t->value = t->text + 8;
		break;
	case PTOK_DISPVM_TAG:
		t->value = t->text + 13;
		break;
	default:
		t->value = t->text;
		break;
	}
	return 0;
}

void
ptok_free(struct ptok *t)
{
	if (t == NULL)
		return;
	free(t->text);
	t->text = NULL;
	t->value = NULL;
}

/* ------------------------------------------------------------------ */
/* Errors, interning, stamps */

static void
add_error(struct loader *L, const char *path, unsigned line, const char *msg)
{
	struct policy *p = L->p;
	struct policy_error *e;
	size_t n, alloc;

	if (L->err_full)
		return;
	if (p->nerrors == POLICY_MAX_ERRORS) {
		L->err_full = 1;
		path = NULL;
		line = 0;
		msg = "too many errors, the rest is not reported";
	}
	if (p->nerrors == p->aerrors) {
		alloc = p->aerrors ? p->aerrors * 2 : 8;
		e = realloc(p->errors, alloc * sizeof(*e));
		if (e == NULL) {
			L->oom = 1;
			return;
		}
		p->errors = e;
		p->aerrors = alloc;
	}
	e = &p->errors[p->nerrors];
	memset(e, 0, sizeof(*e));
	e->line = line;
	if (path != NULL && (e->path = strdup(path)) == NULL) {
		L->oom = 1;
		return;
	}
	n = strlen(msg);
	if (n > MSG_MAX)
		n = MSG_MAX;
	if ((e->msg = malloc(n + 4)) == NULL) {
		free(e->path);
		L->oom = 1;
		return;
	}
	memcpy(e->msg, msg, n);
	if (n == MSG_MAX)
		memcpy(e->msg + n, "...", 3), n += 3;
	e->msg[n] = '\0';
	p->nerrors++;
}

static void __attribute__((format(printf, 4, 5)))
perr(struct loader *L, const char *path, unsigned line, const char *fmt, ...)
{
	char buf[MSG_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	add_error(L, path, line, buf);
}

/* Error whose text was built in sb (sb->err means out of memory/cap). */
static void
perr_sb(struct loader *L, const char *path, unsigned line, struct strbuf *sb)
{
	if (!sb_ok(sb) && sb->err == ENOMEM) {
		L->oom = 1;
		return;
	}
	add_error(L, path, line, sb->buf ? sb->buf : "");
}

/* Python's str(OSError): "[Errno N] text: 'path'". */
static void
perr_os(struct loader *L, const char *path, int e)
{
	struct strbuf sb;

	sb_init(&sb, 2 * MSG_MAX);
	sb_addf(&sb, "failed to load %s file: [Errno %d] %s: ", path, e,
	    strerror(e));
	policy_pyrepr(&sb, path, strlen(path));
	perr_sb(L, NULL, 0, &sb);
	sb_free(&sb);
}

static const char *
intern_path(struct loader *L, const char *path)
{
	struct policy *p = L->p;
	char **np;
	size_t i, alloc;

	for (i = p->npaths; i > 0; i--)
		if (strcmp(p->paths[i - 1], path) == 0)
			return p->paths[i - 1];
	if (p->npaths == p->apaths) {
		alloc = p->apaths ? p->apaths * 2 : 16;
		np = realloc(p->paths, alloc * sizeof(*np));
		if (np == NULL)
			goto oom;
		p->paths = np;
		p->apaths = alloc;
	}
	if ((p->paths[p->npaths] = strdup(path)) == NULL)
		goto oom;
	return p->paths[p->npaths++];
oom:
	L->oom = 1;
	return NULL;
}

static void
stamp_fill(struct policy_stamp *s, const char *path)
{
	struct stat st;

	s->exists = stat(path, &st) == 0;
	if (!s->exists) {
		s->dev = s->ino = s->size = 0;
		s->mtime_s = s->mtime_ns = s->ctime_s = s->ctime_ns = 0;
		s->mode = 0;
		return;
	}
	s->dev = (uint64_t)st.st_dev;
	s->ino = (uint64_t)st.st_ino;
	s->size = (uint64_t)st.st_size;
	s->mtime_s = (int64_t)st.st_mtim.tv_sec;
	s->mtime_ns = (int64_t)st.st_mtim.tv_nsec;
	s->ctime_s = (int64_t)st.st_ctim.tv_sec;
	s->ctime_ns = (int64_t)st.st_ctim.tv_nsec;
	s->mode = (unsigned)st.st_mode;
}

/* Remember the state of a path looked at, for policy_stale(). */
static void
stamp(struct loader *L, const char *path)
{
	struct policy *p = L->p;
	struct policy_stamp *ns;
	size_t i, alloc;

	if (L->nofs)
		return;
	for (i = 0; i < p->nstamps; i++)
		if (strcmp(p->stamps[i].path, path) == 0)
			return;
	if (p->nstamps == p->astamps) {
		alloc = p->astamps ? p->astamps * 2 : 16;
		ns = realloc(p->stamps, alloc * sizeof(*ns));
		if (ns == NULL) {
			L->oom = 1;
			return;
		}
		p->stamps = ns;
		p->astamps = alloc;
	}
	ns = &p->stamps[p->nstamps];
	if ((ns->path = strdup(path)) == NULL) {
		L->oom = 1;
		return;
	}
	stamp_fill(ns, path);
	p->nstamps++;
}

int
policy_stale(const struct policy *p)
{
	struct policy_stamp now;
	const struct policy_stamp *s;
	size_t i;

	if (p == NULL)
		return 1;
	for (i = 0; i < p->nstamps; i++) {
		s = &p->stamps[i];
		stamp_fill(&now, s->path);
		if (now.exists != s->exists || now.dev != s->dev ||
		    now.ino != s->ino || now.size != s->size ||
		    now.mtime_s != s->mtime_s || now.mtime_ns != s->mtime_ns ||
		    now.ctime_s != s->ctime_s || now.ctime_ns != s->ctime_ns ||
		    now.mode != s->mode)
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Paths */

/* Append the components of in (absolute) to out lexically. */
static void
path_lexical_into(struct strbuf *out, const char *in)
{
	const char *c, *e;
	char *sl;
	size_t n;

	for (c = in; *c != '\0'; c = e) {
		while (*c == '/')
			c++;
		if (*c == '\0')
			break;
		e = strchr(c, '/');
		if (e == NULL)
			e = c + strlen(c);
		n = (size_t)(e - c);
		if (n == 1 && c[0] == '.')
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			if (out->buf != NULL &&
			    (sl = strrchr(out->buf, '/')) != NULL) {
				out->len = (size_t)(sl - out->buf);
				out->buf[out->len] = '\0';
			}
			continue;
		}
		sb_addc(out, '/');
		sb_add(out, c, n);
	}
}

static void
path_lexical(struct strbuf *out, const char *in)
{
	sb_reset(out);
	path_lexical_into(out, in);
	if (out->len == 0)
		sb_addc(out, '/');
}

/*
 * pathlib's resolve(strict=False): follow symlinks component by
 * component; once a component is missing the rest is taken lexically.
 */
static void
path_resolve_fs(struct strbuf *out, const char *in)
{
	struct strbuf rest, next;
	char link[PATH_MAX];
	const char *c, *e;
	size_t n, save;
	ssize_t r;
	struct stat st;
	int missing = 0, nlinks = 0;
	char *sl;

	sb_init(&rest, PATH_CAP);
	sb_init(&next, PATH_CAP);
	sb_reset(out);
	sb_adds(&rest, in);
	c = rest.buf ? rest.buf : "";
	while (*c != '\0') {
		while (*c == '/')
			c++;
		if (*c == '\0')
			break;
		e = strchr(c, '/');
		if (e == NULL)
			e = c + strlen(c);
		n = (size_t)(e - c);
		if (n == 1 && c[0] == '.') {
			c = e;
			continue;
		}
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			if (out->buf != NULL &&
			    (sl = strrchr(out->buf, '/')) != NULL) {
				out->len = (size_t)(sl - out->buf);
				out->buf[out->len] = '\0';
			}
			c = e;
			continue;
		}
		save = out->len;
		sb_addc(out, '/');
		sb_add(out, c, n);
		c = e;
		if (missing || !sb_ok(out))
			continue;
		if (lstat(out->buf, &st) < 0) {
			missing = 1;
			continue;
		}
		if (!S_ISLNK(st.st_mode))
			continue;
		if (++nlinks > MAX_SYMLINKS) {
			missing = 1;
			continue;
		}
		r = readlink(out->buf, link, sizeof(link) - 1);
		if (r < 0) {
			missing = 1;
			continue;
		}
		link[r] = '\0';
		/* continue with the link text, then what was left */
		sb_reset(&next);
		sb_adds(&next, link);
		sb_addc(&next, '/');
		sb_adds(&next, c);
		sb_reset(&rest);
		sb_add(&rest, next.buf, next.len);
		if (!sb_ok(&rest))
			break;
		c = rest.buf;
		if (link[0] == '/')
			sb_reset(out);
		else {
			out->len = save;
			if (out->buf != NULL)
				out->buf[save] = '\0';
		}
	}
	if (out->len == 0)
		sb_addc(out, '/');
	sb_free(&rest);
	sb_free(&next);
}

static void
path_join(struct strbuf *out, const char *base, const char *rel)
{
	sb_reset(out);
	if (rel[0] != '/') {
		sb_adds(out, base);
		sb_addc(out, '/');
	}
	sb_adds(out, rel);
}

/*
 * The overlay key of a path: its directory resolved, its last component
 * kept (a file about to be written need not exist yet).
 */
static void
path_key(struct loader *L, struct strbuf *out, const char *full)
{
	struct strbuf lex, dir;
	const char *base;
	char *sl;

	sb_init(&lex, PATH_CAP);
	sb_init(&dir, PATH_CAP);
	path_lexical(&lex, full);
	if (L->nofs || !sb_ok(&lex)) {
		sb_reset(out);
		sb_add(out, lex.buf ? lex.buf : "/", lex.buf ? lex.len : 1);
		goto done;
	}
	sl = strrchr(lex.buf, '/');
	base = sl + 1;
	*sl = '\0';
	path_resolve_fs(&dir, *lex.buf ? lex.buf : "/");
	sb_reset(out);
	if (strcmp(dir.buf, "/") != 0)
		sb_adds(out, dir.buf);
	sb_addc(out, '/');
	sb_adds(out, base);
done:
	sb_free(&lex);
	sb_free(&dir);
}

static const struct ovl *
ovl_find(const struct loader *L, const char *key)
{
	size_t i;

	/* the last entry for a path wins */
	for (i = L->novl; i > 0; i--)
		if (strcmp(L->ovl[i - 1].path, key) == 0)
			return &L->ovl[i - 1];
	return NULL;
}

/*
 * Resolve an include path (relative to base) into out, the path shown in
 * messages and read; *ov is its overlay entry if any.
 */
static void
inc_resolve(struct loader *L, const char *base, const char *rel,
    struct strbuf *out, const struct ovl **ov)
{
	struct strbuf full;

	sb_init(&full, PATH_CAP);
	path_join(&full, base, rel);
	*ov = NULL;
	if (sb_ok(&full)) {
		path_key(L, out, full.buf);
		if (sb_ok(out) && (*ov = ovl_find(L, out->buf)) == NULL &&
		    !L->nofs) {
			path_resolve_fs(out, full.buf);
			if (sb_ok(out))
				*ov = ovl_find(L, out->buf);
		}
	} else {
		sb_reset(out);
		sb_adds(out, rel);
	}
	sb_free(&full);
}

/* Is there an overlay file below dir? */
static int
ovl_has_below(const struct loader *L, const char *dir)
{
	size_t i, n = strlen(dir);

	for (i = 0; i < L->novl; i++)
		if (L->ovl[i].content != NULL &&
		    strncmp(L->ovl[i].path, dir, n) == 0 &&
		    L->ovl[i].path[n] == '/' &&
		    ovl_find(L, L->ovl[i].path) == &L->ovl[i])
			return 1;
	return 0;
}

static int
vfs_is_dir(struct loader *L, const char *path)
{
	struct stat st;

	if (ovl_has_below(L, path))
		return 1;
	if (L->nofs)
		return strcmp(path, L->p->dir) == 0;
	stamp(L, path);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* 1 file, 0 not a file, -1 removed by the overlay */
static int
vfs_is_file(struct loader *L, const char *path, const struct ovl *ov)
{
	struct stat st;

	if (ov != NULL)
		return ov->content != NULL ? 1 : -1;
	if (L->nofs)
		return 0;
	stamp(L, path);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * Read a file's bytes (malloc'd, NUL-terminated) under the size limits.
 * 0, or -1 with errno (EFBIG: over a limit).
 */
static int
vfs_read(struct loader *L, const char *path, const struct ovl *ov,
    char **buf, size_t *len)
{
	struct stat st;
	int fd, e;

	*buf = NULL;
	*len = 0;
	if (ov != NULL && ov->content != NULL) {
		if (ov->len > POLICY_MAX_FILE_SIZE) {
			errno = EFBIG;
			return -1;
		}
		if ((*buf = malloc(ov->len + 1)) == NULL)
			return -1;
		memcpy(*buf, ov->content, ov->len);
		(*buf)[ov->len] = '\0';
		*len = ov->len;
	} else {
		if (L->nofs || ov != NULL) {
			errno = ENOENT;
			return -1;
		}
		stamp(L, path);
		/* O_NONBLOCK: a FIFO swapped in must not hang the loader */
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			return -1;
		if (fstat(fd, &st) < 0)
			e = errno;
		else if (S_ISDIR(st.st_mode))
			e = EISDIR;
		else if (!S_ISREG(st.st_mode))
			e = EINVAL;
		else if (st.st_size > (off_t)POLICY_MAX_FILE_SIZE)
			e = EFBIG;
		else if (read_all_bounded(fd, POLICY_MAX_FILE_SIZE, buf,
		    len) < 0)
			e = errno == E2BIG ? EFBIG : errno;
		else
			e = 0;
		close(fd);
		if (e != 0) {
			errno = e;
			return -1;
		}
	}
	if (*len > POLICY_MAX_TOTAL_SIZE - L->total) {
		free(*buf);
		*buf = NULL;
		errno = EFBIG;
		return -1;
	}
	L->total += *len;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Directory listing (1.1) */

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct namelist {
	char	**v;
	size_t	  n;
	size_t	  alloc;
};

static void
namelist_free(struct namelist *nl)
{
	size_t i;

	for (i = 0; i < nl->n; i++)
		free(nl->v[i]);
	free(nl->v);
	nl->v = NULL;
	nl->n = nl->alloc = 0;
}

static int
namelist_has(const struct namelist *nl, const char *name)
{
	size_t i;

	for (i = 0; i < nl->n; i++)
		if (strcmp(nl->v[i], name) == 0)
			return 1;
	return 0;
}

static int
namelist_add(struct namelist *nl, const char *name)
{
	char **nv;
	size_t alloc;

	if (nl->n == nl->alloc) {
		alloc = nl->alloc ? nl->alloc * 2 : 16;
		nv = realloc(nl->v, alloc * sizeof(*nv));
		if (nv == NULL)
			return -1;
		nl->v = nv;
		nl->alloc = alloc;
	}
	if ((nl->v[nl->n] = strdup(name)) == NULL)
		return -1;
	nl->n++;
	return 0;
}

/* Name of a file directly in dir, if key is one. */
static const char *
ovl_child(const char *key, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		n = 0;
	if (strncmp(key, dir, n) != 0 || key[n] != '/' ||
	    strchr(key + n + 1, '/') != NULL || key[n + 1] == '\0')
		return NULL;
	return key + n + 1;
}

/*
 * List the regular files of dir (after symlinks) with the overlay
 * applied, unsorted.  0, or -1 with errno (opendir) / ENOMEM / E2BIG.
 */
static int
vfs_list(struct loader *L, const char *dir, struct namelist *out)
{
	struct strbuf path;
	struct dirent *de;
	const struct ovl *ov;
	const char *name;
	struct stat st;
	DIR *d;
	size_t i;
	int rc = -1;

	sb_init(&path, PATH_CAP);
	memset(out, 0, sizeof(*out));
	if (!L->nofs) {
		stamp(L, dir);
		if ((d = opendir(dir)) == NULL) {
			if (!ovl_has_below(L, dir))
				goto done;
		} else {
			while ((errno = 0, de = readdir(d)) != NULL) {
				if (strcmp(de->d_name, ".") == 0 ||
				    strcmp(de->d_name, "..") == 0)
					continue;
				if (out->n >= POLICY_MAX_DIR_ENTRIES) {
					closedir(d);
					errno = E2BIG;
					goto done;
				}
				path_join(&path, strcmp(dir, "/") ? dir : "",
				    de->d_name);
				if (!sb_ok(&path))
					continue;
				ov = ovl_find(L, path.buf);
				if (ov != NULL ? ov->content == NULL :
				    stat(path.buf, &st) < 0 ||
				    !S_ISREG(st.st_mode))
					continue;
				if (namelist_add(out, de->d_name) < 0) {
					closedir(d);
					goto done;
				}
			}
			closedir(d);
		}
	}
	for (i = 0; i < L->novl; i++) {
		if (L->ovl[i].content == NULL ||
		    ovl_find(L, L->ovl[i].path) != &L->ovl[i] ||
		    (name = ovl_child(L->ovl[i].path, dir)) == NULL ||
		    namelist_has(out, name))
			continue;
		if (out->n >= POLICY_MAX_DIR_ENTRIES) {
			errno = E2BIG;
			goto done;
		}
		if (namelist_add(out, name) < 0)
			goto done;
	}
	rc = 0;
done:
	if (rc < 0 && errno == 0)
		errno = ENOMEM;
	sb_free(&path);
	return rc;
}

/* filter_filepaths(): suffix .policy, no leading dot, then the charset. */
static int
policy_name_kept(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 7 && strcmp(name + n - 7, ".policy") == 0;
}

static int
policy_name_ok(const char *name)
{
	const char *c;

	for (c = name; *c != '\0'; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
		    *c == '_' || *c == '.' || *c == '-'))
			return 0;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Rules */

static int
rpc_char(uint32_t c, int plus)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    (plus && c == '+');
}

static int
cp_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * get_invalid_characters(): the sorted set of code points outside the
 * charset, as a Python tuple repr.  Returns 1 if there were any.
 */
static int
invalid_chars(struct strbuf *sb, struct span s, int plus)
{
	const unsigned char *u = (const unsigned char *)s.p;
	uint32_t *cps, c;
	size_t i, l, n = 0, k;
	char raw[4];

	cps = malloc((s.n + 1) * sizeof(*cps));
	if (cps == NULL) {
		sb->err = ENOMEM;
		return 1;
	}
	for (i = 0; i < s.n; i += l) {
		l = u8_dec(u + i, s.n - i, &c);
		if (l == 0) {
			c = u[i];
			l = 1;
		}
		if (!rpc_char(c, plus))
			cps[n++] = c;
	}
	if (n == 0) {
		free(cps);
		return 0;
	}
	qsort(cps, n, sizeof(*cps), cp_cmp);
	sb_addc(sb, '(');
	for (i = k = 0; i < n; i++) {
		if (i > 0 && cps[i] == cps[i - 1])
			continue;
		if (k++ > 0)
			sb_adds(sb, ", ");
		/* re-encode the code point for repr */
		c = cps[i];
		if (c < 0x80) {
			raw[0] = (char)c;
			l = 1;
		} else if (c < 0x800) {
			raw[0] = (char)(0xc0 | (c >> 6));
			raw[1] = (char)(0x80 | (c & 0x3f));
			l = 2;
		} else if (c < 0x10000) {
			raw[0] = (char)(0xe0 | (c >> 12));
			raw[1] = (char)(0x80 | ((c >> 6) & 0x3f));
			raw[2] = (char)(0x80 | (c & 0x3f));
			l = 3;
		} else {
			raw[0] = (char)(0xf0 | (c >> 18));
			raw[1] = (char)(0x80 | ((c >> 12) & 0x3f));
			raw[2] = (char)(0x80 | ((c >> 6) & 0x3f));
			raw[3] = (char)(0x80 | (c & 0x3f));
			l = 4;
		}
		policy_pyrepr(sb, raw, l);
	}
	if (k == 1)
		sb_addc(sb, ',');
	sb_addc(sb, ')');
	free(cps);
	return 1;
}

/* validate_service_and_argument(); 0, or -1 with the message in err. */
static int
check_svc_arg(struct span svc, struct span arg, struct strbuf *err)
{
	struct strbuf chars;
	int any_svc = span_eq(svc, "*"), rc = -1;

	sb_init(&chars, 2 * MSG_MAX);
	if (!any_svc && invalid_chars(&chars, svc, 0)) {
		sb_adds(err, "service ");
		policy_pyrepr(err, svc.p, svc.n);
		sb_adds(err, " contains invalid characters: ");
		sb_add(err, chars.buf ? chars.buf : "", chars.len);
		goto done;
	}
	if (!span_eq(arg, "*")) {
		if (invalid_chars(&chars, arg, 1)) {
			sb_adds(err, "argument ");
			policy_pyrepr(err, arg.p, arg.n);
			sb_adds(err, " contains invalid characters: ");
			sb_add(err, chars.buf ? chars.buf : "", chars.len);
			goto done;
		}
		if (arg.n == 0 || arg.p[0] != '+') {
			sb_adds(err, "argument ");
			policy_pyrepr(err, arg.p, arg.n);
			sb_adds(err, " does not start with +");
			goto done;
		}
		if (any_svc) {
			sb_adds(err, "only * argument allowed for * service");
			goto done;
		}
	}
	rc = 0;
done:
	if (!sb_ok(&chars))
		err->err = chars.err;
	sb_free(&chars);
	return rc;
}

static void
rule_clear(struct policy_rule *r)
{
	free(r->service);
	free(r->argument);
	ptok_free(&r->source);
	ptok_free(&r->target);
	ptok_free(&r->redirect);
	ptok_free(&r->default_target);
	free(r->user);
	memset(r, 0, sizeof(*r));
}

struct param {
	struct span	 key;
	struct span	 value;
	size_t		 idx;
	int		 has_eq;
};

static int
param_key_cmp(const void *a, const void *b)
{
	const struct param *x = a, *y = b;
	size_t n = x->key.n < y->key.n ? x->key.n : y->key.n;
	int c;

	/* options without '=' have no key (NULL, 0) */
	c = n > 0 ? memcmp(x->key.p, y->key.p, n) : 0;
	if (c != 0)
		return c;
	if (x->key.n != y->key.n)
		return x->key.n < y->key.n ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static const char *const action_class[] = {
	[POLICY_DENY] = "Deny",
	[POLICY_ALLOW] = "Allow",
	[POLICY_ASK] = "Ask",
};

static int
key_allowed(enum policy_action a, struct span k)
{
	if (span_eq(k, "notify"))
		return 1;
	if (a == POLICY_DENY)
		return 0;
	if (span_eq(k, "target") || span_eq(k, "user") ||
	    span_eq(k, "autostart"))
		return 1;
	return a == POLICY_ASK && span_eq(k, "default_target");
}

static int
has_nul(const char *s, size_t n)
{
	return n > 0 && memchr(s, '\0', n) != NULL;
}

/*
 * Check the options (f[0..n)) of a rule: Rule.__init__ from the option
 * loop to the end.  Fills r; 0 or -1 with the message in err.
 */
static int
rule_options(struct policy_rule *r, const struct span *f, size_t n,
    struct strbuf *err)
{
	struct param *ps = NULL, *sorted = NULL;
	const struct param *notify = NULL, *autostart = NULL, *target = NULL;
	const struct param *deftarget = NULL, *user = NULL;
	size_t i, first_bad = n;
	const char *eq;
	int rc = -1;

	r->notify = r->action == POLICY_DENY;
	r->autostart = 1;
	if (n == 0)
		return 0;
	ps = calloc(n, sizeof(*ps));
	sorted = calloc(n, sizeof(*sorted));
	if (ps == NULL || sorted == NULL) {
		err->err = ENOMEM;
		goto done;
	}
	for (i = 0; i < n; i++) {
		ps[i].idx = i;
		eq = memchr(f[i].p, '=', f[i].n);
		ps[i].has_eq = eq != NULL;
		if (eq == NULL) {
			if (i < first_bad)
				first_bad = i;
			continue;
		}
		ps[i].key.p = f[i].p;
		ps[i].key.n = (size_t)(eq - f[i].p);
		ps[i].value.p = eq + 1;
		ps[i].value.n = f[i].n - ps[i].key.n - 1;
	}
	/* first repeated key, in line order (sorting keeps it O(n log n)) */
	memcpy(sorted, ps, n * sizeof(*ps));
	qsort(sorted, n, sizeof(*sorted), param_key_cmp);
	for (i = 1; i < n; i++) {
		if (!sorted[i].has_eq || !sorted[i - 1].has_eq ||
		    sorted[i].key.n != sorted[i - 1].key.n ||
		    memcmp(sorted[i].key.p, sorted[i - 1].key.p,
		    sorted[i].key.n) != 0)
			continue;
		if (sorted[i].idx < first_bad)
			first_bad = sorted[i].idx;
	}
	if (first_bad < n) {
		if (!ps[first_bad].has_eq) {
			sb_adds(err, "invalid action parameter syntax: ");
			policy_pyrepr(err, f[first_bad].p, f[first_bad].n);
		} else {
			sb_adds(err, "parameter given twice: ");
			policy_pyrepr(err, ps[first_bad].key.p,
			    ps[first_bad].key.n);
		}
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (span_eq(ps[i].key, "notify"))
			notify = &ps[i];
		else if (span_eq(ps[i].key, "autostart"))
			autostart = &ps[i];
		else if (span_eq(ps[i].key, "target"))
			target = &ps[i];
		else if (span_eq(ps[i].key, "default_target"))
			deftarget = &ps[i];
		else if (span_eq(ps[i].key, "user"))
			user = &ps[i];
	}
	/* boolean parameters, notify first */
	if (notify != NULL && !span_eq(notify->value, "yes") &&
	    !span_eq(notify->value, "no")) {
		sb_adds(err, "'notify' is ");
		policy_pyrepr(err, notify->value.p, notify->value.n);
		sb_adds(err, ", but can be only 'yes' or 'no'");
		goto done;
	}
	if (autostart != NULL && !span_eq(autostart->value, "yes") &&
	    !span_eq(autostart->value, "no")) {
		sb_adds(err, "'autostart' is ");
		policy_pyrepr(err, autostart->value.p, autostart->value.n);
		sb_adds(err, ", but can be only 'yes' or 'no'");
		goto done;
	}
	for (i = 0; i < n; i++)
		if (!key_allowed(r->action, ps[i].key))
			break;
	if (i < n) {
		sb_addf(err, "invalid parameters for action %s: [",
		    action_class[r->action]);
		for (i = 0; i < n; i++) {
			if (i > 0)
				sb_adds(err, ", ");
			policy_pyrepr(err, f[i].p, f[i].n);
		}
		sb_addc(err, ']');
		goto done;
	}
	if (target != NULL) {
		if (ptok_parse(target->value.p, target->value.n,
		    PCTX_REDIRECT, &r->redirect, err) < 0)
			goto fail_errno;
		r->has_redirect = 1;
	}
	if (deftarget != NULL) {
		if (ptok_parse(deftarget->value.p, deftarget->value.n,
		    PCTX_REDIRECT, &r->default_target, err) < 0)
			goto fail_errno;
		r->has_default = 1;
	}
	/* a NUL cannot be kept in a C string: refuse it (not in Python) */
	for (i = 0; i < n; i++) {
		if (has_nul(ps[i].value.p, ps[i].value.n)) {
			sb_adds(err, "NUL byte in option: ");
			policy_pyrepr(err, f[i].p, f[i].n);
			goto done;
		}
	}
	if (user != NULL) {
		if ((r->user = span_dup(user->value)) == NULL) {
			err->err = ENOMEM;
			goto done;
		}
	}
	if (notify != NULL)
		r->notify = span_eq(notify->value, "yes");
	if (autostart != NULL)
		r->autostart = span_eq(autostart->value, "yes");
	rc = 0;
	goto done;
fail_errno:
	if (errno == ENOMEM)
		err->err = ENOMEM;
done:
	free(ps);
	free(sorted);
	return rc;
}

static void
rule_append(struct loader *L, struct policy_rule *r, const char *path,
    unsigned line)
{
	struct policy *p = L->p;
	struct policy_rule *nr;
	size_t alloc;

	if (p->nrules >= POLICY_MAX_RULES) {
		if (!L->rules_full)
			perr(L, path, line, "too many rules (limit %u)",
			    POLICY_MAX_RULES);
		L->rules_full = 1;
		rule_clear(r);
		return;
	}
	if (p->nrules == p->arules) {
		alloc = p->arules ? p->arules * 2 : 64;
		nr = realloc(p->rules, alloc * sizeof(*nr));
		if (nr == NULL) {
			L->oom = 1;
			rule_clear(r);
			return;
		}
		p->rules = nr;
		p->arules = alloc;
	}
	p->rules[p->nrules++] = *r;
	memset(r, 0, sizeof(*r));
}

/*
 * Build one rule from SERVICE ARGUMENT and f = SOURCE TARGET ACTION
 * [OPTION...] (n >= 3), with the checks of policy.md 6 in order.
 */
static void
rule_build(struct loader *L, const char *path, unsigned line,
    struct span svc, struct span arg, const struct span *f, size_t n)
{
	struct policy_rule r;
	struct strbuf err;
	const char *ipath;
	size_t i;

	memset(&r, 0, sizeof(r));
	sb_init(&err, 4 * MSG_MAX + 1024);
	if (check_svc_arg(svc, arg, &err) < 0)
		goto bad;
	if (ptok_parse(f[0].p, f[0].n, PCTX_SOURCE, &r.source, &err) < 0 ||
	    ptok_parse(f[1].p, f[1].n, PCTX_TARGET, &r.target, &err) < 0) {
		if (errno == ENOMEM)
			err.err = ENOMEM;
		goto bad;
	}
	if (span_eq(f[2], "allow"))
		r.action = POLICY_ALLOW;
	else if (span_eq(f[2], "deny"))
		r.action = POLICY_DENY;
	else if (span_eq(f[2], "ask"))
		r.action = POLICY_ASK;
	else {
		sb_adds(&err, "invalid action: ");
		sb_add(&err, f[2].p, f[2].n);
		goto bad;
	}
	if (rule_options(&r, f + 3, n - 3, &err) < 0)
		goto bad;
	if (r.target.kind == PTOK_DEFAULT && r.action == POLICY_ALLOW &&
	    !r.has_redirect) {
		sb_adds(&err, "allow action for @default rule must specify "
		    "target= option");
		goto bad;
	}
	/* a NUL cannot be kept in a C string: refuse it (not in Python) */
	for (i = 0; i < 2; i++) {
		if (has_nul(f[i].p, f[i].n)) {
			sb_adds(&err, "NUL byte in token: ");
			policy_pyrepr(&err, f[i].p, f[i].n);
			goto bad;
		}
	}
	r.any_service = span_eq(svc, "*");
	r.any_argument = span_eq(arg, "*");
	r.service = span_dup(svc);
	r.argument = span_dup(arg);
	ipath = intern_path(L, path);
	if (r.service == NULL || r.argument == NULL || ipath == NULL) {
		L->oom = 1;
		goto out;
	}
	r.path = ipath;
	r.line = line;
	rule_append(L, &r, path, line);
	goto out;
bad:
	perr_sb(L, path, line, &err);
out:
	rule_clear(&r);
	sb_free(&err);
}

/* ------------------------------------------------------------------ */
/* Files and directives */

/* Split at runs of whitespace into L->fields; the count, or -1 (ENOMEM). */
static long
split_fields(struct loader *L, const char *s, size_t n)
{
	size_t i = 0, l, nf = 0, start, need = n / 2 + 2;
	struct span *nfld;

	if (need > L->afields) {
		nfld = realloc(L->fields, need * sizeof(*nfld));
		if (nfld == NULL) {
			L->oom = 1;
			return -1;
		}
		L->fields = nfld;
		L->afields = need;
	}
	while (i < n) {
		while (i < n && (l = ws_at(s + i, n - i)) != 0)
			i += l;
		if (i >= n)
			break;
		start = i;
		while (i < n && ws_at(s + i, n - i) == 0)
			i++;
		L->fields[nf].p = s + start;
		L->fields[nf].n = i - start;
		nf++;
	}
	return (long)nf;
}

/* str.strip() */
static struct span
strip(const char *s, size_t n)
{
	struct span r;
	size_t i = 0, l, end = 0;

	r.p = s;
	r.n = 0;
	while (i < n && (l = ws_at(s + i, n - i)) != 0)
		i += l;
	r.p = s + i;
	end = i;
	while (i < n) {
		l = ws_at(s + i, n - i);
		if (l != 0) {
			i += l;
			continue;
		}
		i++;
		end = i;
	}
	r.n = end - (size_t)(r.p - s);
	return r;
}

/* Include-file gate: depth, cycles, file count.  0 to go on. */
static int
enter_file(struct loader *L, const char *path, const char *from,
    unsigned line)
{
	size_t i;

	for (i = 0; i < L->depth; i++) {
		if (strcmp(L->stack[i], path) == 0) {
			perr(L, from, line, "include loop: %s", path);
			return -1;
		}
	}
	if (L->depth >= POLICY_MAX_DEPTH) {
		perr(L, from, line, "includes nested too deeply (limit %u): %s",
		    POLICY_MAX_DEPTH, path);
		return -1;
	}
	if (L->nfiles >= POLICY_MAX_FILES) {
		if (!L->files_full)
			perr(L, from, line, "too many files parsed (limit %u)",
			    POLICY_MAX_FILES);
		L->files_full = 1;
		return -1;
	}
	L->nfiles++;
	return 0;
}

/* Read and parse one file; errors for the includer at from:line. */
static void
load_file(struct loader *L, const char *path, const struct ovl *ov,
    const char *from, unsigned line, const struct svcctx *svc)
{
	const char *ipath;
	char *buf;
	size_t len;

	if (enter_file(L, path, from, line) < 0)
		return;
	if (vfs_read(L, path, ov, &buf, &len) < 0) {
		if (errno == ENOMEM)
			L->oom = 1;
		else if (errno == EFBIG)
			perr(L, NULL, 0, "failed to load %s file: over the "
			    "size limit (%u bytes per file, %u in all)", path,
			    POLICY_MAX_FILE_SIZE, POLICY_MAX_TOTAL_SIZE);
		else
			perr_os(L, path, errno);
		return;
	}
	ipath = intern_path(L, path);
	if (ipath != NULL)
		parse_content(L, ipath, buf, len, svc);
	free(buf);
}

/* Base directory of relative include paths (2.2, 2.4). */
static const char *
inc_base(const struct loader *L)
{
	return L->legacy ? L->legacy_dir : L->p->dir;
}

static int
span_cstr(struct span s, char *buf, size_t size)
{
	if (s.n >= size || has_nul(s.p, s.n))
		return -1;
	memcpy(buf, s.p, s.n);
	buf[s.n] = '\0';
	return 0;
}

/* !include / !include-service (and $include: in service form) */
static void
do_include(struct loader *L, const char *from, unsigned line,
    struct span rel, const struct svcctx *svc)
{
	char relbuf[PATH_MAX];
	struct strbuf path;
	const struct ovl *ov;
	int f;

	sb_init(&path, PATH_CAP);
	if (span_cstr(rel, relbuf, sizeof(relbuf)) < 0) {
		sb_adds(&path, "not a file: ");
		sb_add(&path, rel.p, rel.n);
		perr_sb(L, from, line, &path);
		goto done;
	}
	inc_resolve(L, inc_base(L), relbuf, &path, &ov);
	if (!sb_ok(&path)) {
		perr(L, from, line, "not a file: %s", relbuf);
		goto done;
	}
	f = vfs_is_file(L, path.buf, ov);
	if (f < 0)
		perr(L, from, line, "including a file that will be removed: %s",
		    path.buf);
	else if (f == 0)
		perr(L, from, line, "not a file: %s", path.buf);
	else
		load_file(L, path.buf, ov, from, line, svc);
done:
	sb_free(&path);
}

static void
do_include_dir(struct loader *L, const char *from, unsigned line,
    struct span rel)
{
	char relbuf[PATH_MAX];
	struct strbuf path;
	const struct ovl *ov;

	sb_init(&path, PATH_CAP);
	if (span_cstr(rel, relbuf, sizeof(relbuf)) < 0) {
		sb_adds(&path, "not a directory: ");
		sb_add(&path, rel.p, rel.n);
		perr_sb(L, from, line, &path);
		goto done;
	}
	inc_resolve(L, inc_base(L), relbuf, &path, &ov);
	if (!sb_ok(&path) || ov != NULL || !vfs_is_dir(L, path.buf))
		perr(L, from, line, "not a directory: %s",
		    sb_ok(&path) ? path.buf : relbuf);
	else
		load_dir(L, path.buf, from, line);
done:
	sb_free(&path);
}

struct legacy_file {
	char	*name;
	char	*service;
	char	*argument;	/* "*" or "+..." */
};

static int
legacy_cmp(const void *a, const void *b)
{
	const struct legacy_file *x = a, *y = b;
	int c, xs, ys;

	c = strcmp(x->service, y->service);
	if (c != 0)
		return c;
	xs = strcmp(x->argument, "*") == 0;
	ys = strcmp(y->argument, "*") == 0;
	if (xs != ys)
		return xs - ys;		/* the generic file last */
	return strcmp(x->argument, y->argument);
}

static int
legacy_name_ok(const char *name)
{
	static const char *const skip[] = { ".rpmsave", ".rpmnew", ".swp" };
	size_t i, n = strlen(name), l;
	const char *c;

	if (name[0] == '.')
		return 0;
	for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++) {
		l = strlen(skip[i]);
		if (n >= l && strcmp(name + n - l, skip[i]) == 0)
			return 0;
	}
	for (c = name; *c != '\0'; c++)
		if (!rpc_char((unsigned char)*c, 1))
			return 0;
	return 1;
}

/* !compat-4.0 (2.4) */
static void
do_compat(struct loader *L, const char *from, unsigned line)
{
	static const char *const deny1[] = { "@anyvm", "@anyvm", "deny" };
	static const char *const deny2[] = { "@anyvm", "@adminvm", "deny" };
	struct legacy_file *lf = NULL;
	struct namelist names;
	struct strbuf full, path;
	struct svcctx ctx;
	const struct ovl *ov;
	struct span f[3];
	size_t i, j, nlf = 0;
	char *plus;
	int f_ok, saved;

	sb_init(&full, PATH_CAP);
	sb_init(&path, PATH_CAP);
	memset(&names, 0, sizeof(names));
	sb_adds(&full, L->legacy_dir);
	if (!sb_ok(&full))
		goto done;
	/* a missing legacy directory counts as empty (documented) */
	if (!vfs_is_dir(L, full.buf)) {
		stamp(L, full.buf);
		goto done;
	}
	if (vfs_list(L, full.buf, &names) < 0) {
		if (errno == ENOMEM)
			L->oom = 1;
		else
			perr_os(L, full.buf, errno);
		goto done;
	}
	lf = calloc(names.n + 1, sizeof(*lf));
	if (lf == NULL) {
		L->oom = 1;
		goto done;
	}
	for (i = 0; i < names.n; i++) {
		if (!legacy_name_ok(names.v[i]))
			continue;
		lf[nlf].name = names.v[i];
		plus = strchr(names.v[i], '+');
		if (plus != NULL) {
			lf[nlf].service = strndup(names.v[i],
			    (size_t)(plus - names.v[i]));
			lf[nlf].argument = strdup(plus);
		} else {
			lf[nlf].service = strdup(names.v[i]);
			lf[nlf].argument = strdup("*");
		}
		if (lf[nlf].service == NULL || lf[nlf].argument == NULL) {
			free(lf[nlf].service);
			free(lf[nlf].argument);
			L->oom = 1;
			goto done;
		}
		nlf++;
	}
	qsort(lf, nlf, sizeof(*lf), legacy_cmp);
	for (i = 0; i < nlf && !L->oom; i++) {
		ctx.service.p = lf[i].service;
		ctx.service.n = strlen(lf[i].service);
		ctx.argument.p = lf[i].argument;
		ctx.argument.n = strlen(lf[i].argument);
		sb_reset(&path);
		if (check_svc_arg(ctx.service, ctx.argument, &path) < 0) {
			perr_sb(L, from, line, &path);
			continue;
		}
		inc_resolve(L, full.buf, lf[i].name, &path, &ov);
		if (!sb_ok(&path))
			continue;
		f_ok = vfs_is_file(L, path.buf, ov);
		if (f_ok <= 0) {
			perr(L, from, line, f_ok < 0 ? "including a file that "
			    "will be removed: %s" : "not a file: %s", path.buf);
			continue;
		}
		saved = L->legacy;
		L->legacy = 1;
		load_file(L, path.buf, ov, from, line, &ctx);
		L->legacy = saved;
		if (strcmp(lf[i].argument, "*") == 0)
			continue;
		/* the implicit "no fall-through" of 4.0 */
		for (j = 0; j < 3; j++) {
			f[j].p = deny1[j];
			f[j].n = strlen(deny1[j]);
		}
		rule_build(L, path.buf, 0, ctx.service, ctx.argument, f, 3);
		for (j = 0; j < 3; j++) {
			f[j].p = deny2[j];
			f[j].n = strlen(deny2[j]);
		}
		rule_build(L, path.buf, 0, ctx.service, ctx.argument, f, 3);
	}
done:
	if (lf != NULL) {
		for (i = 0; i < nlf; i++) {
			free(lf[i].service);
			free(lf[i].argument);
		}
		free(lf);
	}
	namelist_free(&names);
	sb_free(&full);
	sb_free(&path);
}

/* A directive line of a full-form file (2.2). */
static void
directive_full(struct loader *L, const char *path, unsigned line,
    const struct span *f, size_t nf)
{
	struct strbuf err;
	struct svcctx ctx;

	if (span_eq(f[0], "!include")) {
		if (nf != 2)
			perr(L, path, line, "invalid number of params");
		else
			do_include(L, path, line, f[1], NULL);
	} else if (span_eq(f[0], "!include-dir")) {
		if (nf != 2)
			perr(L, path, line, "invalid number of params");
		else
			do_include_dir(L, path, line, f[1]);
	} else if (span_eq(f[0], "!include-service")) {
		if (nf != 4) {
			perr(L, path, line, "invalid number of params");
			return;
		}
		sb_init(&err, 4 * MSG_MAX);
		if (check_svc_arg(f[1], f[2], &err) < 0)
			perr_sb(L, path, line, &err);
		else {
			ctx.service = f[1];
			ctx.argument = f[2];
			do_include(L, path, line, f[3], &ctx);
		}
		sb_free(&err);
	} else if (span_eq(f[0], "!compat-4.0")) {
		if (nf != 1)
			perr(L, path, line, "invalid number of params");
		else if (L->legacy)
			perr(L, path, line, "!compat-4.0 is not recursive");
		else
			do_compat(L, path, line);
	} else
		perr(L, path, line, "invalid directive");
}

/* Service form preprocessing (2.3): $include:, $ -> @, ',' -> ' '. */
static void
service_rewrite(struct strbuf *out, struct span s)
{
	size_t i;

	sb_reset(out);
	for (i = 0; i < s.n; i++) {
		if (s.n - i >= 9 && memcmp(s.p + i, "$include:", 9) == 0) {
			sb_adds(out, "!include ");
			i += 8;
		} else if (s.p[i] == '$')
			sb_addc(out, '@');
		else if (s.p[i] == ',')
			sb_addc(out, ' ');
		else
			sb_addc(out, s.p[i]);
	}
}

/* One stripped, non-empty, non-comment line. */
static void
parse_line(struct loader *L, const char *path, unsigned line,
    struct span s, const struct svcctx *svc, struct strbuf *tmp)
{
	struct span sv, ar;
	long nf;

	if (svc != NULL) {
		service_rewrite(tmp, s);
		if (!sb_ok(tmp)) {
			L->oom = 1;
			return;
		}
		s.p = tmp->buf;
		s.n = tmp->len;
	}
	nf = split_fields(L, s.p, s.n);
	if (nf < 0)
		return;
	if (s.p[0] == '!') {
		if (svc == NULL) {
			directive_full(L, path, line, L->fields, (size_t)nf);
		} else if (nf > 0 && span_eq(L->fields[0], "!include")) {
			if (nf != 2)
				perr(L, path, line, "invalid number of params");
			else
				do_include(L, path, line, L->fields[1], svc);
		} else if (L->legacy && nf > 0 &&
		    span_eq(L->fields[0], "!compat-4.0"))
			perr(L, path, line, "!compat-4.0 is not recursive");
		else
			perr(L, path, line, "invalid directive");
		return;
	}
	if (svc == NULL) {
		if (nf < 5) {
			perr(L, path, line, "wrong number of fields");
			return;
		}
		sv = L->fields[0];
		ar = L->fields[1];
		rule_build(L, path, line, sv, ar, L->fields + 2,
		    (size_t)nf - 2);
	} else {
		if (nf < 3) {
			perr(L, path, line, "wrong number of fields");
			return;
		}
		rule_build(L, path, line, svc->service, svc->argument,
		    L->fields, (size_t)nf);
	}
}

/* Offset of the first invalid UTF-8 byte, or n. */
static size_t
u8_check(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, l;
	uint32_t c;

	while (i < n) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		l = u8_dec(u + i, n - i, &c);
		if (l == 0)
			return i;
		i += l;
	}
	return n;
}

size_t
policy_utf8_prefix(const void *buf, size_t len)
{
	return buf != NULL ? u8_check(buf, len) : 0;
}

static void
parse_content(struct loader *L, const char *path, const char *buf,
    size_t len, const struct svcctx *svc)
{
	struct strbuf tmp;
	struct span s;
	size_t pos = 0, eol, bad, i;
	unsigned line = 0;

	bad = u8_check(buf, len);
	if (bad < len) {
		for (i = 0, line = 1; i < bad; i++)
			if (buf[i] == '\n' || (buf[i] == '\r' &&
			    (i + 1 >= len || buf[i + 1] != '\n')))
				line++;
		perr(L, path, line, "invalid UTF-8 (byte 0x%02x)",
		    (unsigned char)buf[bad]);
		return;
	}
	L->stack[L->depth++] = path;
	sb_init(&tmp, POLICY_MAX_LINE * 2);
	while (pos < len && !L->oom) {
		for (eol = pos; eol < len && buf[eol] != '\n' &&
		    buf[eol] != '\r'; eol++)
			;
		line++;
		s.p = buf + pos;
		s.n = eol - pos;
		/* \n, \r\n or a lone \r ends a line */
		pos = eol;
		if (pos < len && buf[pos] == '\r')
			pos++;
		if (pos < len && buf[pos] == '\n')
			pos++;
		if (s.n > POLICY_MAX_LINE) {
			perr(L, path, line, "line too long (limit %u bytes)",
			    POLICY_MAX_LINE);
			continue;
		}
		s = strip(s.p, s.n);
		if (s.n == 0 || s.p[0] == '#')
			continue;
		parse_line(L, path, line, s, svc, &tmp);
	}
	sb_free(&tmp);
	L->depth--;
}

/* A directory like POLICY_DIR (1.1): main one or !include-dir. */
static void
load_dir(struct loader *L, const char *dir, const char *from, unsigned line)
{
	struct namelist names;
	struct strbuf path;
	const struct ovl *ov;
	size_t i, kept = 0;

	sb_init(&path, PATH_CAP);
	if (vfs_list(L, dir, &names) < 0) {
		if (errno == ENOMEM)
			L->oom = 1;
		else if (errno == E2BIG)
			perr(L, NULL, 0, "failed to load %s file: more than %u "
			    "entries", dir, POLICY_MAX_DIR_ENTRIES);
		else
			perr_os(L, dir, errno);
		goto done;
	}
	for (i = 0; i < names.n; i++) {
		if (!policy_name_kept(names.v[i])) {
			free(names.v[i]);
			continue;
		}
		names.v[kept++] = names.v[i];
	}
	names.n = kept;
	/* all or nothing: any bad name refuses the whole policy */
	for (i = 0; i < names.n; i++)
		if (!policy_name_ok(names.v[i]))
			perr(L, NULL, 0, "invalid filename: %s%s%s",
			    strcmp(dir, "/") ? dir : "", "/", names.v[i]);
	if (names.n > 0)
		qsort(names.v, names.n, sizeof(*names.v), name_cmp);
	for (i = 0; i < names.n && !L->oom; i++) {
		if (!policy_name_ok(names.v[i]))
			continue;
		path_join(&path, strcmp(dir, "/") ? dir : "", names.v[i]);
		if (!sb_ok(&path))
			continue;
		ov = ovl_find(L, path.buf);
		load_file(L, path.buf, ov, from, line, NULL);
	}
done:
	namelist_free(&names);
	sb_free(&path);
}

/* ------------------------------------------------------------------ */
/* Entry points */

/* An absolute, normalised directory path (realpath when it exists). */
static char *
abs_dir(const struct loader *L, const char *dir)
{
	struct strbuf sb, full;
	char *real;

	if (!L->nofs && (real = realpath(dir, NULL)) != NULL)
		return real;
	sb_init(&sb, PATH_CAP);
	sb_init(&full, PATH_CAP);
	if (dir[0] != '/') {
		if (!L->nofs && (real = getcwd(NULL, 0)) != NULL) {
			sb_adds(&full, real);
			free(real);
		}
		sb_addc(&full, '/');
	}
	sb_adds(&full, dir);
	if (sb_ok(&full))
		path_lexical(&sb, full.buf);
	sb_free(&full);
	if (!sb_ok(&sb)) {
		sb_free(&sb);
		return NULL;
	}
	return sb_steal(&sb);
}

static struct policy *
loader_init(struct loader *L, const struct policy_load_opts *opts)
{
	struct strbuf sb, full;
	const char *dir, *legacy;
	size_t i;

	memset(L, 0, sizeof(*L));
	L->p = calloc(1, sizeof(*L->p));
	if (L->p == NULL)
		return NULL;
	L->nofs = opts != NULL && (opts->flags & POLICY_LOAD_NOFS);
	legacy = opts != NULL && opts->legacy_dir != NULL ?
	    opts->legacy_dir : POLICY_DEFAULT_LEGACY_DIR;
	dir = opts != NULL && opts->dir != NULL ? opts->dir :
	    POLICY_DEFAULT_DIR;
	/* a directory that cannot be listed is reported by load_dir() */
	L->p->dir = abs_dir(L, dir);
	L->legacy_dir = abs_dir(L, legacy);
	if (L->p->dir == NULL || L->legacy_dir == NULL)
		L->oom = 1;
	sb_init(&sb, PATH_CAP);
	sb_init(&full, PATH_CAP);
	if (opts != NULL && opts->noverlay > 0 && !L->oom) {
		L->ovl = calloc(opts->noverlay, sizeof(*L->ovl));
		if (L->ovl == NULL)
			L->oom = 1;
		for (i = 0; L->ovl != NULL && i < opts->noverlay; i++) {
			if (opts->overlay[i].path == NULL)
				continue;
			path_join(&full, L->p->dir, opts->overlay[i].path);
			sb_reset(&sb);
			if (sb_ok(&full))
				path_key(L, &sb, full.buf);
			if (!sb_ok(&sb) || !sb_ok(&full)) {
				L->oom = 1;
				break;
			}
			L->ovl[L->novl].path = sb_steal(&sb);
			L->ovl[L->novl].content = opts->overlay[i].content;
			L->ovl[L->novl].len = opts->overlay[i].len;
			L->novl++;
			sb_init(&sb, PATH_CAP);
		}
	}
	sb_free(&sb);
	sb_free(&full);
	return L->p;
}

static struct policy *
loader_done(struct loader *L)
{
	size_t i;

	for (i = 0; i < L->novl; i++)
		free(L->ovl[i].path);
	free(L->ovl);
	free(L->fields);
	free(L->legacy_dir);
	if (L->oom) {
		policy_free(L->p);
		errno = ENOMEM;
		return NULL;
	}
	return L->p;
}

struct policy *
policy_load(const struct policy_load_opts *opts)
{
	struct loader L;

	if (loader_init(&L, opts) == NULL)
		return NULL;
	if (!L.oom)
		load_dir(&L, L.p->dir, NULL, 0);
	return loader_done(&L);
}

struct policy *
policy_parse_buffer(const struct policy_load_opts *opts, const char *path,
    const void *buf, size_t len, const char *service, const char *argument)
{
	struct loader L;
	struct strbuf full, key, err;
	struct svcctx ctx;
	const char *ipath;

	if (loader_init(&L, opts) == NULL)
		return NULL;
	sb_init(&full, PATH_CAP);
	sb_init(&key, PATH_CAP);
	sb_init(&err, 4 * MSG_MAX);
	if (L.oom)
		goto done;
	path_join(&full, L.p->dir, path != NULL ? path : "<buffer>");
	if (sb_ok(&full))
		path_key(&L, &key, full.buf);
	if (!sb_ok(&key) || (ipath = intern_path(&L, key.buf)) == NULL) {
		L.oom = 1;
		goto done;
	}
	if (service != NULL) {
		ctx.service.p = service;
		ctx.service.n = strlen(service);
		ctx.argument.p = argument != NULL ? argument : "*";
		ctx.argument.n = strlen(ctx.argument.p);
		if (check_svc_arg(ctx.service, ctx.argument, &err) < 0) {
			perr_sb(&L, ipath, 0, &err);
			goto done;
		}
	}
	if (len > POLICY_MAX_FILE_SIZE) {
		perr(&L, NULL, 0, "failed to load %s file: over the size limit "
		    "(%u bytes per file)", ipath, POLICY_MAX_FILE_SIZE);
		goto done;
	}
	L.nfiles = 1;
	parse_content(&L, ipath, buf, len, service != NULL ? &ctx : NULL);
done:
	sb_free(&full);
	sb_free(&key);
	sb_free(&err);
	return loader_done(&L);
}

void
policy_free(struct policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nrules; i++)
		rule_clear(&p->rules[i]);
	free(p->rules);
	for (i = 0; i < p->nerrors; i++) {
		free(p->errors[i].path);
		free(p->errors[i].msg);
	}
	free(p->errors);
	for (i = 0; i < p->npaths; i++)
		free(p->paths[i]);
	free(p->paths);
	for (i = 0; i < p->nstamps; i++)
		free(p->stamps[i].path);
	free(p->stamps);
	free(p->dir);
	free(p);
}

size_t
policy_nerrors(const struct policy *p)
{
	return p != NULL ? p->nerrors : 0;
}

const struct policy_error *
policy_error_at(const struct policy *p, size_t i)
{
	return p != NULL && i < p->nerrors ? &p->errors[i] : NULL;
}

int
policy_format_error(struct strbuf *sb, const struct policy_error *e)
{
	if (e->path != NULL && e->line > 0)
		sb_addf(sb, "%s:%u: ", e->path, e->line);
	else if (e->path != NULL)
		sb_addf(sb, "%s: ", e->path);
	return sb_adds(sb, e->msg);
}

const char *
policy_dir(const struct policy *p)
{
	return p != NULL ? p->dir : NULL;
}

size_t
policy_nrules(const struct policy *p)
{
	return p != NULL ? p->nrules : 0;
}

const struct policy_rule *
policy_rule_at(const struct policy *p, size_t i)
{
	return p != NULL && i < p->nrules ? &p->rules[i] : NULL;
}

const char *
policy_rule_service(const struct policy_rule *r)
{
	return r->service;
}

const char *
policy_rule_argument(const struct policy_rule *r)
{
	return r->argument;
}

const char *
policy_rule_path(const struct policy_rule *r)
{
	return r->path;
}

unsigned
policy_rule_line(const struct policy_rule *r)
{
	return r->line;
}

enum policy_action
policy_rule_action(const struct policy_rule *r)
{
	return r->action;
}

int
policy_rule_format(struct strbuf *sb, const struct policy_rule *r)
{
	static const char *const names[] = {
		[POLICY_DENY] = "deny",
		[POLICY_ALLOW] = "allow",
		[POLICY_ASK] = "ask",
	};

	sb_addf(sb, "%s\t%s\t%s\t%s\t%s", r->service, r->argument,
	    r->source.text, r->target.text, names[r->action]);
	if (r->has_redirect && r->redirect.text[0] != '\0')
		sb_addf(sb, " target=%s", r->redirect.text);
	if (r->has_default && r->default_target.text[0] != '\0')
		sb_addf(sb, " default_target=%s", r->default_target.text);
	if (r->user != NULL && r->user[0] != '\0')
		sb_addf(sb, " user=%s", r->user);
	return sb_ok(sb) ? 0 : -1;
}
