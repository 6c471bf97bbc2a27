/*
 * clonetok.c - pending-clone tokens; see clonetok.h.
 *
 * The table is an array in issue order (oldest first): dropping the
 * oldest is removing entry 0, expiry is checked on every issue and take.
 * With CLONETOK_MAX entries a linear scan is cheaper than anything
 * cleverer.  Lookups compare every pending token in constant time per
 * entry, so the answer time does not depend on how much of a guess
 * matched.
 */
#include <sys/random.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clonetok.h"
#include "log.h"

static const char clonetok_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

struct clonetok {
	char			token[CLONETOK_LEN + 1];
	uint64_t		expires;	/* monotonic ns */
	struct clonetok_src	src;
};

static struct clonetok clonetok_tab[CLONETOK_MAX];
static size_t clonetok_n;
static uint64_t (*clonetok_clock)(void);

static uint64_t
clonetok_now(void)
{
	struct timespec ts;

	if (clonetok_clock != NULL)
		return clonetok_clock();
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
clonetok_set_clock(uint64_t (*now_ns)(void))
{
	clonetok_clock = now_ns;
}

uint64_t
clonetok_ttl(const char *env)
{
	uint64_t v = 0;
	size_t i, len;

	if (env == NULL)
		return CLONETOK_TTL_DEFAULT;
	len = strlen(env);
	if (len == 0 || len > 9 || (env[0] == '0' && len > 1))
		return CLONETOK_TTL_DEFAULT;
	for (i = 0; i < len; i++) {
		if (env[i] < '0' || env[i] > '9')
			return CLONETOK_TTL_DEFAULT;
		v = v * 10 + (uint64_t)(env[i] - '0');
	}
	return v;
}

void
clonetok_src_free(struct clonetok_src *src)
{
	if (src == NULL)
		return;
	free(src->vm);
	free(src->volume);
	free(src->pool);
	free(src->vid);
	memset(src, 0, sizeof(*src));
}

/* Remove entry i, keeping the order of the others. */
static void
clonetok_remove(size_t i)
{
	clonetok_src_free(&clonetok_tab[i].src);
	memset(clonetok_tab[i].token, 0, sizeof(clonetok_tab[i].token));
	memmove(&clonetok_tab[i], &clonetok_tab[i + 1],
	    (clonetok_n - i - 1) * sizeof(clonetok_tab[0]));
	clonetok_n--;
	memset(&clonetok_tab[clonetok_n], 0, sizeof(clonetok_tab[0]));
}

static void
clonetok_expire(uint64_t now)
{
	size_t i = 0;

	while (i < clonetok_n) {
		if (now >= clonetok_tab[i].expires)
			clonetok_remove(i);
		else
			i++;
	}
}

/* Constant-time equality of a pending token and len candidate bytes. */
static int
clonetok_equal(const char *tok, const char *untrusted_s, size_t len)
{
	unsigned char diff = 0;
	size_t i;

	if (len != CLONETOK_LEN)
		return 0;
	for (i = 0; i < CLONETOK_LEN; i++)
		diff |= (unsigned char)(tok[i] ^ untrusted_s[i]);
	return diff == 0;
}

static int
clonetok_find(const char *untrusted_s, size_t len, size_t *at)
{
	size_t i;
	int found = 0;

	for (i = 0; i < clonetok_n; i++) {
		if (clonetok_equal(clonetok_tab[i].token, untrusted_s, len) &&
		    !found) {
			*at = i;
			found = 1;
		}
	}
	return found;
}

/* 32 characters uniform over the 62 of clonetok_chars. */
static int
clonetok_draw(char token[CLONETOK_LEN + 1])
{
	unsigned char buf[64];
	size_t have = 0, used = 0, got = 0;
	ssize_t n;

	while (got < CLONETOK_LEN) {
		if (used == have) {
			n = getrandom(buf, sizeof(buf), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return -1;
			have = (size_t)n;
			used = 0;
		}
		/* 248 = 4 * 62: bytes above it would bias the draw */
		if (buf[used] < 248)
			token[got++] = clonetok_chars[buf[used] % 62];
		used++;
	}
	token[CLONETOK_LEN] = '\0';
	memset(buf, 0, sizeof(buf));
	return 0;
}

static char *
dup_or_null(const char *s)
{
	return strdup(s != NULL ? s : "");
}

int
clonetok_issue(const struct clonetok_src *src, char token[CLONETOK_LEN + 1])
{
	struct clonetok *t;
	uint64_t now, ttl;
	size_t at;

	if (clonetok_draw(token) < 0) {
		log_warn("getrandom");
		return -1;
	}
	now = clonetok_now();
	clonetok_expire(now);
	if (clonetok_find(token, CLONETOK_LEN, &at))
		return 1;
	if (clonetok_n == CLONETOK_MAX) {
		log_info("clone token table full: dropping the oldest token");
		clonetok_remove(0);
	}
	t = &clonetok_tab[clonetok_n];
	memset(t, 0, sizeof(*t));
	t->src.vm = dup_or_null(src->vm);
	t->src.volume = dup_or_null(src->volume);
	t->src.pool = dup_or_null(src->pool);
	t->src.vid = dup_or_null(src->vid);
	if (t->src.vm == NULL || t->src.volume == NULL ||
	    t->src.pool == NULL || t->src.vid == NULL) {
		clonetok_src_free(&t->src);
		errno = ENOMEM;
		return -1;
	}
	memcpy(t->token, token, CLONETOK_LEN + 1);
	ttl = clonetok_ttl(getenv(CLONETOK_TTL_ENV));
	t->expires = now + ttl * 1000000000u;
	clonetok_n++;
	return 0;
}

int
clonetok_take(const char *untrusted_token, size_t len,
    struct clonetok_src *out)
{
	uint64_t now;
	size_t at;
	int live;

	memset(out, 0, sizeof(*out));
	now = clonetok_now();
	if (!clonetok_find(untrusted_token, len, &at))
		return 0;
	/* one-time: removed now, whatever happens next */
	live = now < clonetok_tab[at].expires;
	if (live) {
		*out = clonetok_tab[at].src;
		memset(&clonetok_tab[at].src, 0, sizeof(clonetok_tab[at].src));
	}
	clonetok_remove(at);
	clonetok_expire(now);
	return live;
}

size_t
clonetok_count(void)
{
	return clonetok_n;
}

void
clonetok_clear(void)
{
	while (clonetok_n > 0)
		clonetok_remove(clonetok_n - 1);
}
