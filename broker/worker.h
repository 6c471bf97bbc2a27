/*
 * worker.h - the model lock, and calls that finish off the main loop.
 *
 * The broker answers from one poll loop.  Calls that wait for libvirt or
 * for a qube (Start, Shutdown, Kill, ...) return API_DEFER: they run on a
 * thread of their own and reply when done, so a slow or stuck libvirt
 * never delays the other callers.  The model (app, every struct vm, the
 * event queue, the connections) is guarded by one lock: the loop holds it
 * except while it sleeps in poll(), a worker holds it except around its
 * blocking calls.  Whoever drops the lock first delivers the events it
 * queued (model_unlock), so events keep the order in which they happened.
 *
 * Without threads (unit tests, fuzzers: model_threads() never called)
 * the lock functions do nothing and deferred calls run inline.
 *
 * A worker holding a struct vm * across model_unlock()/model_wait() must
 * look the qube up again afterwards (it may have been removed), unless it
 * owns the qube (vm->busy), which keeps it in the collection.
 */
#ifndef WORKER_H
#define WORKER_H

/* Turn the lock on (the loop calls this once before it starts). */
void	model_threads(void);
void	model_lock(void);
/* Deliver the queued events, release, and wake the loop. */
void	model_unlock(void);
/* The same without the wake-up (the loop itself, before poll). */
void	model_unlock_quiet(void);
/* Signal a change of runtime state (power states, busy flags). */
void	model_broadcast(void);
/* Wait for a broadcast, at most `seconds` (lock held; released while
 * waiting).  Returns 0 when woken, 1 on timeout. */
int	model_wait(double seconds);
/* The loop's wake-up: set by control.c. */
void	model_set_wake(void (*wake)(void));
/* Set when the broker stops: waits end early. */
int	model_stopping(void);
void	model_set_stopping(void);

/* Wall-clock and monotonic seconds. */
double	now_wall(void);
double	now_mono(void);

#endif
