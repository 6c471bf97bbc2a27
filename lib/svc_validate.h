/*
 * svc_validate.h - allow-lists the service executables apply on top of
 * lib/validate.h: argument kinds qubesd 4.2 leaves to qrexec (property,
 * feature, volume, driver, device, backup profile names), the shutdown
 * flags, and the payload shapes that can be judged without the broker's
 * state (Create parameters, label colour).
 *
 * Like validate.h: string validators take a NUL-terminated candidate (the
 * caller proved termination) and return 0 if valid, -1 otherwise; the
 * payload ones take (pointer, length) and refuse a NUL inside.  Nothing
 * allocates.  (Candidates for lib/validate.c.)
 */
#ifndef SVC_VALIDATE_H
#define SVC_VALIDATE_H

#include <stddef.h>

/* Property name: a Python identifier, [A-Za-z_][A-Za-z0-9_]*. */
int	validate_property_name(const char *s);
/* Feature name: non-empty, qrexec charset [A-Za-z0-9_.+-]. */
int	validate_feature_name(const char *s);
/* Volume name of a qube (root, private, ...): [A-Za-z0-9_-]+. */
int	validate_volume_name(const char *s);
/* Storage driver name (file, lvm_thin, file-reflink): [A-Za-z0-9_-]+. */
int	validate_driver_name(const char *s);
/* admin.vm.Shutdown: empty, or "force"/"wait" joined by '+' (repeats
 * allowed, no empty element; calls-core.md admin.vm.Shutdown). */
int	validate_shutdown_flags(const char *s);
/* Device: "<backend qube>+<ident>", ident non-empty [A-Za-z0-9_.+-]. */
int	validate_device_arg(const char *s);
/* Backup profile name: non-empty [A-Za-z0-9_.+-], not "." or "..". */
int	validate_profile_name(const char *s);

/*
 * Shape of the admin.vm.Create.* / CreateInPool.* payload (the checks of
 * calls-core.md that close silently and need no state): ASCII without
 * NUL; pieces separated by single spaces, each "key=value"; keys name,
 * label and, with in_pool, pool and pool:<root|private|volatile|kernel>,
 * none twice; the label value a label name (validate_label_name); name
 * and label present; not both pool= and pool:<volume>=.  The name value
 * is left to the broker (its errors are reported exceptions).  *why gets
 * a static reason on failure.
 */
int	validate_create_params(const char *p, size_t len, int in_pool,
	    const char **why);

/*
 * qubes.NotifyUpdates payload (the update count): after stripping what
 * Python's bytes.strip() strips (\t\n\v\f\r and space, lib/pystrip.h)
 * 1 to SVC_UPDATE_COUNT_DIGITS ASCII digits, leading zeros allowed -
 * what qubesd 4.2 takes (untrusted_payload.strip().isdigit(), then int(),
 * which refuses more than 4300 digits).  No NUL anywhere.  Returns 0
 * (and, when nonzero is not NULL, whether the count is not zero), -1 when
 * it is no decimal number, -2 when it has more digits than that.  Both
 * the broker and services/qubes-misc check with it.
 */
#define SVC_UPDATE_COUNT_DIGITS	4300
int	validate_update_count(const char *p, size_t len, int *nonzero);

/*
 * admin.label.Create payload: ASCII; after stripping what Python's
 * str.strip() strips from ASCII (\t\n\v\f\r, 0x1c-0x1f, space) exactly
 * "0x" + 6 hex digits.
 */
int	validate_color_payload(const char *p, size_t len);

#endif
