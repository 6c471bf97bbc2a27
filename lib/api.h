/*
 * api.h - the one table of every call qubesd 4.2 serves.
 *
 * Each family has an X-macro file lib/api/<family>.def with one row per
 * call:
 *
 *	METHOD(name, family, sock, dest, arg, payload, max, scope, rwx, file,
 *	    impl)
 *
 * The table is the single source of: broker dispatch (which names exist on
 * which socket, which are "no payload"), the service executables' front
 * checks, the /etc/qubes-rpc links, the default admin policy and the README
 * call list.  `impl` says whether this implementation serves the call yet;
 * an unimplemented call answers exactly like an unknown method (silent
 * close) and gets no link and no policy line.
 *
 * Everything here is static const; lookups never allocate.
 */
#ifndef API_H
#define API_H

#include <stddef.h>

enum api_sock {
	SOCK_ADMIN,		/* qubesd.sock */
	SOCK_INTERNAL,		/* qubesd.internal.sock */
	SOCK_MISC,		/* qubesd.misc.sock */
	SOCK_NONE,		/* not a qubesd method (service scripts only) */
};

enum api_dest {
	DEST_DOM0,		/* destination must be dom0 */
	DEST_ANY,		/* any qube including dom0 */
	DEST_VM,		/* meant for a qube; dom0 not refused up front */
};

enum api_arg {
	ARG_EMPTY,		/* argument must be empty */
	ARG_PROPERTY,		/* property name */
	ARG_FEATURE,		/* feature name */
	ARG_TAG,		/* tag name */
	ARG_LABEL,		/* label name or number */
	ARG_VMNAME_OPT,		/* qube name or empty (Create template) */
	ARG_POOL,		/* pool name */
	ARG_VOLUME,		/* volume name */
	ARG_DRIVER,		/* pool driver name */
	ARG_SHUTDOWN,		/* "force", "wait" joined by "+" or empty */
	ARG_DEVICE,		/* backend+ident */
	ARG_DEVICE_OPT,		/* empty or device ident */
	ARG_PROFILE,		/* backup profile name */
	ARG_VOLUME_ATTR,	/* volume name (Set.* calls) */
};

enum api_payload {
	PL_NONE,		/* declared "no payload" */
	PL_VALUE,		/* property / feature value, raw bytes */
	PL_CREATE,		/* key=value parameters of Create */
	PL_COLOR,		/* 0xRRGGBB */
	PL_SIZE,		/* decimal size */
	PL_NUMBER,		/* decimal number */
	PL_BOOL,		/* boolean word */
	PL_TOKEN,		/* clone token */
	PL_REVISION,		/* revision name */
	PL_POOLCFG,		/* key=value lines */
	PL_FIREWALL,		/* firewall rules */
	PL_DEVOPTS,		/* device options */
	PL_STREAM,		/* volume data (Import) */
	PL_ANY,			/* anything up to max */
};

enum api_scope {
	SCOPE_LOCAL,
	SCOPE_GLOBAL,
};

#define RWX_R	1u
#define RWX_W	2u
#define RWX_X	4u

enum api_file {
	FILE_SOCK,		/* /etc/qubes-rpc link */
	FILE_SCRIPT,		/* executable service */
	FILE_NONE,		/* no service file: dom0 socket only */
};

struct api_method {
	const char	*name;
	const char	*family;
	enum api_sock	 sock;
	enum api_dest	 dest;
	enum api_arg	 arg;
	enum api_payload payload;
	size_t		 payload_max;	/* 0 with PL_NONE */
	enum api_scope	 scope;
	unsigned	 rwx;
	enum api_file	 file;
	int		 impl;
};

/* Largest request qubesd accepts: header + NUL + payload (protocol.md 2). */
#define API_REQUEST_MAX	65536
/* Default payload bound for calls that take one. */
#define API_PAYLOAD_MAX	65536

/* The whole table and its length. */
extern const struct api_method api_methods[];
extern const size_t api_methods_count;

/* Exact-name lookup; NULL if the name is not a qubesd 4.2 call. */
const struct api_method *api_lookup(const char *name);

/* Lookup restricted to one socket; NULL if absent there. */
const struct api_method *api_lookup_sock(const char *name, enum api_sock s);

/* Include file of the default policy for a row ("admin-local-ro", ...). */
const char *api_policy_include(const struct api_method *m);

/* "r", "w", "rx", ... for documentation. */
const char *api_rwx_str(unsigned rwx);

#endif
