/*
 * test_clonetok.c - broker/clonetok.c: token shape, one-time use,
 * expiry (with a fake clock), the bound on pending tokens, the TTL
 * parser.  storage.md 7.4.
 */
#include <stdlib.h>
#include <string.h>

#include "clonetok.h"
#include "log.h"
#include "unit.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define SEC		UINT64_C(1000000000)

static uint64_t fake_now = 1000 * SEC;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

static int
token_shape(const char *t)
{
	size_t i;

	if (strlen(t) != CLONETOK_LEN)
		return 0;
	for (i = 0; i < CLONETOK_LEN; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') ||
		    (t[i] >= 'A' && t[i] <= 'Z') ||
		    (t[i] >= '0' && t[i] <= '9')))
			return 0;
	return 1;
}

static const struct clonetok_src src_work = {
	"work", "private", "varlibqubes", "appvms/work/private"
};

static void
test_issue_take(void)
{
	char a[CLONETOK_LEN + 1], b[CLONETOK_LEN + 1], pad[64];
	struct clonetok_src got;

	clonetok_clear();
	is_int(clonetok_issue(&src_work, a), 0, "issue");
	ok(token_shape(a), "token is 32 of [A-Za-z0-9]: %s", a);
	is_int(clonetok_issue(&src_work, b), 0, "issue a second");
	ok(strcmp(a, b) != 0, "two tokens differ");
	is_int((long long)clonetok_count(), 2, "two pending");

	/* near misses are not the token */
	memcpy(pad, a, CLONETOK_LEN);
	is_int(clonetok_take(pad, CLONETOK_LEN - 1, &got), 0,
	    "a prefix is not the token");
	pad[CLONETOK_LEN] = 'x';
	is_int(clonetok_take(pad, CLONETOK_LEN + 1, &got), 0,
	    "a longer string is not the token");
	pad[0] ^= 1;
	is_int(clonetok_take(pad, CLONETOK_LEN, &got), 0,
	    "one byte off is not the token");
	is_int(clonetok_take("", 0, &got), 0, "empty is not a token");
	is_int((long long)clonetok_count(), 2, "misses consume nothing");

	is_int(clonetok_take(a, CLONETOK_LEN, &got), 1, "take");
	is_str(got.vm, "work", "take: qube");
	is_str(got.volume, "private", "take: volume");
	is_str(got.pool, "varlibqubes", "take: pool");
	is_str(got.vid, "appvms/work/private", "take: vid");
	clonetok_src_free(&got);
	clonetok_src_free(&got);	/* idempotent */
	is_int(clonetok_take(a, CLONETOK_LEN, &got), 0, "one-time");
	is_int((long long)clonetok_count(), 1, "one pending");
	is_int(clonetok_take(b, CLONETOK_LEN, &got), 1, "take the second");
	clonetok_src_free(&got);
	is_int((long long)clonetok_count(), 0, "none pending");
}

static void
test_expiry(void)
{
	char a[CLONETOK_LEN + 1], b[CLONETOK_LEN + 1];
	struct clonetok_src got;

	clonetok_clear();
	clonetok_set_clock(fake_clock);
	unsetenv(CLONETOK_TTL_ENV);
	is_int(clonetok_issue(&src_work, a), 0, "expiry: issue");
	fake_now += (CLONETOK_TTL_DEFAULT - 1) * SEC;
	is_int(clonetok_issue(&src_work, b), 0, "expiry: issue later");
	fake_now += SEC - 1;
	is_int(clonetok_take(a, CLONETOK_LEN, &got), 1,
	    "expiry: alive 1 ns before the TTL");
	clonetok_src_free(&got);
	is_int(clonetok_issue(&src_work, a), 0, "expiry: issue again");
	fake_now += CLONETOK_TTL_DEFAULT * SEC;
	is_int(clonetok_take(a, CLONETOK_LEN, &got), 0,
	    "expiry: dead at the TTL");
	ok(got.vm == NULL, "expiry: nothing returned");
	is_int((long long)clonetok_count(), 0,
	    "expiry: expired tokens are dropped");

	setenv(CLONETOK_TTL_ENV, "0", 1);
	is_int(clonetok_issue(&src_work, a), 0, "ttl 0: issue");
	is_int(clonetok_take(a, CLONETOK_LEN, &got), 0,
	    "ttl 0: expired at once");
	setenv(CLONETOK_TTL_ENV, "5", 1);
	is_int(clonetok_issue(&src_work, a), 0, "ttl 5: issue");
	fake_now += 4 * SEC;
	is_int(clonetok_take(a, CLONETOK_LEN, &got), 1, "ttl 5: alive at 4 s");
	clonetok_src_free(&got);
	unsetenv(CLONETOK_TTL_ENV);
	clonetok_set_clock(NULL);
	clonetok_clear();
}

static void
test_bound(void)
{
	static char toks[CLONETOK_MAX + 1][CLONETOK_LEN + 1];
	struct clonetok_src got;
	size_t i;
	int fails = 0;

	clonetok_clear();
	log_set_quiet(1);	/* the "table full" line */
	for (i = 0; i < CLONETOK_MAX + 1; i++)
		if (clonetok_issue(&src_work, toks[i]) != 0)
			fails++;
	is_int(fails, 0, "bound: %d issues", CLONETOK_MAX + 1);
	is_int((long long)clonetok_count(), CLONETOK_MAX,
	    "bound: at most %d pending", CLONETOK_MAX);
	is_int(clonetok_take(toks[0], CLONETOK_LEN, &got), 0,
	    "bound: the oldest was dropped");
	is_int(clonetok_take(toks[1], CLONETOK_LEN, &got), 1,
	    "bound: the second oldest is still there");
	clonetok_src_free(&got);
	is_int(clonetok_take(toks[CLONETOK_MAX], CLONETOK_LEN, &got), 1,
	    "bound: the newest is there");
	clonetok_src_free(&got);
	clonetok_clear();
	is_int((long long)clonetok_count(), 0, "clear");
}

static const struct {
	const char	*in;
	uint64_t	 want;
} ttl_cases[] = {
	{ NULL, CLONETOK_TTL_DEFAULT },
	{ "", CLONETOK_TTL_DEFAULT },
	{ "0", 0 },
	{ "1", 1 },
	{ "3600", 3600 },
	{ "999999999", 999999999 },
	{ "1000000000", CLONETOK_TTL_DEFAULT },
	{ "01", CLONETOK_TTL_DEFAULT },
	{ "-1", CLONETOK_TTL_DEFAULT },
	{ "+1", CLONETOK_TTL_DEFAULT },
	{ " 1", CLONETOK_TTL_DEFAULT },
	{ "1s", CLONETOK_TTL_DEFAULT },
};

static void
test_ttl(void)
{
	size_t i;

	for (i = 0; i < NELEM(ttl_cases); i++)
		is_int((long long)clonetok_ttl(ttl_cases[i].in),
		    (long long)ttl_cases[i].want, "ttl %s",
		    unit_qs(ttl_cases[i].in));
}

/* Every character of the alphabet shows up, none outside it. */
static void
test_spread(void)
{
	char t[CLONETOK_LEN + 1];
	struct clonetok_src got;
	int seen[256] = { 0 }, n = 0, bad = 0;
	size_t i, j;

	clonetok_clear();
	for (i = 0; i < 200; i++) {
		if (clonetok_issue(&src_work, t) != 0 || !token_shape(t))
			bad++;
		for (j = 0; j < CLONETOK_LEN; j++)
			seen[(unsigned char)t[j]]++;
		if (clonetok_take(t, CLONETOK_LEN, &got) == 1)
			clonetok_src_free(&got);
	}
	for (i = 0; i < 256; i++)
		n += seen[i] > 0;
	is_int(bad, 0, "spread: 200 well-formed tokens");
	is_int(n, 62, "spread: all 62 characters drawn");
}

int
main(void)
{
	test_issue_take();
	test_expiry();
	test_bound();
	test_ttl();
	test_spread();
	return done_testing();
}
