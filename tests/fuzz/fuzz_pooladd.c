/*
 * fuzz_pooladd.c - libFuzzer target for broker/poolcfg.c, the
 * admin.pool.Add payload parser (storage.md 5.5).
 *
 * FUZZ_SOURCES: broker/poolcfg.c broker/model.c
 *
 * The input is the payload.  Whatever it is, the parser must not crash
 * or leak, and its answer must agree with an independent reading of the
 * rules: on success every line is one key=value pair (split at the first
 * '='), the keys are unique, `name` is a valid pool name that does not
 * exist yet, every other key is a driver parameter, and no key or value
 * holds a line break or another control character; an error names
 * exactly the unknown keys, in payload order.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poolcfg.h"
#include "validate.h"

#define CHECK(x) do {							\
	if (!(x)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #x);					\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const params[] = {
	"revisions_to_keep", "dir_path", "setup_check", "ephemeral_volatile",
	NULL
};

static int
exists(const char *name)
{
	return strcmp(name, "varlibqubes") == 0;
}

static int
is_param(const char *k)
{
	size_t i;

	for (i = 0; params[i] != NULL; i++)
		if (strcmp(params[i], k) == 0)
			return 1;
	return 0;
}

static int
is_break(unsigned char c)
{
	return c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
	    c == 0x1c || c == 0x1d || c == 0x1e;
}

/* number of lines as Python's str.splitlines() counts them */
static size_t
count_lines(const unsigned char *p, size_t n)
{
	size_t i, lines = 0;

	for (i = 0; i < n; i++) {
		if (!is_break(p[i]))
			continue;
		lines++;
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
			i++;
	}
	if (n > 0 && !is_break(p[n - 1]))
		lines++;
	return lines;
}

static int
clean(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvlist kv, again;
	struct strbuf err, want, err2;
	const char *why, *why2;
	size_t i, j;
	int rc, rc2, ascii = 1;

	for (i = 0; i < size; i++)
		if (data[i] >= 0x80)
			ascii = 0;
	memset(&kv, 0, sizeof(kv));
	memset(&again, 0, sizeof(again));
	sb_init(&err, 1u << 20);
	sb_init(&err2, 1u << 20);
	sb_init(&want, 1u << 20);
	rc = poolcfg_parse((const char *)data, size, params, exists, &kv,
	    &why, &err);
	CHECK(rc == POOLCFG_OK || rc == POOLCFG_REFUSE || rc == POOLCFG_ERROR);
	if (!ascii)
		CHECK(rc == POOLCFG_REFUSE);
	if (rc == POOLCFG_REFUSE)
		CHECK(why != NULL);
	if (rc != POOLCFG_REFUSE) {
		/* one pair per line, all distinct, all printable */
		CHECK(kv.n == count_lines(data, size));
		for (i = 0; i < kv.n; i++) {
			CHECK(clean(kv.v[i].key) && clean(kv.v[i].value));
			for (j = i + 1; j < kv.n; j++)
				CHECK(strcmp(kv.v[i].key, kv.v[j].key) != 0);
		}
		CHECK(kvl_get(&kv, "name") != NULL);
		CHECK(validate_pool_name(kvl_get(&kv, "name")) == 0);
		CHECK(!exists(kvl_get(&kv, "name")));
		for (i = 0; i < kv.n; i++) {
			if (strcmp(kv.v[i].key, "name") == 0 ||
			    is_param(kv.v[i].key))
				continue;
			if (want.len == 0)
				sb_adds(&want, "unexpected driver options:");
			sb_addf(&want, " %s", kv.v[i].key);
		}
		if (rc == POOLCFG_OK)
			CHECK(want.len == 0);
		else
			CHECK(want.len > 0 && strcmp(want.buf, err.buf) == 0);
	}
	/* deterministic */
	rc2 = poolcfg_parse((const char *)data, size, params, exists, &again,
	    &why2, &err2);
	CHECK(rc2 == rc && again.n == kv.n);
	for (i = 0; rc != POOLCFG_REFUSE && i < kv.n; i++)
		CHECK(strcmp(kv.v[i].key, again.v[i].key) == 0 &&
		    strcmp(kv.v[i].value, again.v[i].value) == 0);
	kvl_free(&kv);
	kvl_free(&again);
	sb_free(&err);
	sb_free(&err2);
	sb_free(&want);
	return 0;
}
