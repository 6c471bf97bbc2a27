/*
 * qubes-policy-admin - the Policy Admin API (policy.md 11): policy.List,
 * policy.Get, policy.Replace, policy.Remove, their policy.include.*
 * variants and policy.GetFiles, as one executable installed as one
 * /etc/qubes-rpc link per call.
 *
 * Protocol: the call name comes from QREXEC_SERVICE_FULL_NAME
 * ("<method>+<arg>"), the caller from QREXEC_REMOTE_DOMAIN, the payload
 * from stdin.  stdout is the answer; exit 0 success, 1 user error (the
 * message on stdout), 2 anything else (a fixed message on stdout, the
 * detail in the log).
 *
 * Environment for tests: QUBES_POLICY_DIR (default /etc/qubes/policy.d),
 * QUBES_POLICY_ADMIN_LOG (default /var/log/qubes/policy-admin.log).
 *
 * Safer than the reference (docs/divergences.md): main-directory names
 * must be lower case (an upper-case name would make the whole policy
 * invalid), files are written under a dot-name that the loader ignores,
 * fsynced, then renamed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ioall.h"
#include "policy.h"
#include "strbuf.h"

#define EXIT_OK		0
#define EXIT_USER	1
#define EXIT_INTERNAL	2
#define PAYLOAD_MAX	(1024u * 1024u)
#define TOKEN_LEN	71	/* "sha256:" + 64 hex digits */

static const char internal_msg[] =
    "Internal error. See /var/log/qubes/policy-admin.log in dom0 for "
    "details.\n";

struct req {
	const char	*method;
	const char	*arg;
	const char	*caller;
	const char	*policy_dir;
	char		 include_dir[PATH_MAX];
	const char	*untrusted_payload;
	size_t		 payload_len;
	FILE		*log;
};

/* The outcome of a request: exit code and the bytes for stdout. */
struct out {
	int		 code;
	struct strbuf	 text;
	struct strbuf	 logmsg;
};

static void
logf_(struct req *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
logf_(struct req *q, const char *fmt, ...)
{
	va_list ap;
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;

	if (q->log == NULL)
		return;
	localtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(q->log, "%s %s+%s (%s): ", ts, q->method, q->arg, q->caller);
	va_start(ap, fmt);
	vfprintf(q->log, fmt, ap);
	va_end(ap);
	fputc('\n', q->log);
	fflush(q->log);
}

static int
user_error(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
user_error(struct out *o, const char *fmt, ...)
{
	va_list ap;

	sb_reset(&o->text);
	va_start(ap, fmt);
	sb_vaddf(&o->text, fmt, ap);
	va_end(ap);
	sb_addc(&o->text, '\n');
	o->code = EXIT_USER;
	return -1;
}

static int
internal_error(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
internal_error(struct out *o, const char *fmt, ...)
{
	va_list ap;

	sb_reset(&o->text);
	sb_adds(&o->text, internal_msg);
	va_start(ap, fmt);
	sb_vaddf(&o->logmsg, fmt, ap);
	va_end(ap);
	o->code = EXIT_INTERNAL;
	return -1;
}

static int
all_in(const char *s, const char *extra, int upper)
{
	for (; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9'))
			continue;
		if (upper && *s >= 'A' && *s <= 'Z')
			continue;
		if (strchr(extra, *s) == NULL)
			return 0;
	}
	return 1;
}

/* ---- tokens */

static void
token_of(const void *data, size_t len, char out[TOKEN_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0;
	size_t i;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	memcpy(out, "sha256:", 7);
	for (i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[TOKEN_LEN] = '\0';
}

/* Read a whole regular file (bounded); 0, or -1 with errno. */
static int
read_file(const char *path, char **data, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r;

	if (fd < 0)
		return -1;
	r = read_all_bounded(fd, PAYLOAD_MAX, data, len);
	close(fd);
	return r;
}

static int
is_regular(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* policy.md 11.4; 0 = go on */
static int
check_token(struct out *o, const char *untrusted_token, size_t len,
    const char *path)
{
	char want[TOKEN_LEN + 1], *data;
	size_t dlen;
	int exists = is_regular(path);

	/* sanitize start */
	if (len == 3 && memcmp(untrusted_token, "any", 3) == 0)
		return 0;
	if (len == 3 && memcmp(untrusted_token, "new", 3) == 0) {
		if (exists)
			return internal_error(o, "File exists but token is "
			    "'new'");
		return 0;
	}
	if (len < 7 || memcmp(untrusted_token, "sha256:", 7) != 0)
		return user_error(o, "Unrecognized token");
	/* sanitize end */
	if (!exists)
		return internal_error(o, "File doesn't exist, but token isn't "
		    "'new'");
	if (read_file(path, &data, &dlen) < 0)
		return internal_error(o, "cannot read %s: %s", path,
		    strerror(errno));
	token_of(data, dlen, want);
	free(data);
	if (len != TOKEN_LEN || memcmp(untrusted_token, want, TOKEN_LEN) != 0)
		return internal_error(o, "Token mismatch");
	return 0;
}

/* ---- names and paths (policy.md 11.3) */

static int
file_path(struct req *q, struct out *o, int include, char *path,
    size_t pathlen)
{
	const char *dir = include ? q->include_dir : q->policy_dir;
	char rdir[PATH_MAX], rpath[PATH_MAX], *slash;

	if (!all_in(q->arg, "_-", 1) || *q->arg == '\0')
		return user_error(o, "Invalid policy file name: %s\nNames must "
		    "contain only alphanumeric characters, underscore and "
		    "hyphen.", q->arg);
	/* an upper-case main-directory name would make the whole policy
	 * invalid (the loader refuses it): refuse it here instead */
	if (!include && !all_in(q->arg, "_-", 0))
		return user_error(o, "Invalid policy file name: %s\nNames of "
		    "policy files must contain only lower-case letters, "
		    "digits, underscore and hyphen.", q->arg);
	if (realpath(dir, rdir) == NULL)
		return internal_error(o, "cannot resolve %s: %s", dir,
		    strerror(errno));
	if ((size_t)snprintf(path, pathlen, "%s/%s%s", rdir, q->arg,
	    include ? "" : ".policy") >= pathlen)
		return user_error(o, "Invalid policy file name: %s", q->arg);
	/* symlinks resolved: the file must stay directly in the directory */
	if (realpath(path, rpath) != NULL) {
		slash = strrchr(rpath, '/');
		*slash = '\0';
		if (strcmp(rpath, rdir) != 0)
			return user_error(o, "Expecting a path inside %s", dir);
	}
	return 0;
}

/* ---- methods */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
do_list(struct req *q, struct out *o, int include)
{
	const char *dir = include ? q->include_dir : q->policy_dir;
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, path[PATH_MAX];
	size_t n = 0, i, l;

	if (d == NULL)
		return include && errno == ENOENT ? 0 :
		    internal_error(o, "opendir %s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    e->d_name) >= sizeof(path) || !is_regular(path))
			continue;
		l = strlen(e->d_name);
		if (!include && (l < 7 || strcmp(e->d_name + l - 7,
		    ".policy") != 0))
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		if (names == NULL)
			abort();
		names[n] = strndup(e->d_name, include ? l : l - 7);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		sb_addf(&o->text, "%s\n", names[i]);
		free(names[i]);
	}
	free(names);
	return 0;
}

static int
do_get(struct req *q, struct out *o, int include)
{
	char path[PATH_MAX], tok[TOKEN_LEN + 1], *data;
	size_t len;

	if (file_path(q, o, include, path, sizeof(path)) < 0)
		return -1;
	if (!is_regular(path))
		return user_error(o, "Not found: %s", path);
	if (read_file(path, &data, &len) < 0)
		return internal_error(o, "cannot read %s: %s", path,
		    strerror(errno));
	token_of(data, len, tok);
	sb_addf(&o->text, "%s\n", tok);
	sb_add(&o->text, data, len);
	free(data);
	return 0;
}

/* Strict UTF-8 (what Python's decode accepts: no overlongs, no
 * surrogates, nothing above U+10FFFF). */
static int
is_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;
	unsigned c, lo, hi;

	while (i < len) {
		c = s[i];
		lo = 0x80;
		hi = 0xbf;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;
			if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;
			if (c == 0xf4)
				hi = 0x8f;
		} else {
			return 0;
		}
		if (i + n >= len + 1 || len - i <= n)
			return 0;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (k = 2; k <= n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
		i += n + 1;
	}
	return 1;
}

/* Validate the whole policy with one file changed; 0 if it is valid. */
static int
validate(struct req *q, struct out *o, const char *path, const char *content,
    size_t len, int removed)
{
	struct policy_overlay ov = { path, removed ? NULL : content, len };
	struct policy_load_opts opts;
	struct policy *p;
	struct strbuf err;
	int r = 0;

	memset(&opts, 0, sizeof(opts));
	opts.dir = q->policy_dir;
	opts.overlay = &ov;
	opts.noverlay = 1;
	p = policy_load(&opts);
	if (p == NULL)
		return internal_error(o, "out of memory");
	if (policy_nerrors(p) > 0) {
		sb_init(&err, 65536);
		policy_format_error(&err, policy_error_at(p, 0));
		r = user_error(o, "Policy change validation failed: %s",
		    err.buf ? err.buf : "");
		sb_free(&err);
	}
	policy_free(p);
	return r;
}

static int
write_policy_file(struct out *o, const char *path, const char *data,
    size_t len)
{
	char tmp[PATH_MAX + 16], *slash;
	int fd;
	struct group *g;

	/* a dot-name is ignored by the loader if it is ever left behind */
	slash = strrchr(path, '/');
	if ((size_t)snprintf(tmp, sizeof(tmp), "%.*s/.%s.XXXXXX",
	    (int)(slash - path), path, slash + 1) >= sizeof(tmp))
		return internal_error(o, "path too long");
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return internal_error(o, "cannot create %s: %s", tmp,
		    strerror(errno));
	if (write_all(fd, data, len) < 0 || fchmod(fd, 0664) < 0 ||
	    fsync(fd) < 0) {
		close(fd);
		unlink(tmp);
		return internal_error(o, "cannot write %s: %s", tmp,
		    strerror(errno));
	}
	if ((g = getgrnam("qubes")) != NULL &&
	    fchown(fd, 0, g->gr_gid) < 0) {
		/* as the reference: ownership is best effort */
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return internal_error(o, "cannot replace %s: %s", path,
		    strerror(errno));
	}
	*slash = '\0';
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*slash = '/';
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

static int
do_replace(struct req *q, struct out *o, int include)
{
	char path[PATH_MAX];
	const char *nl, *content;
	size_t clen;

	if (file_path(q, o, include, path, sizeof(path)) < 0)
		return -1;
	/* sanitize start */
	nl = memchr(q->untrusted_payload, '\n', q->payload_len);
	if (nl == NULL)
		return user_error(o, "Payload needs to include first line "
		    "with token");
	if (check_token(o, q->untrusted_payload,
	    (size_t)(nl - q->untrusted_payload), path) < 0)
		return -1;
	content = nl + 1;
	clen = q->payload_len - (size_t)(content - q->untrusted_payload);
	if (!is_utf8((const unsigned char *)content, clen))
		return internal_error(o, "content is not UTF-8");
	/* sanitize end */
	if (validate(q, o, path, content, clen, 0) < 0)
		return -1;
	return write_policy_file(o, path, content, clen);
}

static int
do_remove(struct req *q, struct out *o, int include)
{
	char path[PATH_MAX];

	if (file_path(q, o, include, path, sizeof(path)) < 0)
		return -1;
	if (check_token(o, q->untrusted_payload, q->payload_len, path) < 0)
		return -1;
	if (!is_regular(path))
		return user_error(o, "Not found: %s", path);
	if (validate(q, o, path, NULL, 0, 1) < 0)
		return -1;
	if (unlink(path) < 0)
		return internal_error(o, "cannot remove %s: %s", path,
		    strerror(errno));
	return 0;
}

/* policy.GetFiles: the files holding rules for this service, in order
 * of first appearance; names under the policy directory without their
 * extension, others (legacy) as full paths. */
static int
files_for_service(struct req *q, struct out *o)
{
	struct policy_load_opts opts;
	struct policy *p;
	const struct policy_rule *r;
	const char *svc, *path, *base;
	char rdir[PATH_MAX], name[PATH_MAX], *dot;
	struct strbuf seen;
	size_t i, dl;

	memset(&opts, 0, sizeof(opts));
	opts.dir = q->policy_dir;
	p = policy_load(&opts);
	if (p == NULL)
		return internal_error(o, "out of memory");
	if (policy_nerrors(p) > 0) {
		policy_free(p);
		return internal_error(o, "the current policy is invalid");
	}
	if (realpath(q->policy_dir, rdir) == NULL)
		snprintf(rdir, sizeof(rdir), "%s", q->policy_dir);
	dl = strlen(rdir);
	sb_init(&seen, 0);
	sb_addc(&seen, '\n');
	for (i = 0; i < policy_nrules(p); i++) {
		r = policy_rule_at(p, i);
		svc = policy_rule_service(r);
		if (strcmp(svc, "*") != 0 && strcmp(svc, q->arg) != 0)
			continue;
		path = policy_rule_path(r);
		if (strncmp(path, rdir, dl) == 0 && path[dl] == '/') {
			base = strrchr(path, '/') + 1;
			snprintf(name, sizeof(name), "%s", base);
			if ((dot = strrchr(name, '.')) != NULL &&
			    strcmp(dot, ".policy") == 0)
				*dot = '\0';
		} else {
			snprintf(name, sizeof(name), "%s", path);
		}
		/* seen holds "\nname1\nname2\n" */
		{
			struct strbuf key;
			int dup;

			sb_init(&key, 0);
			sb_addf(&key, "\n%s\n", name);
			dup = strstr(seen.buf, key.buf) != NULL;
			sb_free(&key);
			if (dup)
				continue;
		}
		sb_addf(&seen, "%s\n", name);
		sb_addf(&o->text, "%s\n", name);
	}
	sb_free(&seen);
	policy_free(p);
	return 0;
}

static int
do_getfiles(struct req *q, struct out *o)
{
	const char *p;
	struct strbuf bad;

	if (*q->arg == '\0')
		return user_error(o, "Service cannot be empty.");
	sb_init(&bad, 0);
	for (p = q->arg; *p; p++)
		if (!all_in((char[]){ *p, 0 }, "._-", 1) &&
		    (bad.buf == NULL || strchr(bad.buf, *p) == NULL))
			sb_addc(&bad, *p);
	if (bad.len) {
		/* Python tuple of the offending characters */
		struct strbuf t;
		size_t i;

		sb_init(&t, 0);
		sb_addc(&t, '(');
		for (i = 0; i < bad.len; i++)
			sb_addf(&t, "'%c'%s", bad.buf[i],
			    bad.len == 1 ? "," : i + 1 < bad.len ? ", " : "");
		sb_addc(&t, ')');
		user_error(o, "Service '%s' contains invalid characters: %s",
		    q->arg, t.buf);
		sb_free(&t);
		sb_free(&bad);
		return -1;
	}
	sb_free(&bad);
	return files_for_service(q, o);
}

static const struct {
	const char	*name;
	int		 has_arg;
	int		 has_payload;
} methods[] = {
	{ "policy.List", 0, 0 },
	{ "policy.include.List", 0, 0 },
	{ "policy.Get", 1, 0 },
	{ "policy.include.Get", 1, 0 },
	{ "policy.Replace", 1, 1 },
	{ "policy.include.Replace", 1, 1 },
	{ "policy.Remove", 1, 1 },
	{ "policy.include.Remove", 1, 1 },
	{ "policy.GetFiles", 1, 0 },
};

static int
handle(struct req *q, struct out *o)
{
	size_t i;
	int include, fd, r;

	/* policy.md 11.2, in order */
	if (!all_in(q->arg, "+._-", 1))
		return user_error(o, "Invalid argument: \"%s\"\nValid "
		    "characters are letters, numbers, dot, plus, hyphen and "
		    "underline", q->arg);
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(methods[i].name, q->method) == 0)
			break;
	if (i == sizeof(methods) / sizeof(methods[0]))
		return user_error(o, "unrecognized method: %s", q->method);
	if (!methods[i].has_arg && *q->arg)
		return user_error(o, "Unexpected argument");
	if (!methods[i].has_payload && q->payload_len > 0)
		return user_error(o, "Unexpected payload");
	fd = open(q->policy_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		if (fd >= 0)
			close(fd);
		return internal_error(o, "cannot lock %s: %s", q->policy_dir,
		    strerror(errno));
	}
	include = strncmp(q->method, "policy.include.", 15) == 0;
	if (strstr(q->method, ".List"))
		r = do_list(q, o, include);
	else if (strstr(q->method, ".Get") && !strstr(q->method, "Files"))
		r = do_get(q, o, include);
	else if (strstr(q->method, ".Replace"))
		r = do_replace(q, o, include);
	else if (strstr(q->method, ".Remove"))
		r = do_remove(q, o, include);
	else
		r = do_getfiles(q, o);
	close(fd);
	return r;
}

int
main(void)
{
	struct req q;
	struct out o;
	const char *full, *logpath;
	char *method = NULL, *payload = NULL, *plus;
	size_t plen;
	int ok;

	memset(&q, 0, sizeof(q));
	sb_init(&o.text, 2 * PAYLOAD_MAX);
	sb_init(&o.logmsg, 0);
	o.code = EXIT_OK;
	q.policy_dir = getenv("QUBES_POLICY_DIR");
	if (q.policy_dir == NULL)
		q.policy_dir = "/etc/qubes/policy.d";
	snprintf(q.include_dir, sizeof(q.include_dir), "%s/include",
	    q.policy_dir);
	logpath = getenv("QUBES_POLICY_ADMIN_LOG");
	q.log = fopen(logpath ? logpath : "/var/log/qubes/policy-admin.log",
	    "ae");
	q.caller = getenv("QREXEC_REMOTE_DOMAIN");
	if (q.caller == NULL)
		q.caller = "?";
	full = getenv("QREXEC_SERVICE_FULL_NAME");
	if (full == NULL) {
		fprintf(stderr, "qubes-policy-admin: QREXEC_SERVICE_FULL_NAME "
		    "is not set\n");
		return EXIT_INTERNAL;
	}
	method = strdup(full);
	if (method == NULL)
		return EXIT_INTERNAL;
	plus = strchr(method, '+');
	q.arg = plus ? plus + 1 : "";
	if (plus)
		*plus = '\0';
	q.method = method;
	if (read_all_bounded(0, PAYLOAD_MAX, &payload, &plen) < 0) {
		user_error(&o, "%s", errno == E2BIG ? "Payload too large" :
		    "Cannot read the payload");
	} else {
		q.untrusted_payload = payload;
		q.payload_len = plen;
		handle(&q, &o);
	}
	if (o.code == EXIT_OK)
		logf_(&q, "ok");
	else
		logf_(&q, "%s", o.code == EXIT_INTERNAL && o.logmsg.buf ?
		    o.logmsg.buf : o.text.buf ? o.text.buf : "");
	ok = write_all(1, o.text.buf ? o.text.buf : "", o.text.len) == 0 &&
	    close(1) == 0;
	if (q.log)
		fclose(q.log);
	free(method);
	free(payload);
	sb_free(&o.text);
	sb_free(&o.logmsg);
	return ok ? o.code : EXIT_INTERNAL;
}
