/*
 * control.h - the three listening sockets and the poll() loop.
 *
 * One request per connection (protocol.md 2): read until EOF, at most
 * API_REQUEST_MAX bytes (more: close at once), dispatch, write the reply,
 * half-close, close.  Peers are checked with SO_PEERCRED.  The loop is
 * single-threaded: handlers run one at a time and see a consistent model.
 */
#ifndef CONTROL_H
#define CONTROL_H

/* Create qubesd.sock, qubesd.internal.sock, qubesd.misc.sock in run_dir. */
int	control_listen(const char *run_dir);
/* Serve until SIGTERM/SIGINT; returns 0 on a clean stop. */
int	control_loop(void);
/* Close and unlink the sockets. */
int	control_cleanup(void);

#endif
