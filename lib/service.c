/*
 * service.c - the shared main of the qrexec service executables; see
 * service.h for the contract and lib/exitcodes.h for the exit statuses.
 *
 * The checks mirror what qrexec guarantees (protocol.md 5.1, 8.3) and
 * what qubesd 4.2 refuses with a silent close (calls-core.md), so that a
 * request the service lets through is one qubesd would have taken from
 * qrexec; the broker re-checks everything (STYLE 8 step 5).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exitcodes.h"
#include "frame.h"
#include "ioall.h"
#include "log.h"
#include "service.h"
#include "strbuf.h"
#include "svc_validate.h"
#include "validate.h"

#define SERVICE_CHUNK	16384	/* reply relay size */

static int
is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* Every byte of p[0..len) alphanumeric or in extra; NUL never passes. */
static int
in_charset(const char *p, size_t len, const char *extra)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] == '\0' || (!is_alnum((unsigned char)p[i]) &&
		    strchr(extra, p[i]) == NULL))
			return 0;
	return 1;
}

static int
str_is(const struct service_str *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->ptr != NULL && s->len == n && memcmp(s->ptr, lit, n) == 0;
}

static void
env_str(struct service_str *s, const char *v)
{
	s->ptr = v;
	s->len = v != NULL ? strlen(v) : 0;
}

void
service_env_load(struct service_env *env, int argc, char **argv)
{
	memset(env, 0, sizeof(*env));
	env->argc = argc;
	env_str(&env->argv0, argc > 0 ? argv[0] : NULL);
	env_str(&env->argv1, argc > 1 ? argv[1] : NULL);
	env_str(&env->full_name, getenv("QREXEC_SERVICE_FULL_NAME"));
	env_str(&env->argument, getenv("QREXEC_SERVICE_ARGUMENT"));
	env_str(&env->remote_domain, getenv("QREXEC_REMOTE_DOMAIN"));
	env_str(&env->target_type, getenv("QREXEC_REQUESTED_TARGET_TYPE"));
	env_str(&env->target, getenv("QREXEC_REQUESTED_TARGET"));
	env_str(&env->target_keyword,
	    getenv("QREXEC_REQUESTED_TARGET_KEYWORD"));
}

int
service_serves(const struct api_method *m)
{
	if (!m->impl)
		return 0;
	if (m->sock == SOCK_ADMIN && m->file == FILE_SOCK &&
	    strncmp(m->name, "admin.", 6) == 0)
		return 1;
	/* the misc family: scripts in 4.2, served by SERVICE_MISC_EXE */
	return m->sock == SOCK_MISC && m->file == FILE_SCRIPT &&
	    strcmp(m->family, SERVICE_MISC_FAMILY) == 0 &&
	    strncmp(m->name, "qubes.", 6) == 0;
}

/* A call of the misc socket: no reply on stdout, target dom0 only. */
static int
is_misc(const struct api_method *m)
{
	return m->sock == SOCK_MISC;
}

int
service_serves_stream(const struct api_method *m)
{
	return m->impl && m->file == FILE_SCRIPT && m->payload == PL_STREAM &&
	    strncmp(m->name, "admin.", 6) == 0;
}

int
service_link_exe(const struct api_method *m, char *out, size_t len)
{
	size_t n;

	if (service_serves(m))
		return service_exe_name(m->family, out, len) < 0 ? -1 : 1;
	if (!service_serves_stream(m))
		return 0;
	if (service_exe_name(m->family, out, len) < 0)
		return -1;
	n = strlen(out);
	if (len - n <= strlen(SERVICE_STREAM_SUFFIX))
		return -1;
	memcpy(out + n, SERVICE_STREAM_SUFFIX,
	    sizeof(SERVICE_STREAM_SUFFIX));
	return 1;
}

int
service_exe_name(const char *family, char *out, size_t len)
{
	int n;
	size_t i;

	if (strcmp(family, SERVICE_MISC_FAMILY) == 0)
		n = snprintf(out, len, "%s", SERVICE_MISC_EXE);
	else
		n = snprintf(out, len, "qubes-admin-%s", family);
	if (n < 0 || (size_t)n >= len)
		return -1;
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] == '_')
			out[i] = '-';
	return 0;
}

/* Reasons for one qube-name field (source or target). */
struct qube_reasons {
	const char	*nul;
	const char	*too_long;
	const char	*syntax;
};

static const struct qube_reasons src_reasons = {
	"source name contains a NUL byte",
	"source name is longer than 31 bytes",
	"source is not a qube name",
};

static const struct qube_reasons dest_reasons = {
	"target name contains a NUL byte",
	"target name is longer than 31 bytes",
	"target is not a qube name",
};

/* A qube name (protocol.md 5.2) into out (SERVICE_QUBE_MAX + 1 bytes). */
static const char *
check_qube(const struct service_str *untrusted_s, char *out,
    const struct qube_reasons *why)
{
	const char *msg;

	if (memchr(untrusted_s->ptr, '\0', untrusted_s->len) != NULL)
		return why->nul;
	if (untrusted_s->len > SERVICE_QUBE_MAX)
		return why->too_long;
	memcpy(out, untrusted_s->ptr, untrusted_s->len);
	out[untrusted_s->len] = '\0';
	if (validate_vm_name(out, &msg) < 0)
		return why->syntax;
	return NULL;
}

/* The row's ARG_* syntax on a NUL-terminated argument in the qrexec set. */
static const char *
check_arg(const struct api_method *m, const char *arg)
{
	const char *msg;

	switch (m->arg) {
	case ARG_EMPTY:
		return *arg ? "argument must be empty" : NULL;
	case ARG_PROPERTY:
		return validate_property_name(arg) < 0 ?
		    "property name must match [A-Za-z_][A-Za-z0-9_]*" : NULL;
	case ARG_FEATURE:
		return validate_feature_name(arg) < 0 ?
		    "feature name must not be empty" : NULL;
	case ARG_TAG:
		return (*arg == '\0' || validate_tag(arg) < 0) ?
		    "tag must match [A-Za-z0-9_-]+" : NULL;
	case ARG_LABEL:
		if (*arg == '\0' || !in_charset(arg, strlen(arg), "_.-"))
			return "label must match [A-Za-z0-9_.-]+";
		/* a new label needs a name; the others take a number too */
		if (m->payload == PL_COLOR && validate_label_name(arg) < 0)
			return "new label name must not be all digits";
		return NULL;
	case ARG_VMNAME_OPT:
		return (*arg && validate_vm_name(arg, &msg) < 0) ?
		    "template must be empty or a qube name" : NULL;
	case ARG_POOL:
		return validate_pool_name(arg) < 0 ?
		    "pool name must match [A-Za-z0-9_.-]+" : NULL;
	case ARG_VOLUME:
	case ARG_VOLUME_ATTR:
		return validate_volume_name(arg) < 0 ?
		    "volume name must match [A-Za-z0-9_-]+" : NULL;
	case ARG_DRIVER:
		return validate_driver_name(arg) < 0 ?
		    "driver name must match [A-Za-z0-9_-]+" : NULL;
	case ARG_SHUTDOWN:
		return validate_shutdown_flags(arg) < 0 ?
		    "shutdown flags must be force/wait joined by '+'" : NULL;
	case ARG_DEVICE:
		return validate_device_arg(arg) < 0 ?
		    "device must be <backend qube>+<ident>" : NULL;
	case ARG_DEVICE_OPT:
		return NULL;	/* empty, ident or backend+ident: the set */
	case ARG_PROFILE:
		return validate_profile_name(arg) < 0 ?
		    "backup profile name must not be empty, '.' or '..'" :
		    NULL;
	}
	return "unknown argument rule";
}

/* Target: type name + qube name, or type keyword + adminvm (= dom0). */
static const char *
check_target(const struct service_env *untrusted_env, char *dest)
{
	const struct service_env *untrusted = untrusted_env;

	if (str_is(&untrusted->target_type, "name")) {
		if (untrusted->target_keyword.ptr != NULL)
			return "QREXEC_REQUESTED_TARGET_KEYWORD set with "
			    "target type name";
		if (untrusted->target.ptr == NULL)
			return "QREXEC_REQUESTED_TARGET is not set";
		return check_qube(&untrusted->target, dest, &dest_reasons);
	}
	if (str_is(&untrusted->target_type, "keyword")) {
		if (untrusted->target.ptr != NULL)
			return "QREXEC_REQUESTED_TARGET set with target type "
			    "keyword";
		if (untrusted->target_keyword.ptr == NULL)
			return "QREXEC_REQUESTED_TARGET_KEYWORD is not set";
		if (!str_is(&untrusted->target_keyword, "adminvm"))
			return "target keyword is not adminvm";
		memcpy(dest, "dom0", 5);
		return NULL;
	}
	return "QREXEC_REQUESTED_TARGET_TYPE is neither name nor keyword";
}

/* The row's DEST_* rule, as far as it needs no broker state. */
static const char *
check_dest(const struct api_method *m, const char *dest)
{
	/* misc calls: the 4.2 scripts always send dom0, whatever the
	 * target; only dom0 is a target a caller can mean (service.h) */
	if (is_misc(m) && strcmp(dest, "dom0") != 0)
		return "call must be addressed to dom0 (@adminvm)";
	switch (m->dest) {
	case DEST_DOM0:
		return strcmp(dest, "dom0") != 0 ?
		    "call must be addressed to dom0 (@adminvm)" : NULL;
	case DEST_ANY:
	case DEST_VM:
		/* existence and class are the broker's business */
		return NULL;
	}
	return "unknown destination rule";
}

/* service_check(), for the plain (stream 0) or the import executable. */
static const char *
check_invocation(const struct service_env *untrusted_env, const char *family,
    int stream, struct service_call *call)
{
	const struct service_env *untrusted = untrusted_env;
	const char *untrusted_full, *plus, *untrusted_base, *untrusted_arg;
	const char *why;
	char method[SERVICE_CALL_MAX + 1];
	const struct api_method *m;
	size_t flen, mlen, alen, blen, header, room;

	memset(call, 0, sizeof(*call));
	/* sanitize start */
	if (untrusted->full_name.ptr == NULL)
		return "QREXEC_SERVICE_FULL_NAME is not set";
	if (untrusted->remote_domain.ptr == NULL)
		return "QREXEC_REMOTE_DOMAIN is not set";
	if (untrusted->target_type.ptr == NULL)
		return "QREXEC_REQUESTED_TARGET_TYPE is not set";
	if (untrusted->argc < 1 || untrusted->argv0.ptr == NULL)
		return "argv[0] is missing";
	if (untrusted->argc > 2)
		return "more than one command-line argument";

	/* the call name: the full name up to its first '+' */
	untrusted_full = untrusted->full_name.ptr;
	flen = untrusted->full_name.len;
	if (memchr(untrusted_full, '\0', flen) != NULL)
		return "QREXEC_SERVICE_FULL_NAME contains a NUL byte";
	plus = memchr(untrusted_full, '+', flen);
	mlen = plus != NULL ? (size_t)(plus - untrusted_full) : flen;
	if (mlen == 0)
		return "call name is empty";
	if (mlen > SERVICE_CALL_MAX)
		return "call name is too long";
	if (!in_charset(untrusted_full, mlen, "_.-"))
		return "call name contains a byte outside [A-Za-z0-9_.-]";
	/* ... which is the name of the link qrexec ran: basename(argv[0]) */
	if (memchr(untrusted->argv0.ptr, '\0', untrusted->argv0.len) != NULL)
		return "argv[0] contains a NUL byte";
	untrusted_base = untrusted->argv0.ptr;
	for (blen = untrusted->argv0.len; blen > 0; blen--)
		if (untrusted->argv0.ptr[blen - 1] == '/')
			break;
	untrusted_base += blen;
	blen = untrusted->argv0.len - blen;
	if (blen != mlen || memcmp(untrusted_base, untrusted_full, mlen) != 0)
		return "call name differs from the executable name "
		    "(basename of argv[0])";
	memcpy(method, untrusted_full, mlen);
	method[mlen] = '\0';
	m = api_lookup(method);
	if (m == NULL)
		return "no such call";
	if (strcmp(m->family, family) != 0)
		return "call of another family";
	if (stream && !service_serves_stream(m))
		return "call not served by the streaming import service";
	if (!stream && !service_serves(m))
		return "call not served by a qrexec service (not implemented "
		    "or dom0 only)";

	/* the argument: the rest of the full name, the same in argv[1] */
	untrusted_arg = plus != NULL ? plus + 1 : untrusted_full + flen;
	alen = plus != NULL ? flen - mlen - 1 : 0;
	if (alen > SERVICE_ARG_MAX)
		return "argument is too long";
	if (!in_charset(untrusted_arg, alen, "_.+-"))
		return "argument contains a byte outside [A-Za-z0-9_.+-]";
	if (untrusted->argv1.ptr != NULL && (untrusted->argv1.len != alen ||
	    memcmp(untrusted->argv1.ptr, untrusted_arg, alen) != 0))
		return "argument differs from argv[1]";
	if (untrusted->argument.ptr != NULL &&
	    (untrusted->argument.len != alen ||
	    memcmp(untrusted->argument.ptr, untrusted_arg, alen) != 0))
		return "argument differs from QREXEC_SERVICE_ARGUMENT";
	memcpy(call->arg, untrusted_arg, alen);
	call->arg[alen] = '\0';
	if ((why = check_arg(m, call->arg)) != NULL)
		return why;

	/* source and target */
	if ((why = check_qube(&untrusted->remote_domain, call->src,
	    &src_reasons)) != NULL)
		return why;
	if ((why = check_target(untrusted, call->dest)) != NULL)
		return why;
	if ((why = check_dest(m, call->dest)) != NULL)
		return why;
	/* sanitize end */

	call->m = m;
	/* "call+arg src name dest\0" and the payload fit API_REQUEST_MAX */
	header = mlen + 1 + alen + 1 + strlen(call->src) + 6 +
	    strlen(call->dest) + 1;
	room = API_REQUEST_MAX - header;	/* header < 600 bytes */
	call->payload_max = m->payload == PL_NONE ? 0 :
	    (m->payload_max < room ? m->payload_max : room);
	return NULL;
}

const char *
service_check(const struct service_env *untrusted_env, const char *family,
    struct service_call *call)
{
	return check_invocation(untrusted_env, family, 0, call);
}

const char *
service_check_stream(const struct service_env *untrusted_env,
    const char *family, struct service_call *call)
{
	return check_invocation(untrusted_env, family, 1, call);
}

const char *
service_check_payload(const struct service_call *call,
    const unsigned char *untrusted_payload, size_t len)
{
	const char *p = (const char *)untrusted_payload;
	const char *why = NULL;

	/* sanitize start */
	if (len > call->payload_max)
		return call->m->payload == PL_NONE ?
		    "payload on a call that takes none" : "payload too long";
	switch (call->m->payload) {
	case PL_NONE:
		return NULL;	/* len == 0 == payload_max */
	case PL_VALUE:
		return frame_is_ascii(p, len) ? NULL : "value is not ASCII";
	case PL_CREATE:
		if (validate_create_params(p, len, strncmp(call->m->name,
		    "admin.vm.CreateInPool.", 22) == 0, &why) < 0)
			return why;
		return NULL;
	case PL_COLOR:
		return validate_color_payload(p, len) < 0 ?
		    "colour must be 0x and 6 hex digits" : NULL;
	case PL_SIZE:
	case PL_NUMBER:
	case PL_BOOL:
	case PL_TOKEN:
	case PL_REVISION:
	case PL_POOLCFG:
	case PL_FIREWALL:
	case PL_DEVOPTS:
		return frame_is_ascii(p, len) ? NULL : "payload is not ASCII";
	case PL_STREAM:
		return "streamed payload not supported by this service";
	case PL_ANY:
		/* the only misc row with a payload: the broker's rule */
		if (is_misc(call->m) &&
		    strcmp(call->m->name, "qubes.NotifyUpdates") == 0 &&
		    validate_update_count(p, len, NULL) < 0)
			return "update count must be 1-4300 decimal digits, "
			    "optionally surrounded by whitespace";
		return NULL;
	}
	/* sanitize end */
	return "unknown payload rule";
}

int
service_read_bounded(int fd, unsigned char *buf, size_t max, size_t *len)
{
	size_t got = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, buf + got, max + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max) {
			errno = E2BIG;
			return -1;
		}
	}
	*len = got;
	return 0;
}

/* log_escape() of an optional value, or `unset` */
static const char *
esc(char *dst, size_t len, const struct service_str *untrusted_s,
    const char *unset)
{
	if (untrusted_s->ptr == NULL)
		return unset;
	return log_escape(dst, len, untrusted_s->ptr, untrusted_s->len);
}

void
service_refuse(const struct service_env *untrusted_env, const char *why)
{
	const struct service_env *untrusted = untrusted_env;
	char name[160], src[80], dest[80];
	int kw;

	kw = untrusted->target.ptr == NULL &&
	    untrusted->target_keyword.ptr != NULL;
	log_warnx("refused %s from %s to %s%s: %s",
	    esc(name, sizeof(name), &untrusted->full_name, "(no call name)"),
	    esc(src, sizeof(src), &untrusted->remote_domain, "(no source)"),
	    kw ? "@" : "",
	    esc(dest, sizeof(dest), kw ? &untrusted->target_keyword :
	    &untrusted->target, "(no target)"), why);
}

const char *
service_sock_path(enum api_sock s)
{
	const char *p;

	switch (s) {
	case SOCK_ADMIN:
		p = getenv("QUBESD_SOCKET");
		return p != NULL && *p ? p : SERVICE_ADMIN_SOCK;
	case SOCK_INTERNAL:
		p = getenv("QUBESD_INTERNAL_SOCKET");
		return p != NULL && *p ? p : SERVICE_INTERNAL_SOCK;
	case SOCK_MISC:
		p = getenv("QUBESD_MISC_SOCKET");
		return p != NULL && *p ? p : SERVICE_MISC_SOCK;
	case SOCK_NONE:
		break;
	}
	return NULL;
}

/* Exit status for a reply that started with head[0..got) (got <= 2);
 * an event record ("1\0") only where events may come (not misc). */
static int
reply_status(const unsigned char *head, size_t got, int events)
{
	if (got == 0)
		return SVC_EXIT_NO_REPLY;
	if (got < 2 || head[1] != '\0')
		return SVC_EXIT_INTERNAL;
	switch (head[0]) {
	case '0':
		return SVC_EXIT_OK;
	case '1':
		return events ? SVC_EXIT_OK : SVC_EXIT_INTERNAL;
	case '2':
		return SVC_EXIT_EXCEPTION;
	default:
		return SVC_EXIT_INTERNAL;
	}
}

/* Send the request; copy the reply to stdout as it arrives (misc
 * calls: read it to the end, copy nothing). */
static int
service_forward(const struct service_call *call,
    const unsigned char *payload, size_t plen)
{
	unsigned char buf[SERVICE_CHUNK], head[2];
	const char *path;
	struct strbuf req;
	size_t got = 0, i;
	ssize_t n;
	int fd, moved, rc, relay;

	relay = !is_misc(call->m);
	path = service_sock_path(call->m->sock);
	if (path == NULL) {
		log_warnx("%s: no broker socket for this call",
		    call->m->name);
		return SVC_EXIT_INTERNAL;
	}
	sb_init(&req, API_REQUEST_MAX);
	frame_build_request(&req, call->m->name, call->arg, call->src,
	    call->dest, payload, plen);
	if (!sb_ok(&req)) {
		log_warnx("%s: cannot build the request", call->m->name);
		sb_free(&req);
		return SVC_EXIT_INTERNAL;
	}
	fd = unix_connect(path);
	if (fd < 0) {
		log_warn("connect to %s", path);
		sb_free(&req);
		return SVC_EXIT_INTERNAL;
	}
	/* with fd 0-2 closed the socket must not stand in for them */
	if (fd <= STDERR_FILENO) {
		moved = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
		close(fd);
		if (moved < 0) {
			log_warn("fcntl");
			sb_free(&req);
			return SVC_EXIT_INTERNAL;
		}
		fd = moved;
	}
	/* a broker that closes early (request too long) is no service
	 * problem: its (empty) answer is read below */
	if (write_all(fd, req.buf, req.len) < 0 && errno != EPIPE &&
	    errno != ECONNRESET) {
		log_warn("send to %s", path);
		rc = SVC_EXIT_INTERNAL;
		goto out;
	}
	if (shutdown(fd, SHUT_WR) < 0 && errno != ENOTCONN) {
		log_warn("shutdown on %s", path);
		rc = SVC_EXIT_INTERNAL;
		goto out;
	}
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ECONNRESET)
			break;
		if (n < 0) {
			log_warn("receive from %s", path);
			rc = SVC_EXIT_INTERNAL;
			goto out;
		}
		if (n == 0)
			break;
		for (i = 0; got < 2 && i < (size_t)n; i++)
			head[got++] = buf[i];
		if (relay && write_all(STDOUT_FILENO, buf, (size_t)n) < 0) {
			log_warn("write to stdout");
			rc = SVC_EXIT_INTERNAL;
			goto out;
		}
	}
	rc = reply_status(head, got, relay);
	if (rc == SVC_EXIT_INTERNAL)
		log_warnx("%s: malformed reply from %s", call->m->name, path);
out:
	close(fd);
	sb_free(&req);
	return rc;
}

int
service_main(int argc, char **argv, const char *family)
{
	struct service_env env;
	struct service_call call;
	unsigned char *payload;
	char exe[64], msg[64];
	const char *why;
	size_t plen = 0;
	int rc;

	/* a vanished reader is an EPIPE error, not a silent death */
	signal(SIGPIPE, SIG_IGN);
	if (service_exe_name(family, exe, sizeof(exe)) < 0)
		memcpy(exe, "qubes-admin", sizeof("qubes-admin"));
	log_init(exe, 0);

	service_env_load(&env, argc, argv);
	why = service_check(&env, family, &call);
	if (why != NULL) {
		service_refuse(&env, why);
		return SVC_EXIT_REFUSED;
	}
	payload = malloc(call.payload_max + 1);
	if (payload == NULL) {
		log_warn("malloc");
		return SVC_EXIT_INTERNAL;
	}
	/* misc calls without a payload never read stdin (qubesd-query -e
	 * in the 4.2 scripts): an open stdin must not hang them */
	if ((!is_misc(call.m) || call.m->payload != PL_NONE) &&
	    service_read_bounded(STDIN_FILENO, payload, call.payload_max,
	    &plen) < 0) {
		if (errno != E2BIG) {
			log_warn("read from stdin");
			free(payload);
			return SVC_EXIT_INTERNAL;
		}
		if (call.m->payload == PL_NONE)
			why = "payload on a call that takes none";
		else if (snprintf(msg, sizeof(msg), "payload longer than "
		    "%zu bytes", call.payload_max) > 0)
			why = msg;
		else
			why = "payload too long";
		service_refuse(&env, why);
		free(payload);
		return SVC_EXIT_REFUSED;
	}
	why = service_check_payload(&call, payload, plen);
	if (why != NULL) {
		service_refuse(&env, why);
		free(payload);
		return SVC_EXIT_REFUSED;
	}
	rc = service_forward(&call, payload, plen);
	free(payload);
	/* the final check: an error reported only at close is a failure */
	if (close(STDOUT_FILENO) < 0 && errno != EBADF && errno != EINTR) {
		log_warn("write to stdout");
		return SVC_EXIT_INTERNAL;
	}
	return rc;
}
