/*
 * qubes-admin-vm-volume-import - the qrexec service of
 * admin.vm.volume.Import and admin.vm.volume.ImportWithSize
 * (storage.md 7.6-7.9): /etc/qubes-rpc/<call> links here for both calls
 * (qubes-rpc/links.txt), the call is the basename of argv[0].
 *
 * A volume image is gigabytes, far beyond the 64 KiB a broker request
 * may hold, so the data never passes through the broker:
 *
 *  1. internal.vm.volume.ImportBegin on the internal socket
 *     (QUBESD_INTERNAL_SOCKET overrides /var/run/qubesd.internal.sock),
 *     payload empty (Import) or the first line of stdin
 *     (ImportWithSize); the broker checks permission and state and
 *     answers "<size> <path>" of a zero-filled import target that is
 *     separate from the volume's data;
 *  2. exactly size bytes of stdin are copied to that path here
 *     (lib/volimport.h: 128 KiB full blocks, zero blocks seeked over,
 *     fdatasync), and one byte more is looked for;
 *  3. internal.vm.volume.ImportEnd with "ok" or "fail\n<reason>": only
 *     "ok" makes the driver commit the target; its reply is our output.
 *
 * So a short or long stream, a copy error, a stopped caller (end of
 * stdin) or SIGTERM/SIGINT/SIGHUP (the copy stops, ImportEnd says fail)
 * discard the target and keep the old data.  SIGKILL leaves the target
 * pending (never committed) and its flock(2) released.
 *
 * The invocation is checked like every other service
 * (service_check_stream(): call = basename(argv[0]) = full name up to
 * '+', argument = argv[1] = QREXEC_SERVICE_ARGUMENT, volume-name syntax,
 * source and target qube names), except that the payload is a stream and
 * is never buffered.  ImportWithSize's size line must be 1-19 digits
 * without leading zeros, or empty (= plain Import with the current size):
 * anything else qubesd refuses with a silent close, so we refuse it here
 * before contacting the broker.  Exit statuses: lib/exitcodes.h
 * (IMPORT_EXIT_*, those of the reference script).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exitcodes.h"
#include "ioall.h"
#include "log.h"
#include "service.h"
#include "strbuf.h"
#include "validate.h"
#include "volimport.h"

#define PROG		"qubes-admin-vm-volume-import"
#define CALL_IMPORT	"admin.vm.volume.Import"
#define CALL_WITH_SIZE	"admin.vm.volume.ImportWithSize"

static volatile sig_atomic_t import_stop;

static void
on_signal(int sig)
{
	(void)sig;
	import_stop = 1;
}

/* SIGTERM/SIGINT/SIGHUP interrupt reads (no SA_RESTART) and stop the
 * copy, so that ImportEnd still says "fail". */
static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* basename(argv[0]) without touching argv; "" if absent */
static const char *
base_name(int argc, char **argv)
{
	const char *s, *slash;

	if (argc < 1 || argv[0] == NULL)
		return "";
	s = argv[0];
	slash = strrchr(s, '/');
	return slash != NULL ? slash + 1 : s;
}

/* Copy a broker reply to stdout; 0 or -1. */
static int
relay(const struct strbuf *reply)
{
	if (reply->len == 0)
		return 0;
	return write_all(STDOUT_FILENO, reply->buf, reply->len);
}

static int
finish(int rc)
{
	/* the final check: an error reported only at close is a failure */
	if (close(STDOUT_FILENO) < 0 && errno != EBADF && errno != EINTR) {
		log_warn("write to stdout");
		return IMPORT_EXIT_INTERNAL;
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct service_env env;
	struct service_call call;
	struct volimport_line line;
	struct volimport_result res;
	struct strbuf reply;
	char path[PATH_MAX], status[160], esc[96];
	const char *base, *why, *sock;
	uint64_t size;
	size_t slen;
	int with_size, rc;

	/* with fd 0-2 closed the import target could become "stdout" */
	if (fcntl(STDIN_FILENO, F_GETFD) < 0 ||
	    fcntl(STDOUT_FILENO, F_GETFD) < 0 ||
	    fcntl(STDERR_FILENO, F_GETFD) < 0)
		return IMPORT_EXIT_INTERNAL;
	/* a vanished reader is an EPIPE error, not a silent death */
	signal(SIGPIPE, SIG_IGN);
	log_init(PROG, 0);

	base = base_name(argc, argv);
	if (strcmp(base, CALL_IMPORT) == 0)
		with_size = 0;
	else if (strcmp(base, CALL_WITH_SIZE) == 0)
		with_size = 1;
	else {
		fprintf(stderr, "Invoked with unknown basename %s, cannot "
		    "continue\n", log_escape(esc, sizeof(esc), base,
		    strlen(base)));
		return IMPORT_EXIT_FAILED;
	}
	service_env_load(&env, argc, argv);
	why = service_check_stream(&env, "vm_volume", &call);
	if (why != NULL) {
		service_refuse(&env, why);
		return IMPORT_EXIT_FAILED;
	}
	memset(&line, 0, sizeof(line));
	if (with_size) {
		if (volimport_read_line(STDIN_FILENO, &line) < 0) {
			if (errno == EINVAL)
				log_warnx("size line: not a line of at most "
				    "20 printable ASCII bytes");
			else if (errno == ENODATA)
				log_warnx("size line: end of input before "
				    "the newline");
			else
				log_warn("read the size line");
			return IMPORT_EXIT_SIZE_LINE;
		}
		/* sanitize start */
		if (line.len > 0 && parse_size(line.buf, line.len, &size) < 0) {
			service_refuse(&env, "size must be 1-19 digits without "
			    "leading zeros");
			return IMPORT_EXIT_FAILED;
		}
		/* sanitize end */
	}
	sock = service_sock_path(SOCK_INTERNAL);
	catch_signals();

	/* 1. ImportBegin */
	sb_init(&reply, VOLIMPORT_REPLY_MAX);
	if (volimport_call(sock, "internal.vm.volume.ImportBegin", call.arg,
	    call.src, call.dest, line.buf, line.len, &reply) < 0) {
		log_warn("ImportBegin on %s", sock);
		sb_free(&reply);
		return IMPORT_EXIT_INTERNAL;
	}
	if (reply.len < 2 || reply.buf[0] != '0' || reply.buf[1] != '\0') {
		rc = relay(&reply) < 0 ? IMPORT_EXIT_INTERNAL :
		    IMPORT_EXIT_FAILED;
		if (rc == IMPORT_EXIT_INTERNAL)
			log_warn("write to stdout");
		sb_free(&reply);
		return finish(rc);
	}

	/* 2. the copy */
	if (volimport_parse_begin((const unsigned char *)reply.buf + 2,
	    reply.len - 2, &size, path, sizeof(path)) < 0) {
		log_warnx("malformed ImportBegin reply from %s", sock);
		memset(&res, 0, sizeof(res));
		res.outcome = VOLIMPORT_COPY_ERROR;
		size = 0;
	} else {
		volimport_copy_path(STDIN_FILENO, path, size, &import_stop,
		    &res);
		if (res.outcome == VOLIMPORT_COPY_ERROR) {
			errno = res.err;
			log_warn("copy to %s failed at %s after %llu bytes",
			    path, res.step, (unsigned long long)res.copied);
		}
	}
	slen = volimport_status(&res, size, status, sizeof(status));

	/* 3. ImportEnd; its reply is the caller's result */
	sb_reset(&reply);
	if (volimport_call(sock, "internal.vm.volume.ImportEnd", call.arg,
	    call.src, call.dest, status, slen, &reply) < 0) {
		log_warn("ImportEnd on %s", sock);
		sb_free(&reply);
		return IMPORT_EXIT_INTERNAL;
	}
	rc = IMPORT_EXIT_OK;
	if (relay(&reply) < 0) {
		log_warn("write to stdout");
		rc = IMPORT_EXIT_INTERNAL;
	}
	sb_free(&reply);
	return finish(rc);
}
