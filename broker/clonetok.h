/*
 * clonetok.h - the pending-clone tokens of admin.vm.volume.CloneFrom /
 * CloneTo (storage.md 7.4).
 *
 * CloneFrom issues a token naming the source volume; CloneTo takes it
 * back.  qubesd keeps its tokens in a dict on the app object for ever;
 * we bound the table (STYLE rule 15) in two ways, both refusals of
 * CloneTo when they bite (docs/divergences.md):
 *
 *  - a token expires CLONETOK_TTL_DEFAULT seconds after it was issued
 *    (environment QUBES_BROKER_CLONE_TOKEN_TTL: decimal seconds, read at
 *    issue time; 0 makes every token expire at once, for tests);
 *  - at most CLONETOK_MAX tokens are pending: issuing one more drops the
 *    oldest.
 *
 * A token is 32 characters drawn uniformly from [A-Za-z0-9] with
 * getrandom(2) (rejection sampling: no modulo bias).  It is one-time:
 * clonetok_take() removes it whether or not the caller then succeeds, as
 * qubesd does.  The table holds names (qube, volume, pool, vid), never
 * model pointers, so it survives a model reload (persist_commit) and
 * never dangles; the caller re-resolves the names.
 *
 * Like the event queue this is module state of the broker (the only
 * other mutable statics besides model.c and the loop): the tokens are
 * deliberately not part of the persisted model, and they are lost on a
 * restart, as in qubesd.
 *
 * Ownership: clonetok_issue() copies its strings; clonetok_take() fills a
 * struct clonetok_src whose strings the caller frees with
 * clonetok_src_free().
 */
#ifndef CLONETOK_H
#define CLONETOK_H

#include <stddef.h>
#include <stdint.h>

#define CLONETOK_LEN		32
#define CLONETOK_MAX		1024
#define CLONETOK_TTL_DEFAULT	600	/* seconds */
#define CLONETOK_TTL_ENV	"QUBES_BROKER_CLONE_TOKEN_TTL"

/* The volume a token stands for. */
struct clonetok_src {
	char	*vm;		/* qube name */
	char	*volume;	/* volume name in that qube */
	char	*pool;		/* pool name */
	char	*vid;		/* volume id in that pool */
};

/*
 * Issue a token for src (strings copied) into token (NUL-terminated).
 * Returns 0; 1 if the drawn token collides with a pending one (qubesd
 * refuses the call then); -1 with errno on getrandom or memory failure.
 */
int	clonetok_issue(const struct clonetok_src *src,
	    char token[CLONETOK_LEN + 1]);

/*
 * Take (and remove) the pending token of len bytes at untrusted_token.
 * Returns 1 and fills *out (caller frees with clonetok_src_free()), or 0
 * if no such token is pending (never issued, used, dropped or expired; an
 * expired token is removed too).
 */
int	clonetok_take(const char *untrusted_token, size_t len,
	    struct clonetok_src *out);

void	clonetok_src_free(struct clonetok_src *src);

/* Number of pending tokens, expired ones included (tests). */
size_t	clonetok_count(void);
/* Drop every token (shutdown, tests). */
void	clonetok_clear(void);

/* Test hook: replace the monotonic clock (nanoseconds); NULL restores. */
void	clonetok_set_clock(uint64_t (*now_ns)(void));

/*
 * The TTL in seconds from a value of CLONETOK_TTL_ENV: 1-9 decimal
 * digits without leading zeros (or "0"); NULL or anything else gives
 * CLONETOK_TTL_DEFAULT.
 */
uint64_t clonetok_ttl(const char *env);

#endif
