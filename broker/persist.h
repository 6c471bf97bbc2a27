/*
 * persist.h - qubes.xml <-> model (qubes-xml.md).
 *
 * persist_load() parses a store into a fresh struct app.  Whole-store
 * problems (malformed XML, bad labels or pools, a global property naming
 * a missing qube) fail the load with a message.  A qube that cannot be
 * understood (unknown class, unknown property, bad value, dangling
 * reference, duplicate qid...) does not stop the others: it is left out
 * of the model with a warning naming it, and its <domain> element is kept
 * verbatim and written back unchanged on every save, so nothing is lost.
 * A qube referring to a left-out qube is left out too.
 *
 * persist_save() writes the model atomically (lib/atomicfile), mode 0660,
 * group "qubes" when it exists, under a POSIX lock on qubes.xml, after
 * checking that nobody else modified the file since it was loaded.
 *
 * persist_commit() is what write handlers call last: save, then release
 * the queued events; if the save fails the in-memory change is undone by
 * reloading the store from disk (which still holds the previous state)
 * and the caller gets a QubesException.
 */
#ifndef PERSIST_H
#define PERSIST_H

#include "call.h"
#include "strbuf.h"

struct app;

/* Maximum size of qubes.xml we accept (STYLE rule 15). */
#define PERSIST_MAX_XML	(64u * 1024u * 1024u)

int	persist_load(const char *path, const char *base_dir, struct app **out,
	    struct strbuf *err);
/* Parse an in-memory document (fuzzing, tests). */
int	persist_load_mem(const char *data, size_t len, const char *base_dir,
	    struct app **out, struct strbuf *err);
/* Serialize the model; caller frees *out. */
int	persist_serialize(const struct app *a, char **out, size_t *outlen);
int	persist_save(struct strbuf *err);
int	persist_commit(struct reply *r);
/* Write the initial store of qubes-create (qubes-xml.md 12). */
int	persist_create(const char *path, const char *base_dir,
	    struct strbuf *err);
/* Path of the store, set by the first persist_load(). */
const char *persist_path(void);
/* Release the kept verbatim nodes (shutdown). */
void	persist_cleanup(void);
/* Is this name or qid taken by a left-out qube? */
int	persist_quarantined_name(const char *name);
int	persist_quarantined_qid(int qid);

#endif
