/*
 * qdb.h - a small QubesDB client: reads a qube's QubesDB through the dom0
 * qubesdb-daemon's per-qube socket, <run>/qubes/qubesdb.<qube>.sock
 * (<run> = broker_run_dir()).
 *
 * Wire protocol (QubesOS/qubes-core-qubesdb, include/qubesdb.h; our own
 * implementation).  Every message is a fixed 72-byte header, optionally
 * followed by data_len bytes of value:
 *
 *	offset 0	uint8   type (enum qdb_msg)
 *	offset 1	char    path[64], NUL-terminated
 *	offset 65	3 bytes padding (C struct layout of the daemon)
 *	offset 68	uint32  data_len, host byte order (same machine)
 *
 * READ   -> one RESP_READ + value, or RESP_ERROR_NOENT, or RESP_ERROR.
 * MULTIREAD prefix -> RESP_MULTIREAD + value per entry whose path starts
 *	  with prefix, then an end marker (empty path, data_len 0).
 * LIST   prefix -> RESP_LIST per entry (paths only), then the end marker.
 *
 * Trust.  The daemon is in dom0, but every path and value it hands us was
 * written by the qube, so each byte is untrusted: headers are decoded and
 * checked by qdb_hdr_decode() before anything is used (known response
 * type for the command, path NUL-terminated and made of the characters
 * the daemon itself allows, data_len below QDB_MAX_DATA); values must
 * not hold a NUL (the daemon forbids it); a multiread answer may hold at
 * most QDB_MAX_ENTRIES entries and QDB_MAX_TOTAL bytes, no path twice,
 * every path under the prefix.  The socket is non-blocking and every
 * wait is bounded by the connection's deadline: a daemon that does not
 * answer in time makes the operation fail, it never hangs the caller.
 *
 * Errors.  Every function that can fail returns -1 and leaves a static
 * reason in qdb_error(); the connection is then unusable (close it).
 * Nothing here logs or exits.
 *
 * Ownership.  qdb_open*() return a connection the caller frees with
 * qdb_close() (NULL is a no-op).  Values and entry lists returned are
 * malloc'd and owned by the caller (free(), qdb_entries_free()).
 */
#ifndef QDB_H
#define QDB_H

#include <stddef.h>
#include <stdint.h>

/* Message types (enum qdb_msg of qubesdb.h: the order is the wire value). */
enum qdb_msg {
	QDB_CMD_READ,
	QDB_CMD_WRITE,
	QDB_CMD_MULTIREAD,
	QDB_CMD_LIST,
	QDB_CMD_RM,
	QDB_CMD_WATCH,
	QDB_CMD_UNWATCH,
	QDB_RESP_OK,
	QDB_RESP_ERROR_NOENT,
	QDB_RESP_ERROR,
	QDB_RESP_READ,
	QDB_RESP_MULTIREAD,
	QDB_RESP_LIST,
	QDB_RESP_WATCH,
};
#define QDB_MSG_COUNT	14

#define QDB_MAX_PATH	64	/* path field, NUL included */
#define QDB_MAX_DATA	3072	/* data_len must be below this */
#define QDB_HDR_SIZE	72
#define QDB_OFF_PATH	1
#define QDB_OFF_LEN	68

/* Our bounds on one multiread answer (the daemon has none). */
#define QDB_MAX_ENTRIES	512
#define QDB_MAX_TOTAL	(256u * 1024u)	/* paths + values */

/* Default deadline of one connection (connect + every operation). */
#define QDB_TIMEOUT_MS	3000

/* A decoded, checked header. */
struct qdb_hdr {
	unsigned	 type;
	char		 path[QDB_MAX_PATH];
	uint32_t	 data_len;
};

struct qdb_entry {
	char	*path;
	char	*value;		/* NUL-terminated, len without it */
	size_t	 len;
};

struct qdb_entries {
	struct qdb_entry	*v;
	size_t			 n;
	size_t			 total;	/* paths + values */
};

struct qdb;

/* ---- pure helpers (no I/O) */

/* Is p[0..len) a path the daemon accepts ([A-Za-z0-9_/.:@-], no leading
 * '-', shorter than QDB_MAX_PATH)?  The empty path is valid. */
int	qdb_path_valid(const char *p, size_t len);
/* Encode a command header; path must be valid (else -1). */
int	qdb_hdr_encode(unsigned char out[QDB_HDR_SIZE], unsigned type,
	    const char *path, uint32_t data_len);
/*
 * Decode and check a response header of exactly QDB_HDR_SIZE bytes:
 * type is a response type, the path field holds a NUL and a valid path,
 * data_len < QDB_MAX_DATA.  0, or -1 with *why set.
 */
int	qdb_hdr_decode(const unsigned char *untrusted_buf, size_t len,
	    struct qdb_hdr *out, const char **why);
void	qdb_entries_free(struct qdb_entries *e);

/* ---- connection */

/* "<run>/qubes/qubesdb.<name>.sock" into buf; -1 if it does not fit. */
int	qdb_sock_path(const char *name, char *buf, size_t len);
/* Connect to the daemon socket of qube `name`; NULL with *why set (and
 * errno kept) if there is none or it does not accept at once.  The
 * deadline of every later operation starts now. */
struct qdb *qdb_open(const char *name, int timeout_ms, const char **why);
/* The same with an explicit socket path. */
struct qdb *qdb_open_path(const char *path, int timeout_ms,
	    const char **why);
/* Wrap a connected stream socket (made non-blocking; owned from now on,
 * closed even on failure). */
struct qdb *qdb_open_fd(int fd, int timeout_ms, const char **why);
void	qdb_close(struct qdb *q);
/* Reason of the last failure (static string); "" if none. */
const char *qdb_error(const struct qdb *q);

/*
 * Read one entry: 1 and *value (malloc'd, NUL-terminated, *len bytes
 * without the NUL), 0 if there is no such entry, -1 on error.
 */
int	qdb_read(struct qdb *q, const char *path, char **value, size_t *len);
/* Every entry whose path starts with prefix, in the daemon's order; 0 or
 * -1 (out is then empty). */
int	qdb_multiread(struct qdb *q, const char *prefix,
	    struct qdb_entries *out);

#endif
