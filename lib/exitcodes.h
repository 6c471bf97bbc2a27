/*
 * exitcodes.h - the exit statuses of the qrexec service executables
 * (services/qubes-admin-<family>, lib/service.c), in one place (STYLE rule
 * 21).
 *
 * qrexec hands a service's exit status to the calling qube as the status
 * of its qrexec-client-vm, so these are part of the service contract:
 *
 *	0	the broker's reply was delivered on stdout and it is an OK
 *		record ("0\0...") or an event stream ("1\0...")
 *	1	refused by the service itself: bad invocation, argument,
 *		source/target name or payload.  One line on stderr says why;
 *		nothing was sent to the broker and stdout is empty
 *	2	the broker's reply was delivered on stdout and it is an
 *		exception record ("2\0<type>\0<traceback>\0<message>\0")
 *	3	the broker closed the connection without a reply (its own
 *		refusal, as qubesd's silent close); stdout is empty
 *	125	internal problem of the service: broker socket unreachable,
 *		I/O error on the socket or on stdout (checked at the final
 *		close), a reply that does not start with a type digit and a
 *		NUL (it is still copied to stdout as received)
 *
 * The services have no command line of their own (qrexec gives at most
 * the argument as argv[1]), so there is no separate usage status: any
 * other invocation is a refusal (1).  Note that a socket service of
 * qubesd 4.2 always exits 0 (protocol.md 8.2); the reply bytes on stdout
 * are the same.
 *
 * qrexec's own statuses, which a caller may also see (qrexec.h), are used
 * by the qrexec simulator tests/tools/qrexec-sim.sh:
 *
 *	126	request refused by the policy ("Request refused")
 *	127	no such service
 *
 * The streaming import service (services/qubes-admin-vm-volume-import,
 * admin.vm.volume.Import / ImportWithSize) keeps the statuses of the
 * reference script (storage.md 7.9), which its callers know:
 *
 *	0	ImportEnd's reply was delivered on stdout, whatever it is
 *		(OK, exception, or empty)
 *	1	refused by the service (bad invocation or size line syntax,
 *		one line on stderr, stdout empty), or ImportBegin did not
 *		answer OK: its reply (possibly empty) is on stdout
 *	2	ImportWithSize: the first line of stdin is not a line of at
 *		most 20 printable ASCII bytes; nothing on stdout, the
 *		broker was not contacted
 *	125	the broker could not be reached, I/O error on the socket or
 *		stdout
 */
#ifndef EXITCODES_H
#define EXITCODES_H

#define SVC_EXIT_OK		0
#define SVC_EXIT_REFUSED	1
#define SVC_EXIT_EXCEPTION	2
#define SVC_EXIT_NO_REPLY	3
#define SVC_EXIT_INTERNAL	125

#define IMPORT_EXIT_OK		0
#define IMPORT_EXIT_FAILED	1
#define IMPORT_EXIT_SIZE_LINE	2
#define IMPORT_EXIT_INTERNAL	125

#define QREXEC_EXIT_REFUSED	126
#define QREXEC_EXIT_NOT_FOUND	127

#endif
