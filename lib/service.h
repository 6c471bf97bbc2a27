/*
 * service.h - the shared main of the qrexec service executables.
 *
 * Every services/qubes-admin-<family>.c is one line: main() returns
 * service_main(argc, argv, "<family>").  One executable serves the calls
 * of its family of the call table (lib/api/<family>.def); /etc/qubes-rpc
 * holds one symlink per call pointing at it (qubes-rpc/links.txt), so the
 * call name is the basename of argv[0].  The misc family (lib/api/
 * misc.def: qubes.FeaturesRequest, qubes.NotifyTools, qubes.NotifyUpdates
 * on the misc socket, protocol.md 10) is served the same way by
 * services/qubes-misc (SERVICE_MISC_EXE), which replaces the three dom0
 * scripts of qubesd 4.2; see "The misc family" below.
 *
 * What qrexec gives a service (protocol.md 8.3, policy.md 12.3):
 *
 *	argv[0]				path of /etc/qubes-rpc/<call>
 *	argv[1]				the argument, only when non-empty
 *	QREXEC_SERVICE_FULL_NAME	<call>+<argument>
 *	QREXEC_SERVICE_ARGUMENT		<argument> (optional)
 *	QREXEC_REMOTE_DOMAIN		source qube
 *	QREXEC_REQUESTED_TARGET_TYPE	"name" or "keyword"
 *	QREXEC_REQUESTED_TARGET		dest qube (type name)
 *	QREXEC_REQUESTED_TARGET_KEYWORD	"adminvm" = dom0 (type keyword)
 *
 * Calling sequence of service_main() (STYLE 8, steps 1-3 and 8):
 *
 *  1. service_env_load(): the untrusted values above as (pointer, length).
 *  2. service_check(): the call name (QREXEC_SERVICE_FULL_NAME up to the
 *     first '+') equals basename(argv[0]), is a row of this family that is
 *     implemented and served by a qrexec executable (service_serves());
 *     the argument equals argv[1] and QREXEC_SERVICE_ARGUMENT when those
 *     are present, is in the qrexec charset [A-Za-z0-9_.+-] and follows
 *     the row's ARG_* syntax; source and target are qube names (<= 31
 *     bytes, protocol.md 5.2) or keyword adminvm (= dom0); the DEST_* rule
 *     where it needs no broker state (DEST_DOM0).  Success fills a struct
 *     service_call with validated copies.
 *  3. stdin is read up to the payload bound + 1 byte only (no payload:
 *     one byte refuses; too long: refused at once), then
 *     service_check_payload() applies the row's PL_* syntax that needs no
 *     broker state (ASCII values, Create parameter shape, colour).
 *  4. The request is sent to the broker in qubesd 4.2 framing
 *     ("call+arg src name dest\0payload", then shutdown(SHUT_WR)) on
 *     QUBESD_SOCKET (default SERVICE_ADMIN_SOCK), and the reply is copied
 *     to stdout verbatim, as it arrives.
 *  5. The exit status follows lib/exitcodes.h: 0 OK reply (or event
 *     stream), 1 refused by the service, 2 exception reply, 3 closed
 *     without a reply, 125 internal problem (socket, I/O, malformed
 *     reply); stdout's final close is checked.
 *
 * The misc family (services/qubes-misc) differs where the 4.2 scripts
 * (qubesd-query -c /var/run/qubesd.misc.sock [-e] --fail
 * "$QREXEC_REMOTE_DOMAIN" <call> dom0 "" >/dev/null 2>&1) do:
 *
 *  - the target must be dom0 (name dom0 or keyword adminvm) for every
 *    misc call, NotifyUpdates included (its row says DEST_ANY because
 *    the broker, like qubesd, does not check it); the argument must be
 *    empty (ARG_EMPTY).  The scripts ignore both and always send dom0 and
 *    an empty argument; every 4.2 caller runs "qrexec-client-vm dom0
 *    <call>" and the default policy allows only target dom0, so anything
 *    else is refused here (docs/divergences.md);
 *  - the request goes to QUBESD_MISC_SOCKET (default SERVICE_MISC_SOCK);
 *  - calls without a payload (FeaturesRequest, NotifyTools) never read
 *    stdin, as the scripts' qubesd-query -e: a caller whose stdin stays
 *    open must not hang the call; what it sends is dropped.
 *    NotifyUpdates reads its payload as in step 3 and checks it is an
 *    update count (validate_update_count(), the broker's rule);
 *  - the reply is read to the end but not copied to stdout (the scripts
 *    send it to /dev/null): stdout stays empty.  The exit status is the
 *    reply's: 0 for "0\0", 2 for an exception record; 3, 125 and 1 as in
 *    step 5 (the scripts give 1 for all of those); an event record
 *    ("1\0") is a malformed reply (125) here.
 *
 * Refusals never "fix up" a byte: anything outside the rules refuses with
 * one line on stderr ("refused <call+arg> from <src> to <dest>: <why>",
 * untrusted parts escaped) and exit status 1, before anything reaches the
 * broker.  Where qubesd 4.2 would answer a malformed request with an
 * exception that depends on its state (e.g. "No such domain" for a Create
 * template name that cannot be a qube name, QubesNoSuchPropertyError for
 * a property name that is no identifier), the service refuses instead:
 * the service is the strict front, the broker keeps qubesd's behaviour for
 * the dom0 callers of its socket.
 *
 * Reasons are static strings (stable: the unit tests compare them).
 * Nothing here allocates except service_main(); nothing exits.
 */
#ifndef SERVICE_H
#define SERVICE_H

#include <stddef.h>

#include "api.h"

/* Compiled-in broker sockets; QUBESD_SOCKET / QUBESD_INTERNAL_SOCKET /
 * QUBESD_MISC_SOCKET override them (tests, non-standard installs). */
#define SERVICE_ADMIN_SOCK	"/var/run/qubesd.sock"
#define SERVICE_INTERNAL_SOCK	"/var/run/qubesd.internal.sock"
#define SERVICE_MISC_SOCK	"/var/run/qubesd.misc.sock"

/* The misc family and its executable (not "qubes-admin-misc": these are
 * no Admin API calls). */
#define SERVICE_MISC_FAMILY	"misc"
#define SERVICE_MISC_EXE	"qubes-misc"

#define SERVICE_CALL_MAX	255	/* qrexec: service name when executed */
#define SERVICE_ARG_MAX		255	/* longest argument we accept */
#define SERVICE_QUBE_MAX	31	/* qube name (protocol.md 5.2) */

/* One untrusted value: ptr NULL = unset (no variable, no argv entry). */
struct service_str {
	const char	*ptr;
	size_t		 len;
};

struct service_env {
	int			argc;
	struct service_str	argv0;
	struct service_str	argv1;
	struct service_str	full_name;	/* QREXEC_SERVICE_FULL_NAME */
	struct service_str	argument;	/* QREXEC_SERVICE_ARGUMENT */
	struct service_str	remote_domain;	/* QREXEC_REMOTE_DOMAIN */
	struct service_str	target_type;	/* ..._REQUESTED_TARGET_TYPE */
	struct service_str	target;		/* ..._REQUESTED_TARGET */
	struct service_str	target_keyword;	/* ..._TARGET_KEYWORD */
};

/* A call that passed service_check(); every field is validated. */
struct service_call {
	const struct api_method	*m;		/* row of the call table */
	char			 arg[SERVICE_ARG_MAX + 1];
	char			 src[SERVICE_QUBE_MAX + 1];
	char			 dest[SERVICE_QUBE_MAX + 1];	/* or dom0 */
	size_t			 payload_max;	/* row bound, capped so that
						   the request fits 64 KiB */
};

/* Run one service invocation; returns the exit status (exitcodes.h). */
int	service_main(int argc, char **argv, const char *family);

/*
 * Fill env from argv and the process environment.  Borrows: the pointers
 * stay valid as long as argv and environ do.
 */
void	service_env_load(struct service_env *env, int argc, char **argv);

/*
 * Check one invocation for the executable of `family` (a family name of
 * the table, e.g. "vm_property").  Returns NULL and fills *call, or the
 * reason of the refusal (*call is then unspecified).
 */
const char *service_check(const struct service_env *untrusted_env,
	    const char *family, struct service_call *call);

/*
 * Check a payload of len bytes for a call that passed service_check().
 * Returns NULL or the reason of the refusal.
 */
const char *service_check_payload(const struct service_call *call,
	    const unsigned char *untrusted_payload, size_t len);

/*
 * Is this row served by a service executable: an implemented admin.*
 * call on the admin socket with a plain forwarding service file, or an
 * implemented qubes.* call on the misc socket with a script service file
 * (the misc family, SERVICE_MISC_EXE)?  The link list (api-table
 * --links) and service_check() both use it.
 */
int	service_serves(const struct api_method *m);

/*
 * Is this row served by the streaming import executable (an implemented
 * admin.* call with a FILE_SCRIPT service file and a PL_STREAM payload:
 * admin.vm.volume.Import, ImportWithSize; storage.md 7.9)?  Its
 * executable is the family's name plus SERVICE_STREAM_SUFFIX
 * (qubes-admin-vm-volume-import): it checks the invocation with
 * service_check_stream() and streams the payload itself.
 */
#define SERVICE_STREAM_SUFFIX	"-import"
int	service_serves_stream(const struct api_method *m);

/*
 * The executable that the /etc/qubes-rpc link of row m points at (the
 * link list, api-table --links): 1 with the name in out; 0 if the row
 * gets no link; -1 if the name does not fit in len bytes.
 */
int	service_link_exe(const struct api_method *m, char *out, size_t len);

/* service_check() for the streaming import executable: the same checks,
 * but only rows of service_serves_stream() pass (payload_max is 0: the
 * payload is a stream, never buffered). */
const char *service_check_stream(const struct service_env *untrusted_env,
	    const char *family, struct service_call *call);

/* The refusal line on stderr: "refused <call+arg> from <src> to <dest>:
 * <why>", untrusted parts escaped. */
void	service_refuse(const struct service_env *untrusted_env,
	    const char *why);

/* Broker socket of a call's socket kind, with the QUBESD_SOCKET /
 * QUBESD_INTERNAL_SOCKET / QUBESD_MISC_SOCKET overrides (an empty value
 * counts as unset); NULL for SOCK_NONE. */
const char *service_sock_path(enum api_sock s);

/* Executable of a family: "qubes-admin-" + family with '_' -> '-', and
 * SERVICE_MISC_EXE for SERVICE_MISC_FAMILY.  Returns 0, or -1 if it does
 * not fit in len bytes. */
int	service_exe_name(const char *family, char *out, size_t len);

/*
 * Read fd to EOF, but never more than max + 1 bytes in all, into buf
 * (room for max + 1 bytes).  Returns 0 with *len <= max; -1 with errno
 * E2BIG as soon as a byte beyond max arrived, or the read error.
 */
int	service_read_bounded(int fd, unsigned char *buf, size_t max,
	    size_t *len);

#endif
