/*
 * worker.c - the model lock (see worker.h).
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "events.h"
#include "log.h"
#include "worker.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed;
static int threads;
static volatile int stopping;
static void (*wake_fn)(void);

void
model_threads(void)
{
	pthread_condattr_t ca;

	if (threads)
		return;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&changed, &ca);
	pthread_condattr_destroy(&ca);
	threads = 1;
	pthread_mutex_lock(&lock);
}

void
model_lock(void)
{
	if (threads)
		pthread_mutex_lock(&lock);
}

void
model_unlock(void)
{
	ev_commit();
	if (!threads)
		return;
	pthread_mutex_unlock(&lock);
	if (wake_fn != NULL)
		wake_fn();
}

void
model_unlock_quiet(void)
{
	ev_commit();
	if (threads)
		pthread_mutex_unlock(&lock);
}

void
model_broadcast(void)
{
	if (threads)
		pthread_cond_broadcast(&changed);
}

int
model_wait(double seconds)
{
	struct timespec ts;
	double t;
	int rc, had = ev_pending() > 0;

	ev_commit();
	if (!threads)
		return 1;
	if (had && wake_fn != NULL)
		wake_fn();
	if (seconds < 0)
		seconds = 0;
	t = now_mono() + seconds;
	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	rc = pthread_cond_timedwait(&changed, &lock, &ts);
	return rc == ETIMEDOUT;
}

void
model_set_wake(void (*wake)(void))
{
	wake_fn = wake;
}

int
model_stopping(void)
{
	return stopping;
}

void
model_set_stopping(void)
{
	stopping = 1;
	model_broadcast();
}

double
now_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
