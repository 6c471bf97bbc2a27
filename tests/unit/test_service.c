/*
 * test_service.c - case tables for the service front checks:
 * lib/service.c (service_check, service_check_payload, the bounded stdin
 * read, the link naming, the broker sockets) and lib/svc_validate.c
 * (argument kinds, Create parameters, colour, update count), for the
 * Admin API families and the misc family (services/qubes-misc).
 * protocol.md 5, 8.3 and 10, calls-core.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "frame.h"
#include "service.h"
#include "strbuf.h"
#include "svc_validate.h"
#include "unit.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#define S(x)	{ x, sizeof(x) - 1 }
#define U	{ NULL, 0 }
#define RPC	"/etc/qubes-rpc/"

#define LONG32	"abcdefghijklmnopqrstuvwxyz012345"	/* 32 bytes */
#define LONG31	"abcdefghijklmnopqrstuvwxyz01234"

/* reasons, as service.c spells them */
#define R_NOFULL	"QREXEC_SERVICE_FULL_NAME is not set"
#define R_NOSRC		"QREXEC_REMOTE_DOMAIN is not set"
#define R_NOTYPE	"QREXEC_REQUESTED_TARGET_TYPE is not set"
#define R_NOARGV0	"argv[0] is missing"
#define R_ARGC		"more than one command-line argument"
#define R_FULLNUL	"QREXEC_SERVICE_FULL_NAME contains a NUL byte"
#define R_EMPTYCALL	"call name is empty"
#define R_LONGCALL	"call name is too long"
#define R_CALLSET	"call name contains a byte outside [A-Za-z0-9_.-]"
#define R_ARGV0NUL	"argv[0] contains a NUL byte"
#define R_ARGV0		"call name differs from the executable name " \
			"(basename of argv[0])"
#define R_NOCALL	"no such call"
#define R_FAMILY	"call of another family"
#define R_NOSERVE	"call not served by a qrexec service (not " \
			"implemented or dom0 only)"
#define R_LONGARG	"argument is too long"
#define R_ARGSET	"argument contains a byte outside [A-Za-z0-9_.+-]"
#define R_ARGV1		"argument differs from argv[1]"
#define R_ARGENV	"argument differs from QREXEC_SERVICE_ARGUMENT"
#define R_EMPTY		"argument must be empty"
#define R_PROP		"property name must match [A-Za-z_][A-Za-z0-9_]*"
#define R_FEAT		"feature name must not be empty"
#define R_TAG		"tag must match [A-Za-z0-9_-]+"
#define R_LABEL		"label must match [A-Za-z0-9_.-]+"
#define R_NEWLABEL	"new label name must not be all digits"
#define R_TEMPLATE	"template must be empty or a qube name"
#define R_SRCNUL	"source name contains a NUL byte"
#define R_SRCLONG	"source name is longer than 31 bytes"
#define R_SRC		"source is not a qube name"
#define R_DSTNUL	"target name contains a NUL byte"
#define R_DSTLONG	"target name is longer than 31 bytes"
#define R_DST		"target is not a qube name"
#define R_KWSET		"QREXEC_REQUESTED_TARGET_KEYWORD set with target " \
			"type name"
#define R_TGTSET	"QREXEC_REQUESTED_TARGET set with target type keyword"
#define R_NOTGT		"QREXEC_REQUESTED_TARGET is not set"
#define R_NOKW		"QREXEC_REQUESTED_TARGET_KEYWORD is not set"
#define R_KW		"target keyword is not adminvm"
#define R_TYPE		"QREXEC_REQUESTED_TARGET_TYPE is neither name nor " \
			"keyword"
#define R_DOM0		"call must be addressed to dom0 (@adminvm)"
#define R_COUNT		"update count must be 1-4300 decimal digits, " \
			"optionally surrounded by whitespace"
#define MISC		"/usr/lib/qubes-admin/qubes-misc"

struct env_case {
	const char		*name;
	const char		*family;
	int			 argc;
	struct service_str	 argv0, argv1, full, argument;
	struct service_str	 remote, ttype, target, tkw;
	const char		*why;		/* NULL: accepted */
	const char		*arg, *src, *dest;	/* when accepted */
};

static const struct env_case env_cases[] = {
	/* accepted */
	{ "property.Get by name", "vm_property", 2,
	    S(RPC "admin.vm.property.Get"), S("label"),
	    S("admin.vm.property.Get+label"), S("label"),
	    S("work"), S("name"), S("personal"), U,
	    NULL, "label", "work", "personal" },
	{ "vm.List to @adminvm, no argv[1]", "vm", 1,
	    S(RPC "admin.vm.List"), U, S("admin.vm.List+"), S(""),
	    S("work"), S("keyword"), U, S("adminvm"),
	    NULL, "", "work", "dom0" },
	{ "full name without '+'", "vm", 1,
	    S(RPC "admin.vm.List"), U, S("admin.vm.List"), U,
	    S("dom0"), S("name"), S("dom0"), U,
	    NULL, "", "dom0", "dom0" },
	{ "argv[1] absent, argument non-empty", "vm_tag", 1,
	    S("admin.vm.tag.Set"), U, S("admin.vm.tag.Set+x_y-1"), U,
	    S("work"), S("name"), S("work"), U,
	    NULL, "x_y-1", "work", "work" },
	{ "feature with '.' and '+'", "vm_feature", 2,
	    S(RPC "admin.vm.feature.Set"), S("service.a+b"),
	    S("admin.vm.feature.Set+service.a+b"), U,
	    S("work"), S("name"), S("dom0"), U,
	    NULL, "service.a+b", "work", "dom0" },
	{ "label by number", "label", 2,
	    S(RPC "admin.label.Get"), S("1"), S("admin.label.Get+1"), U,
	    S("work"), S("keyword"), U, S("adminvm"),
	    NULL, "1", "work", "dom0" },
	{ "Create template name", "vm", 2,
	    S(RPC "admin.vm.Create.AppVM"), S("fedora-39"),
	    S("admin.vm.Create.AppVM+fedora-39"), U,
	    S("mgmt"), S("name"), S("dom0"), U,
	    NULL, "fedora-39", "mgmt", "dom0" },
	{ "31-byte names", "vm_tag", 1,
	    S(RPC "admin.vm.tag.List"), U, S("admin.vm.tag.List+"), U,
	    S(LONG31), S("name"), S(LONG31), U,
	    NULL, "", LONG31, LONG31 },
	{ "global property", "property", 2,
	    S("admin.property.Get"), S("default_netvm"),
	    S("admin.property.Get+default_netvm"), U,
	    S("work"), S("name"), S("dom0"), U,
	    NULL, "default_netvm", "work", "dom0" },

	/* environment and argv */
	{ "no full name", "vm", 1, S(RPC "admin.vm.List"), U, U, U,
	    S("work"), S("name"), S("dom0"), U, R_NOFULL, 0, 0, 0 },
	{ "no source", "vm", 1, S(RPC "admin.vm.List"), U,
	    S("admin.vm.List+"), U, U, S("name"), S("dom0"), U,
	    R_NOSRC, 0, 0, 0 },
	{ "no target type", "vm", 1, S(RPC "admin.vm.List"), U,
	    S("admin.vm.List+"), U, S("work"), U, S("dom0"), U,
	    R_NOTYPE, 0, 0, 0 },
	{ "no argv[0]", "vm", 0, U, U, S("admin.vm.List+"), U,
	    S("work"), S("name"), S("dom0"), U, R_NOARGV0, 0, 0, 0 },
	{ "argv[2]", "vm_tag", 3, S(RPC "admin.vm.tag.Get"), S("x"),
	    S("admin.vm.tag.Get+x"), U, S("work"), S("name"), S("work"), U,
	    R_ARGC, 0, 0, 0 },

	/* call name */
	{ "NUL in full name", "vm", 1, S(RPC "admin.vm.List"), U,
	    S("admin.vm.List\0+"), U, S("work"), S("name"), S("dom0"), U,
	    R_FULLNUL, 0, 0, 0 },
	{ "empty call name", "vm", 1, S(RPC "admin.vm.List"), U,
	    S("+x"), U, S("work"), S("name"), S("dom0"), U,
	    R_EMPTYCALL, 0, 0, 0 },
	{ "call name 256 bytes", "vm", 1, S(RPC "x"), U,
	    S("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "+"), U, S("work"), S("name"), S("dom0"), U,
	    R_LONGCALL, 0, 0, 0 },
	{ "call name with '/'", "vm", 1, S(RPC "admin.vm.List"), U,
	    S("../admin.vm.List+"), U, S("work"), S("name"), S("dom0"), U,
	    R_CALLSET, 0, 0, 0 },
	{ "call name with a space", "vm", 1, S(RPC "admin.vm List"), U,
	    S("admin.vm List+"), U, S("work"), S("name"), S("dom0"), U,
	    R_CALLSET, 0, 0, 0 },
	{ "NUL in argv[0]", "vm", 1, S(RPC "admin.vm.List\0x"), U,
	    S("admin.vm.List+"), U, S("work"), S("name"), S("dom0"), U,
	    R_ARGV0NUL, 0, 0, 0 },
	{ "argv[0] another call", "vm_tag", 2, S(RPC "admin.vm.tag.Get"),
	    S("x"), S("admin.vm.tag.Set+x"), U, S("work"), S("name"),
	    S("work"), U, R_ARGV0, 0, 0, 0 },
	{ "argv[0] the executable", "vm", 1, S("/usr/lib/qubes-admin/"
	    "qubes-admin-vm"), U, S("admin.vm.List+"), U, S("work"),
	    S("name"), S("dom0"), U, R_ARGV0, 0, 0, 0 },
	{ "argv[0] prefix of the name", "vm", 1, S(RPC "admin.vm.Lis"), U,
	    S("admin.vm.List+"), U, S("work"), S("name"), S("dom0"), U,
	    R_ARGV0, 0, 0, 0 },
	{ "argv[0] ends in '/'", "vm", 1, S(RPC "admin.vm.List/"), U,
	    S("admin.vm.List+"), U, S("work"), S("name"), S("dom0"), U,
	    R_ARGV0, 0, 0, 0 },
	{ "argv[0] is the full name", "vm_tag", 1,
	    S(RPC "admin.vm.tag.Get+x"), U, S("admin.vm.tag.Get+x"), U,
	    S("work"), S("name"), S("work"), U, R_ARGV0, 0, 0, 0 },
	{ "not in the table", "vm", 1, S(RPC "admin.vm.Frobnicate"), U,
	    S("admin.vm.Frobnicate+"), U, S("work"), S("name"), S("dom0"),
	    U, R_NOCALL, 0, 0, 0 },
	{ "case matters", "vm", 1, S(RPC "admin.vm.list"), U,
	    S("admin.vm.list+"), U, S("work"), S("name"), S("dom0"), U,
	    R_NOCALL, 0, 0, 0 },
	{ "another family's call", "vm", 1, S(RPC "admin.vm.tag.List"), U,
	    S("admin.vm.tag.List+"), U, S("work"), S("name"), S("work"), U,
	    R_FAMILY, 0, 0, 0 },
	{ "global vs vm property family", "vm_property", 2,
	    S(RPC "admin.property.Get"), S("x"),
	    S("admin.property.Get+x"), U, S("work"), S("name"), S("dom0"),
	    U, R_FAMILY, 0, 0, 0 },
	{ "not implemented", "vm_power", 1, S(RPC "admin.vm.Console"), U,
	    S("admin.vm.Console+"), U, S("work"), S("name"), S("work"), U,
	    R_NOSERVE, 0, 0, 0 },
	{ "dom0-only row (no service file)", "vm", 1,
	    S(RPC "admin.vm.Create.AdminVM"), U,
	    S("admin.vm.Create.AdminVM+"), U, S("work"), S("name"),
	    S("dom0"), U, R_NOSERVE, 0, 0, 0 },
	{ "internal call", "internal", 1,
	    S(RPC "internal.GetSystemInfo"), U,
	    S("internal.GetSystemInfo+"), U, S("work"), S("name"),
	    S("dom0"), U, R_NOSERVE, 0, 0, 0 },

	/* argument */
	{ "argument 256 bytes", "vm_feature", 1,
	    S(RPC "admin.vm.feature.Get"), U,
	    S("admin.vm.feature.Get+"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	    U, S("work"), S("name"), S("work"), U, R_LONGARG, 0, 0, 0 },
	{ "argument with '/'", "vm_feature", 1,
	    S(RPC "admin.vm.feature.Get"), U,
	    S("admin.vm.feature.Get+a/b"), U, S("work"), S("name"),
	    S("work"), U, R_ARGSET, 0, 0, 0 },
	{ "argument with a space", "vm_feature", 1,
	    S(RPC "admin.vm.feature.Get"), U,
	    S("admin.vm.feature.Get+a b"), U, S("work"), S("name"),
	    S("work"), U, R_ARGSET, 0, 0, 0 },
	{ "argument with 0xff", "vm_feature", 1,
	    S(RPC "admin.vm.feature.Get"), U,
	    S("admin.vm.feature.Get+a\xff"), U, S("work"), S("name"),
	    S("work"), U, R_ARGSET, 0, 0, 0 },
	{ "argument with '\\n'", "vm_tag", 1, S(RPC "admin.vm.tag.Get"), U,
	    S("admin.vm.tag.Get+a\n"), U, S("work"), S("name"), S("work"),
	    U, R_ARGSET, 0, 0, 0 },
	{ "argument with NUL", "vm_tag", 1, S(RPC "admin.vm.tag.Get"), U,
	    S("admin.vm.tag.Get+a\0b"), U, S("work"), S("name"), S("work"),
	    U, R_FULLNUL, 0, 0, 0 },
	{ "argv[1] differs", "vm_tag", 2, S(RPC "admin.vm.tag.Get"),
	    S("y"), S("admin.vm.tag.Get+x"), U, S("work"), S("name"),
	    S("work"), U, R_ARGV1, 0, 0, 0 },
	{ "argv[1] longer", "vm_tag", 2, S(RPC "admin.vm.tag.Get"),
	    S("xx"), S("admin.vm.tag.Get+x"), U, S("work"), S("name"),
	    S("work"), U, R_ARGV1, 0, 0, 0 },
	{ "argv[1] empty string", "vm", 2, S(RPC "admin.vm.List"), S(""),
	    S("admin.vm.List+"), U, S("work"), S("name"), S("dom0"), U,
	    NULL, "", "work", "dom0" },
	{ "argv[1] with NUL", "vm_tag", 2, S(RPC "admin.vm.tag.Get"),
	    S("x\0"), S("admin.vm.tag.Get+x"), U, S("work"), S("name"),
	    S("work"), U, R_ARGV1, 0, 0, 0 },
	{ "QREXEC_SERVICE_ARGUMENT differs", "vm_tag", 2,
	    S(RPC "admin.vm.tag.Get"), S("x"), S("admin.vm.tag.Get+x"),
	    S("y"), S("work"), S("name"), S("work"), U, R_ARGENV, 0, 0, 0 },
	{ "argument on an empty-argument call", "vm", 2,
	    S(RPC "admin.vm.List"), S("x"), S("admin.vm.List+x"), U,
	    S("work"), S("name"), S("dom0"), U, R_EMPTY, 0, 0, 0 },
	{ "a lone '+' argument", "vm", 2, S(RPC "admin.vm.List"), S("+"),
	    S("admin.vm.List++"), U, S("work"), S("name"), S("dom0"), U,
	    R_EMPTY, 0, 0, 0 },
	{ "property with '.'", "vm_property", 2,
	    S(RPC "admin.vm.property.Get"), S("a.b"),
	    S("admin.vm.property.Get+a.b"), U, S("work"), S("name"),
	    S("work"), U, R_PROP, 0, 0, 0 },
	{ "property with '-'", "vm_property", 2,
	    S(RPC "admin.vm.property.Set"), S("kern-opts"),
	    S("admin.vm.property.Set+kern-opts"), U, S("work"), S("name"),
	    S("work"), U, R_PROP, 0, 0, 0 },
	{ "property starts with a digit", "property", 2,
	    S(RPC "admin.property.Get"), S("1x"),
	    S("admin.property.Get+1x"), U, S("work"), S("name"), S("dom0"),
	    U, R_PROP, 0, 0, 0 },
	{ "empty property", "vm_property", 1,
	    S(RPC "admin.vm.property.Get"), U, S("admin.vm.property.Get+"),
	    U, S("work"), S("name"), S("work"), U, R_PROP, 0, 0, 0 },
	{ "empty feature", "vm_feature", 1, S(RPC "admin.vm.feature.Get"),
	    U, S("admin.vm.feature.Get+"), U, S("work"), S("name"),
	    S("work"), U, R_FEAT, 0, 0, 0 },
	{ "tag with '.'", "vm_tag", 2, S(RPC "admin.vm.tag.Set"),
	    S("a.b"), S("admin.vm.tag.Set+a.b"), U, S("work"), S("name"),
	    S("work"), U, R_TAG, 0, 0, 0 },
	{ "tag with '+'", "vm_tag", 2, S(RPC "admin.vm.tag.Set"),
	    S("a+b"), S("admin.vm.tag.Set+a+b"), U, S("work"), S("name"),
	    S("work"), U, R_TAG, 0, 0, 0 },
	{ "empty tag", "vm_tag", 1, S(RPC "admin.vm.tag.Set"), U,
	    S("admin.vm.tag.Set+"), U, S("work"), S("name"), S("work"), U,
	    R_TAG, 0, 0, 0 },
	{ "label with '+'", "label", 2, S(RPC "admin.label.Get"),
	    S("a+b"), S("admin.label.Get+a+b"), U, S("work"), S("name"),
	    S("dom0"), U, R_LABEL, 0, 0, 0 },
	{ "empty label", "label", 1, S(RPC "admin.label.Remove"), U,
	    S("admin.label.Remove+"), U, S("work"), S("name"), S("dom0"), U,
	    R_LABEL, 0, 0, 0 },
	{ "new label all digits", "label", 2, S(RPC "admin.label.Create"),
	    S("12"), S("admin.label.Create+12"), U, S("work"), S("name"),
	    S("dom0"), U, R_NEWLABEL, 0, 0, 0 },
	{ "Create template with '.'", "vm", 2,
	    S(RPC "admin.vm.Create.AppVM"), S("a.b"),
	    S("admin.vm.Create.AppVM+a.b"), U, S("work"), S("name"),
	    S("dom0"), U, R_TEMPLATE, 0, 0, 0 },
	{ "Create template 32 bytes", "vm", 2,
	    S(RPC "admin.vm.CreateInPool.AppVM"), S(LONG32),
	    S("admin.vm.CreateInPool.AppVM+" LONG32), U, S("work"),
	    S("name"), S("dom0"), U, R_TEMPLATE, 0, 0, 0 },

	/* source */
	{ "source with NUL", "vm", 1, S(RPC "admin.vm.List"), U,
	    S("admin.vm.List+"), U, S("wo\0rk"), S("name"), S("dom0"), U,
	    R_SRCNUL, 0, 0, 0 },
	{ "source 32 bytes", "vm", 1, S(RPC "admin.vm.List"), U,
	    S("admin.vm.List+"), U, S(LONG32), S("name"), S("dom0"), U,
	    R_SRCLONG, 0, 0, 0 },
	{ "empty source", "vm", 1, S(RPC "admin.vm.List"), U,
	    S("admin.vm.List+"), U, S(""), S("name"), S("dom0"), U,
	    R_SRC, 0, 0, 0 },
	{ "source with '.'", "vm", 1, S(RPC "admin.vm.List"), U,
	    S("admin.vm.List+"), U, S("a.b"), S("name"), S("dom0"), U,
	    R_SRC, 0, 0, 0 },
	{ "source with a digit first", "vm", 1, S(RPC "admin.vm.List"), U,
	    S("admin.vm.List+"), U, S("1work"), S("name"), S("dom0"), U,
	    R_SRC, 0, 0, 0 },
	{ "source @adminvm", "vm", 1, S(RPC "admin.vm.List"), U,
	    S("admin.vm.List+"), U, S("@adminvm"), S("name"), S("dom0"), U,
	    R_SRC, 0, 0, 0 },

	/* target */
	{ "target 32 bytes", "vm_tag", 1, S(RPC "admin.vm.tag.List"), U,
	    S("admin.vm.tag.List+"), U, S("work"), S("name"), S(LONG32), U,
	    R_DSTLONG, 0, 0, 0 },
	{ "target with NUL", "vm_tag", 1, S(RPC "admin.vm.tag.List"), U,
	    S("admin.vm.tag.List+"), U, S("work"), S("name"), S("a\0"), U,
	    R_DSTNUL, 0, 0, 0 },
	{ "target with space", "vm_tag", 1, S(RPC "admin.vm.tag.List"), U,
	    S("admin.vm.tag.List+"), U, S("work"), S("name"), S("a b"), U,
	    R_DST, 0, 0, 0 },
	{ "target '@adminvm' as a name", "vm", 1, S(RPC "admin.vm.List"),
	    U, S("admin.vm.List+"), U, S("work"), S("name"),
	    S("@adminvm"), U, R_DST, 0, 0, 0 },
	{ "target ends with -dm", "vm_tag", 1, S(RPC "admin.vm.tag.List"),
	    U, S("admin.vm.tag.List+"), U, S("work"), S("name"),
	    S("work-dm"), U, R_DST, 0, 0, 0 },
	{ "empty target", "vm_tag", 1, S(RPC "admin.vm.tag.List"), U,
	    S("admin.vm.tag.List+"), U, S("work"), S("name"), S(""), U,
	    R_DST, 0, 0, 0 },
	{ "type name, no target", "vm", 1, S(RPC "admin.vm.List"), U,
	    S("admin.vm.List+"), U, S("work"), S("name"), U, U,
	    R_NOTGT, 0, 0, 0 },
	{ "type name, keyword too", "vm", 1, S(RPC "admin.vm.List"), U,
	    S("admin.vm.List+"), U, S("work"), S("name"), S("dom0"),
	    S("adminvm"), R_KWSET, 0, 0, 0 },
	{ "type keyword, no keyword", "vm", 1, S(RPC "admin.vm.List"), U,
	    S("admin.vm.List+"), U, S("work"), S("keyword"), U, U,
	    R_NOKW, 0, 0, 0 },
	{ "type keyword, target too", "vm", 1, S(RPC "admin.vm.List"), U,
	    S("admin.vm.List+"), U, S("work"), S("keyword"), S("dom0"),
	    S("adminvm"), R_TGTSET, 0, 0, 0 },
	{ "keyword default", "vm", 1, S(RPC "admin.vm.List"), U,
	    S("admin.vm.List+"), U, S("work"), S("keyword"), U,
	    S("default"), R_KW, 0, 0, 0 },
	{ "keyword @adminvm (with '@')", "vm", 1, S(RPC "admin.vm.List"),
	    U, S("admin.vm.List+"), U, S("work"), S("keyword"), U,
	    S("@adminvm"), R_KW, 0, 0, 0 },
	{ "keyword dispvm:x", "vm", 1, S(RPC "admin.vm.List"), U,
	    S("admin.vm.List+"), U, S("work"), S("keyword"), U,
	    S("dispvm:default-dvm"), R_KW, 0, 0, 0 },
	{ "type Name", "vm", 1, S(RPC "admin.vm.List"), U,
	    S("admin.vm.List+"), U, S("work"), S("Name"), S("dom0"), U,
	    R_TYPE, 0, 0, 0 },
	{ "type empty", "vm", 1, S(RPC "admin.vm.List"), U,
	    S("admin.vm.List+"), U, S("work"), S(""), S("dom0"), U,
	    R_TYPE, 0, 0, 0 },
	{ "DEST_DOM0 call to a qube", "label", 1, S(RPC "admin.label.List"),
	    U, S("admin.label.List+"), U, S("work"), S("name"), S("work"),
	    U, R_DOM0, 0, 0, 0 },
	{ "DEST_DOM0 global property to a qube", "property", 1,
	    S(RPC "admin.property.List"), U, S("admin.property.List+"), U,
	    S("work"), S("name"), S("work"), U, R_DOM0, 0, 0, 0 },
	{ "DEST_ANY call to dom0", "vm_tag", 1, S(RPC "admin.vm.tag.List"),
	    U, S("admin.vm.tag.List+"), U, S("work"), S("keyword"), U,
	    S("adminvm"), NULL, "", "work", "dom0" },

	/* the misc family (services/qubes-misc): as qrexec runs it for
	 * "qrexec-client-vm dom0 <call>" (target normalised to @adminvm) */
	{ "misc: FeaturesRequest to @adminvm", "misc", 1,
	    S(RPC "qubes.FeaturesRequest"), U, S("qubes.FeaturesRequest+"),
	    S(""), S("fedora-39"), S("keyword"), U, S("adminvm"),
	    NULL, "", "fedora-39", "dom0" },
	{ "misc: FeaturesRequest to name dom0", "misc", 1,
	    S(RPC "qubes.FeaturesRequest"), U, S("qubes.FeaturesRequest+"),
	    S(""), S("work"), S("name"), S("dom0"), U,
	    NULL, "", "work", "dom0" },
	{ "misc: NotifyTools to @adminvm", "misc", 1,
	    S(RPC "qubes.NotifyTools"), U, S("qubes.NotifyTools+"), S(""),
	    S("win10"), S("keyword"), U, S("adminvm"),
	    NULL, "", "win10", "dom0" },
	{ "misc: NotifyUpdates to @adminvm", "misc", 1,
	    S(RPC "qubes.NotifyUpdates"), U, S("qubes.NotifyUpdates+"),
	    S(""), S("work"), S("keyword"), U, S("adminvm"),
	    NULL, "", "work", "dom0" },
	{ "misc: NotifyUpdates, empty argv[1], no ARGUMENT", "misc", 2,
	    S("qubes.NotifyUpdates"), S(""), S("qubes.NotifyUpdates"), U,
	    S(LONG31), S("name"), S("dom0"), U,
	    NULL, "", LONG31, "dom0" },
	{ "misc: NotifyUpdates from dom0", "misc", 1,
	    S(RPC "qubes.NotifyUpdates"), U, S("qubes.NotifyUpdates+"),
	    S(""), S("dom0"), S("keyword"), U, S("adminvm"),
	    NULL, "", "dom0", "dom0" },
	/* misc: the argument (the 4.2 scripts ignore it: refused here) */
	{ "misc: FeaturesRequest with an argument", "misc", 2,
	    S(RPC "qubes.FeaturesRequest"), S("x"),
	    S("qubes.FeaturesRequest+x"), S("x"), S("work"), S("keyword"),
	    U, S("adminvm"), R_EMPTY, 0, 0, 0 },
	{ "misc: NotifyTools with an argument", "misc", 2,
	    S(RPC "qubes.NotifyTools"), S("dom0"),
	    S("qubes.NotifyTools+dom0"), S("dom0"), S("work"),
	    S("keyword"), U, S("adminvm"), R_EMPTY, 0, 0, 0 },
	{ "misc: NotifyUpdates with an argument", "misc", 2,
	    S(RPC "qubes.NotifyUpdates"), S("1"), S("qubes.NotifyUpdates+1"),
	    S("1"), S("work"), S("keyword"), U, S("adminvm"),
	    R_EMPTY, 0, 0, 0 },
	{ "misc: NotifyUpdates with a lone '+'", "misc", 2,
	    S(RPC "qubes.NotifyUpdates"), S("+"), S("qubes.NotifyUpdates++"),
	    S("+"), S("work"), S("keyword"), U, S("adminvm"),
	    R_EMPTY, 0, 0, 0 },
	{ "misc: argument with a bad byte", "misc", 1,
	    S(RPC "qubes.FeaturesRequest"), U,
	    S("qubes.FeaturesRequest+a/b"), U, S("work"), S("keyword"), U,
	    S("adminvm"), R_ARGSET, 0, 0, 0 },
	{ "misc: argv[1] without an argument in the name", "misc", 2,
	    S(RPC "qubes.FeaturesRequest"), S("x"),
	    S("qubes.FeaturesRequest+"), U, S("work"), S("keyword"), U,
	    S("adminvm"), R_ARGV1, 0, 0, 0 },
	/* misc: the target (the scripts always send dom0: refused here) */
	{ "misc: FeaturesRequest to a qube", "misc", 1,
	    S(RPC "qubes.FeaturesRequest"), U, S("qubes.FeaturesRequest+"),
	    S(""), S("work"), S("name"), S("work"), U, R_DOM0, 0, 0, 0 },
	{ "misc: NotifyTools to a qube", "misc", 1,
	    S(RPC "qubes.NotifyTools"), U, S("qubes.NotifyTools+"), S(""),
	    S("work"), S("name"), S("sys-net"), U, R_DOM0, 0, 0, 0 },
	{ "misc: NotifyUpdates (DEST_ANY row) to a qube", "misc", 1,
	    S(RPC "qubes.NotifyUpdates"), U, S("qubes.NotifyUpdates+"),
	    S(""), S("work"), S("name"), S("fedora-39"), U,
	    R_DOM0, 0, 0, 0 },
	{ "misc: NotifyUpdates to itself", "misc", 1,
	    S(RPC "qubes.NotifyUpdates"), U, S("qubes.NotifyUpdates+"),
	    S(""), S("work"), S("name"), S("work"), U, R_DOM0, 0, 0, 0 },
	{ "misc: NotifyUpdates to @default", "misc", 1,
	    S(RPC "qubes.NotifyUpdates"), U, S("qubes.NotifyUpdates+"),
	    S(""), S("work"), S("keyword"), U, S("default"), R_KW, 0, 0, 0 },
	{ "misc: FeaturesRequest to @dispvm", "misc", 1,
	    S(RPC "qubes.FeaturesRequest"), U, S("qubes.FeaturesRequest+"),
	    S(""), S("work"), S("keyword"), U, S("dispvm"), R_KW, 0, 0, 0 },
	{ "misc: target name Dom0", "misc", 1,
	    S(RPC "qubes.FeaturesRequest"), U, S("qubes.FeaturesRequest+"),
	    S(""), S("work"), S("name"), S("Dom0"), U, R_DOM0, 0, 0, 0 },
	{ "misc: target type missing", "misc", 1,
	    S(RPC "qubes.NotifyUpdates"), U, S("qubes.NotifyUpdates+"),
	    S(""), S("work"), U, S("dom0"), U, R_NOTYPE, 0, 0, 0 },
	/* misc: the source */
	{ "misc: no source", "misc", 1, S(RPC "qubes.FeaturesRequest"), U,
	    S("qubes.FeaturesRequest+"), S(""), U, S("keyword"), U,
	    S("adminvm"), R_NOSRC, 0, 0, 0 },
	{ "misc: empty source", "misc", 1, S(RPC "qubes.FeaturesRequest"),
	    U, S("qubes.FeaturesRequest+"), S(""), S(""), S("keyword"), U,
	    S("adminvm"), R_SRC, 0, 0, 0 },
	{ "misc: source 32 bytes", "misc", 1, S(RPC "qubes.NotifyTools"), U,
	    S("qubes.NotifyTools+"), S(""), S(LONG32), S("keyword"), U,
	    S("adminvm"), R_SRCLONG, 0, 0, 0 },
	{ "misc: source Domain-0", "misc", 1, S(RPC "qubes.NotifyUpdates"),
	    U, S("qubes.NotifyUpdates+"), S(""), S("Domain-0"), S("keyword"),
	    U, S("adminvm"), R_SRC, 0, 0, 0 },
	{ "misc: source with NUL", "misc", 1, S(RPC "qubes.NotifyUpdates"),
	    U, S("qubes.NotifyUpdates+"), S(""), S("wo\0rk"), S("keyword"),
	    U, S("adminvm"), R_SRCNUL, 0, 0, 0 },
	/* misc: the call name and the executable */
	{ "misc: argv[0] another misc call", "misc", 1,
	    S(RPC "qubes.NotifyTools"), U, S("qubes.FeaturesRequest+"), S(""),
	    S("work"), S("keyword"), U, S("adminvm"), R_ARGV0, 0, 0, 0 },
	{ "misc: argv[0] the executable", "misc", 1, S(MISC), U,
	    S("qubes.FeaturesRequest+"), S(""), S("work"), S("keyword"), U,
	    S("adminvm"), R_ARGV0, 0, 0, 0 },
	{ "misc: a qubes.* call not in the table", "misc", 1,
	    S(RPC "qubes.GetDate"), U, S("qubes.GetDate+"), S(""),
	    S("work"), S("keyword"), U, S("adminvm"), R_NOCALL, 0, 0, 0 },
	{ "misc: case matters", "misc", 1, S(RPC "qubes.notifyupdates"), U,
	    S("qubes.notifyupdates+"), S(""), S("work"), S("keyword"), U,
	    S("adminvm"), R_NOCALL, 0, 0, 0 },
	{ "misc: an admin call through qubes-misc", "misc", 1,
	    S(RPC "admin.vm.List"), U, S("admin.vm.List+"), S(""),
	    S("work"), S("keyword"), U, S("adminvm"), R_FAMILY, 0, 0, 0 },
	{ "misc: an internal call through qubes-misc", "misc", 1,
	    S(RPC "internal.GetSystemInfo"), U,
	    S("internal.GetSystemInfo+"), S(""), S("work"), S("keyword"), U,
	    S("adminvm"), R_FAMILY, 0, 0, 0 },
	{ "misc: a misc call through qubes-admin-vm", "vm", 1,
	    S(RPC "qubes.FeaturesRequest"), U, S("qubes.FeaturesRequest+"),
	    S(""), S("work"), S("keyword"), U, S("adminvm"),
	    R_FAMILY, 0, 0, 0 },
};

static void
env_of(const struct env_case *c, struct service_env *e)
{
	memset(e, 0, sizeof(*e));
	e->argc = c->argc;
	e->argv0 = c->argv0;
	e->argv1 = c->argv1;
	e->full_name = c->full;
	e->argument = c->argument;
	e->remote_domain = c->remote;
	e->target_type = c->ttype;
	e->target = c->target;
	e->target_keyword = c->tkw;
}

static void
test_env(void)
{
	struct service_env e;
	struct service_call call;
	const struct env_case *c;
	const char *why;
	size_t i;

	for (i = 0; i < NELEM(env_cases); i++) {
		c = &env_cases[i];
		env_of(c, &e);
		why = service_check(&e, c->family, &call);
		if (!is_str(why, c->why, "check: %s", c->name) || why != NULL)
			continue;
		ok(call.m != NULL && strcmp(call.m->family, c->family) == 0,
		    "check: %s: row", c->name);
		is_str(call.arg, c->arg, "check: %s: arg", c->name);
		is_str(call.src, c->src, "check: %s: src", c->name);
		is_str(call.dest, c->dest, "check: %s: dest", c->name);
	}
}

/* payload cases: a valid invocation of CALL+ARG, then the payload */
struct payload_case {
	const char	*call;
	const char	*arg;
	const char	*payload;
	size_t		 len;
	const char	*why;
};

#define P(x)	x, sizeof(x) - 1
#define NONE	"payload on a call that takes none"
#define UPD	"qubes.NotifyUpdates"
#define ASCII	"value is not ASCII"
#define COLOUR	"colour must be 0x and 6 hex digits"

static const struct payload_case payload_cases[] = {
	{ "admin.vm.tag.List", "", P(""), NULL },
	{ "admin.vm.tag.List", "", P("x"), NONE },
	{ "admin.vm.tag.Set", "x", P("\0"), NONE },
	{ "admin.vm.property.Set", "label", P("red"), NULL },
	{ "admin.vm.property.Set", "kernelopts", P("a\tb\nc\0\x7f"), NULL },
	{ "admin.vm.property.Set", "label", P(""), NULL },
	{ "admin.vm.property.Set", "label", P("r\xc3\xa9"), ASCII },
	{ "admin.vm.property.Set", "label", P("\x80"), ASCII },
	{ "admin.property.Set", "default_netvm", P("sys-firewall"), NULL },
	{ "admin.property.Set", "default_netvm", P("\xff"), ASCII },
	{ "admin.vm.feature.Set", "x", P("1"), NULL },
	{ "admin.vm.feature.Set", "x", P("\xfe"), ASCII },
	{ "admin.label.Create", "cyan", P("0x00ffff"), NULL },
	{ "admin.label.Create", "cyan", P("0x00FFff\n"), NULL },
	{ "admin.label.Create", "cyan", P(" \t0xabcdef\r\n\x1c"), NULL },
	{ "admin.label.Create", "cyan", P("0x00ffff\n\n"), NULL },
	{ "admin.label.Create", "cyan", P(""), COLOUR },
	{ "admin.label.Create", "cyan", P("00ffff"), COLOUR },
	{ "admin.label.Create", "cyan", P("0x00fff"), COLOUR },
	{ "admin.label.Create", "cyan", P("0x00ffff0"), COLOUR },
	{ "admin.label.Create", "cyan", P("0x00ffgf"), COLOUR },
	{ "admin.label.Create", "cyan", P("0x00ff\0f"), COLOUR },
	{ "admin.label.Create", "cyan", P("0x00ffff\0"), COLOUR },
	{ "admin.label.Create", "cyan", P("0x00ffff\xa0"), COLOUR },
	{ "admin.label.Remove", "cyan", P("0x00ffff"), NONE },
	{ "admin.vm.Create.AppVM", "", P("name=new label=red"), NULL },
	{ "admin.vm.Create.AppVM", "fedora-39", P("label=red name=a"), NULL },
	/* the name value is the broker's (reported errors) */
	{ "admin.vm.Create.AppVM", "", P("name=a.b label=red"), NULL },
	{ "admin.vm.Create.AppVM", "", P("name= label=red"), NULL },
	{ "admin.vm.Create.AppVM", "", P("name=a label="), NULL },
	{ "admin.vm.Create.AppVM", "", P(""),
	    "Create parameter without '=' (empty payload, double or "
	    "trailing space?)" },
	{ "admin.vm.Create.AppVM", "", P("name=a  label=red"),
	    "Create parameter without '=' (empty payload, double or "
	    "trailing space?)" },
	{ "admin.vm.Create.AppVM", "", P("name=a label=red "),
	    "Create parameter without '=' (empty payload, double or "
	    "trailing space?)" },
	{ "admin.vm.Create.AppVM", "", P("name=a label=red\n"),
	    "Create label= is not a label name ([A-Za-z0-9_.-], not all "
	    "digits)" },
	{ "admin.vm.Create.AppVM", "", P("name=a label=1"),
	    "Create label= is not a label name ([A-Za-z0-9_.-], not all "
	    "digits)" },
	{ "admin.vm.Create.AppVM", "", P("name=a label=red name=b"),
	    "duplicated Create parameter" },
	{ "admin.vm.Create.AppVM", "", P("label=red label=red name=b"),
	    "duplicated Create parameter" },
	{ "admin.vm.Create.AppVM", "", P("name=a"),
	    "Create parameters lack name= or label=" },
	{ "admin.vm.Create.AppVM", "", P("label=red"),
	    "Create parameters lack name= or label=" },
	{ "admin.vm.Create.AppVM", "", P("name=a label=red template=x"),
	    "unknown Create parameter" },
	{ "admin.vm.Create.AppVM", "", P("name=a label=red pool=p"),
	    "unknown Create parameter" },
	{ "admin.vm.Create.AppVM", "", P("name=a\xe9 label=red"),
	    "Create parameters are not ASCII" },
	{ "admin.vm.Create.AppVM", "", P("name=a\0 label=red"),
	    "Create parameters are not ASCII" },
	{ "admin.vm.CreateInPool.AppVM", "", P("name=a label=red pool=p"),
	    NULL },
	{ "admin.vm.CreateInPool.AppVM", "",
	    P("name=a label=red pool:private=p pool:volatile=q"), NULL },
	{ "admin.vm.CreateInPool.AppVM", "",
	    P("name=a label=red pool=p pool=q"),
	    "duplicated Create parameter" },
	{ "admin.vm.CreateInPool.AppVM", "",
	    P("name=a label=red pool:root=p pool:root=q"),
	    "duplicated Create parameter" },
	{ "admin.vm.CreateInPool.AppVM", "",
	    P("name=a label=red pool:swap=p"),
	    "Create pool:<volume> names no volume (root, private, volatile, "
	    "kernel)" },
	{ "admin.vm.CreateInPool.AppVM", "", P("name=a label=red pool:=p"),
	    "unknown Create parameter" },
	{ "admin.vm.CreateInPool.AppVM", "",
	    P("name=a label=red pool=p pool:root=q"),
	    "Create parameters have both pool= and pool:<volume>=" },
	/* misc */
	{ "qubes.FeaturesRequest", "", P(""), NULL },
	{ "qubes.FeaturesRequest", "", P("x"), NONE },
	{ "qubes.NotifyTools", "", P(""), NULL },
	{ "qubes.NotifyTools", "", P("\0"), NONE },
	{ UPD, "", P("0"), NULL },
	{ UPD, "", P("3\n"), NULL },
	{ UPD, "", P(" 0 \t"), NULL },
	{ UPD, "", P("007"), NULL },
	{ UPD, "", P("\t\n\v\f\r 12 \r\n"), NULL },
	{ UPD, "", P("18446744073709551616"), NULL },
	{ UPD, "", P(""), R_COUNT },
	{ UPD, "", P(" \n"), R_COUNT },
	{ UPD, "", P("x"), R_COUNT },
	{ UPD, "", P("-1"), R_COUNT },
	{ UPD, "", P("+1"), R_COUNT },
	{ UPD, "", P("1 2"), R_COUNT },
	{ UPD, "", P("1.0"), R_COUNT },
	{ UPD, "", P("1_000"), R_COUNT },
	{ UPD, "", P("0x1"), R_COUNT },
	{ UPD, "", P("\xd9\xa3"), R_COUNT },		/* Arabic-Indic 3 */
	{ UPD, "", P("\xc2\xb2"), R_COUNT },		/* superscript 2 */
	{ UPD, "", P("1\0"), R_COUNT },
	{ UPD, "", P("\0001"), R_COUNT },
	{ UPD, "", P("\x1c" "1"), R_COUNT },	/* str.strip() only */
	{ UPD, "", P("1\x1f"), R_COUNT },
	{ UPD, "", P("\xa0" "1"), R_COUNT },	/* NBSP: no bytes space */
};

static void
test_payload(void)
{
	const struct payload_case *c;
	struct service_env e;
	struct service_call call;
	const struct api_method *m;
	char argv0[128], full[512];
	const char *why;
	size_t i;

	for (i = 0; i < NELEM(payload_cases); i++) {
		c = &payload_cases[i];
		m = api_lookup(c->call);
		if (!ok(m != NULL, "payload: %s is a call", c->call))
			continue;
		snprintf(argv0, sizeof(argv0), RPC "%s", c->call);
		snprintf(full, sizeof(full), "%s+%s", c->call, c->arg);
		memset(&e, 0, sizeof(e));
		e.argc = 1;
		e.argv0.ptr = argv0;
		e.argv0.len = strlen(argv0);
		e.full_name.ptr = full;
		e.full_name.len = strlen(full);
		e.remote_domain.ptr = "work";
		e.remote_domain.len = 4;
		e.target_type.ptr = "keyword";
		e.target_type.len = 7;
		e.target_keyword.ptr = "adminvm";
		e.target_keyword.len = 7;
		why = service_check(&e, m->family, &call);
		if (!is_str(why, NULL, "payload: %s+%s invocation", c->call,
		    c->arg))
			continue;
		why = service_check_payload(&call,
		    (const unsigned char *)c->payload, c->len);
		is_str(why, c->why, "payload: %s+%s %s", c->call, c->arg,
		    unit_q(c->payload, c->len));
	}
}

/* The payload bound: the row's, capped so the whole request is 64 KiB. */
static void
test_payload_max(void)
{
	static const char *const calls[] = {
		"admin.vm.property.Set", "admin.vm.feature.Set",
		"admin.vm.Create.AppVM", "admin.label.Create",
		"admin.vm.tag.List", "qubes.NotifyUpdates",
		"qubes.FeaturesRequest", "qubes.NotifyTools",
	};
	struct service_env e;
	struct service_call call;
	struct strbuf sb;
	const struct api_method *m;
	char argv0[128], full[300];
	unsigned char *big;
	const char *arg;
	size_t i;

	big = calloc(API_REQUEST_MAX + 2, 1);
	if (!ok(big != NULL, "payload_max: allocation"))
		return;
	memset(big, 'a', API_REQUEST_MAX + 1);
	for (i = 0; i < NELEM(calls); i++) {
		m = api_lookup(calls[i]);
		arg = m->arg == ARG_EMPTY || m->arg == ARG_VMNAME_OPT ? "" :
		    m->arg == ARG_LABEL ? "cyan" : "abc";
		snprintf(argv0, sizeof(argv0), "%s", calls[i]);
		snprintf(full, sizeof(full), "%s+%s", calls[i], arg);
		memset(&e, 0, sizeof(e));
		e.argc = 1;
		e.argv0.ptr = argv0;
		e.argv0.len = strlen(argv0);
		e.full_name.ptr = full;
		e.full_name.len = strlen(full);
		e.remote_domain.ptr = LONG31;
		e.remote_domain.len = 31;
		e.target_type.ptr = "name";
		e.target_type.len = 4;
		e.target.ptr = "dom0";
		e.target.len = 4;
		if (!is_str(service_check(&e, m->family, &call), NULL,
		    "payload_max: %s accepted", calls[i]))
			continue;
		if (m->payload == PL_NONE) {
			is_int(call.payload_max, 0, "payload_max: %s none",
			    calls[i]);
			continue;
		}
		sb_init(&sb, 0);
		frame_build_request(&sb, m->name, call.arg, call.src,
		    call.dest, big, call.payload_max);
		is_int(sb.len, API_REQUEST_MAX,
		    "payload_max: %s: request at the bound is 65536 bytes",
		    calls[i]);
		ok(call.payload_max <= m->payload_max,
		    "payload_max: %s within the row bound", calls[i]);
		sb_free(&sb);
		is_str(service_check_payload(&call, big,
		    call.payload_max + 1), "payload too long",
		    "payload_max: %s: one more byte refused", calls[i]);
	}
	free(big);
}

static void
test_serves_and_names(void)
{
	char buf[64];
	size_t i, n = 0, nmisc = 0;
	const struct api_method *m;

	for (i = 0; i < api_methods_count; i++) {
		m = &api_methods[i];
		if (!service_serves(m)) {
			/* every misc row is served (they all have a script
			 * in 4.2), by qubes-misc */
			ok(m->sock != SOCK_MISC || !m->impl,
			    "serves: misc %s", m->name);
			continue;
		}
		n++;
		if (m->sock == SOCK_MISC) {
			nmisc++;
			ok(m->impl && m->file == FILE_SCRIPT &&
			    strcmp(m->family, "misc") == 0 &&
			    strncmp(m->name, "qubes.", 6) == 0,
			    "serves: %s", m->name);
			is_int(service_link_exe(m, buf, sizeof(buf)), 1,
			    "link: %s", m->name);
			is_str(buf, "qubes-misc", "link: %s -> qubes-misc",
			    m->name);
			continue;
		}
		ok(m->impl && m->file == FILE_SOCK && m->sock == SOCK_ADMIN &&
		    strncmp(m->name, "admin.", 6) == 0, "serves: %s", m->name);
	}
	ok(n > 0, "serves: %zu calls have a link", n);
	is_int(nmisc, 3, "serves: the three misc calls");
	ok(service_serves(api_lookup("qubes.FeaturesRequest")),
	    "serves qubes.FeaturesRequest");
	ok(service_serves(api_lookup("qubes.NotifyTools")),
	    "serves qubes.NotifyTools");
	ok(service_serves(api_lookup("qubes.NotifyUpdates")),
	    "serves qubes.NotifyUpdates");
	ok(!service_serves_stream(api_lookup("qubes.NotifyUpdates")),
	    "qubes.NotifyUpdates is no streaming import");
	ok(service_serves(api_lookup("admin.vm.List")), "serves vm.List");
	ok(!service_serves(api_lookup("admin.vm.Create.AdminVM")),
	    "no link for Create.AdminVM (dom0 only)");
	ok(!service_serves(api_lookup("internal.GetSystemInfo")),
	    "no link for internal.GetSystemInfo");
	ok(!service_serves(api_lookup("admin.vm.Console")),
	    "no link for admin.vm.Console (script)");

	is_int(service_exe_name("vm", buf, sizeof(buf)), 0, "exe vm");
	is_str(buf, "qubes-admin-vm", "exe vm name");
	is_int(service_exe_name("vm_property", buf, sizeof(buf)), 0,
	    "exe vm_property");
	is_str(buf, "qubes-admin-vm-property", "exe vm_property name");
	is_int(service_exe_name("vm_property", buf, 23), -1,
	    "exe name does not fit");
	is_int(service_exe_name("vm_property", buf, 24), 0,
	    "exe name fits exactly");
	is_int(service_exe_name("misc", buf, sizeof(buf)), 0, "exe misc");
	is_str(buf, "qubes-misc", "exe misc name");
	is_int(service_exe_name("misc", buf, 10), -1,
	    "exe misc name does not fit");
	is_int(service_exe_name("misc", buf, 11), 0,
	    "exe misc name fits exactly");
	is_int(service_link_exe(api_lookup("qubes.NotifyUpdates"), buf, 10),
	    -1, "link exe misc does not fit");
}

/* service_sock_path(): compiled-in paths, environment overrides. */
static void
test_sock_path(void)
{
	static const struct {
		enum api_sock	 s;
		const char	*var, *dflt;
	} socks[] = {
		{ SOCK_ADMIN, "QUBESD_SOCKET", "/var/run/qubesd.sock" },
		{ SOCK_INTERNAL, "QUBESD_INTERNAL_SOCKET",
		    "/var/run/qubesd.internal.sock" },
		{ SOCK_MISC, "QUBESD_MISC_SOCKET",
		    "/var/run/qubesd.misc.sock" },
	};
	size_t i, j;

	for (i = 0; i < NELEM(socks); i++)
		unsetenv(socks[i].var);
	for (i = 0; i < NELEM(socks); i++) {
		is_str(service_sock_path(socks[i].s), socks[i].dflt,
		    "sock: %s unset", socks[i].var);
		setenv(socks[i].var, "", 1);
		is_str(service_sock_path(socks[i].s), socks[i].dflt,
		    "sock: %s empty", socks[i].var);
		setenv(socks[i].var, "/tmp/t.sock", 1);
		is_str(service_sock_path(socks[i].s), "/tmp/t.sock",
		    "sock: %s set", socks[i].var);
		/* each variable only moves its own socket */
		for (j = 0; j < NELEM(socks); j++)
			if (j != i)
				is_str(service_sock_path(socks[j].s),
				    socks[j].dflt, "sock: %s leaves %s",
				    socks[i].var, socks[j].var);
		unsetenv(socks[i].var);
	}
	ok(service_sock_path(SOCK_NONE) == NULL, "sock: none");
}

/* validate_update_count() on its own, and at the 4300-digit bound. */
static void
test_update_count(void)
{
	char *big;
	int nz;

	is_int(validate_update_count("1", 1, NULL), 0, "count: 1");
	is_int(validate_update_count(" 42\n", 4, NULL), 0, "count: 42 with space");
	is_int(validate_update_count("", 0, NULL), -1, "count: empty");
	is_int(validate_update_count("12", 1, NULL), 0, "count: length counts");
	is_int(validate_update_count("1x", 1, NULL), 0, "count: never past len");
	nz = -1;
	is_int(validate_update_count("\t0007 ", 6, &nz), 0, "count: 0007");
	is_int(nz, 1, "count: 0007 is not zero");
	nz = -1;
	is_int(validate_update_count("000\n", 4, &nz), 0, "count: 000");
	is_int(nz, 0, "count: 000 is zero");
	nz = -1;
	is_int(validate_update_count("1 2", 3, &nz), -1, "count: inner space");
	is_int(nz, -1, "count: refused leaves nonzero alone");
	is_int(validate_update_count("-1", 2, NULL), -1, "count: sign");
	is_int(validate_update_count("1\0", 2, NULL), -1, "count: NUL");
	big = malloc(SVC_UPDATE_COUNT_DIGITS + 3);
	if (!ok(big != NULL, "count: allocation"))
		return;
	memset(big, '0', SVC_UPDATE_COUNT_DIGITS + 1);
	big[SVC_UPDATE_COUNT_DIGITS] = '1';
	is_int(validate_update_count(big + 1, SVC_UPDATE_COUNT_DIGITS, NULL), 0,
	    "count: 4300 digits");
	is_int(validate_update_count(big, SVC_UPDATE_COUNT_DIGITS + 1, NULL), -2,
	    "count: 4301 digits");
	big[0] = 'x';
	is_int(validate_update_count(big, SVC_UPDATE_COUNT_DIGITS + 1, NULL),
	    -1, "count: 4301 bytes, not a number");
	big[0] = '0';
	big[SVC_UPDATE_COUNT_DIGITS + 1] = '\n';
	is_int(validate_update_count(big + 1, SVC_UPDATE_COUNT_DIGITS + 1,
	    NULL),
	    0, "count: 4300 digits and a newline");
	free(big);
}

/* service_read_bounded: at most max + 1 bytes, refused without EOF. */
static void
test_read_bounded(void)
{
	unsigned char buf[16];
	size_t len = 99;
	int p[2], rc;

	if (!ok(pipe(p) == 0, "read: pipe"))
		return;
	/* max + 1 bytes and the writer still open: refused at once */
	if (write(p[1], "abcdef", 6) != 6)
		diag("short write");
	errno = 0;
	rc = service_read_bounded(p[0], buf, 5, &len);
	ok(rc == -1 && errno == E2BIG, "read: 6 bytes of max 5 refused "
	    "without waiting for EOF");
	is_int(len, 99, "read: *len untouched on refusal");
	close(p[0]);
	close(p[1]);

	if (!ok(pipe(p) == 0, "read: pipe"))
		return;
	if (write(p[1], "abcde", 5) != 5)
		diag("short write");
	close(p[1]);
	rc = service_read_bounded(p[0], buf, 5, &len);
	ok(rc == 0 && len == 5 && memcmp(buf, "abcde", 5) == 0,
	    "read: exactly max bytes");
	close(p[0]);

	if (!ok(pipe(p) == 0, "read: pipe"))
		return;
	close(p[1]);
	rc = service_read_bounded(p[0], buf, 0, &len);
	ok(rc == 0 && len == 0, "read: empty with max 0");
	close(p[0]);

	if (!ok(pipe(p) == 0, "read: pipe"))
		return;
	if (write(p[1], "x", 1) != 1)
		diag("short write");
	rc = service_read_bounded(p[0], buf, 0, &len);
	ok(rc == -1 && errno == E2BIG, "read: one byte with max 0 refused");
	close(p[0]);
	close(p[1]);
}

static const struct {
	int		(*fn)(const char *);
	const char	*fname;
	const char	*in;
	int		 rc;
} str_cases[] = {
	{ validate_property_name, "property", "label", 0 },
	{ validate_property_name, "property", "_x1", 0 },
	{ validate_property_name, "property", "X", 0 },
	{ validate_property_name, "property", "", -1 },
	{ validate_property_name, "property", "1a", -1 },
	{ validate_property_name, "property", "a-b", -1 },
	{ validate_property_name, "property", "a.b", -1 },
	{ validate_property_name, "property", "a+b", -1 },
	{ validate_property_name, "property", "a b", -1 },
	{ validate_property_name, "property", "\xc3\xa9", -1 },
	{ validate_feature_name, "feature", "qrexec", 0 },
	{ validate_feature_name, "feature", "service.a-b_c", 0 },
	{ validate_feature_name, "feature", "a+b", 0 },
	{ validate_feature_name, "feature", ".", 0 },
	{ validate_feature_name, "feature", "", -1 },
	{ validate_feature_name, "feature", "a/b", -1 },
	{ validate_feature_name, "feature", "a:b", -1 },
	{ validate_feature_name, "feature", "a\n", -1 },
	{ validate_volume_name, "volume", "private", 0 },
	{ validate_volume_name, "volume", "root_2-x", 0 },
	{ validate_volume_name, "volume", "", -1 },
	{ validate_volume_name, "volume", "a.b", -1 },
	{ validate_volume_name, "volume", "../x", -1 },
	{ validate_driver_name, "driver", "file-reflink", 0 },
	{ validate_driver_name, "driver", "lvm_thin", 0 },
	{ validate_driver_name, "driver", "", -1 },
	{ validate_driver_name, "driver", "a.b", -1 },
	{ validate_shutdown_flags, "shutdown", "", 0 },
	{ validate_shutdown_flags, "shutdown", "force", 0 },
	{ validate_shutdown_flags, "shutdown", "wait", 0 },
	{ validate_shutdown_flags, "shutdown", "force+wait", 0 },
	{ validate_shutdown_flags, "shutdown", "wait+force+wait", 0 },
	{ validate_shutdown_flags, "shutdown", "force+", -1 },
	{ validate_shutdown_flags, "shutdown", "+force", -1 },
	{ validate_shutdown_flags, "shutdown", "force++wait", -1 },
	{ validate_shutdown_flags, "shutdown", "Force", -1 },
	{ validate_shutdown_flags, "shutdown", "forcewait", -1 },
	{ validate_shutdown_flags, "shutdown", "wai", -1 },
	{ validate_device_arg, "device", "sys-usb+2-1", 0 },
	{ validate_device_arg, "device", "dom0+00_1f.2", 0 },
	{ validate_device_arg, "device", "dom0+a+b", 0 },
	{ validate_device_arg, "device", "dom0", -1 },
	{ validate_device_arg, "device", "dom0+", -1 },
	{ validate_device_arg, "device", "+sda", -1 },
	{ validate_device_arg, "device", "1vm+sda", -1 },
	{ validate_device_arg, "device", LONG32 "+sda", -1 },
	{ validate_device_arg, "device", LONG31 "+sda", 0 },
	{ validate_device_arg, "device", "dom0+a/b", -1 },
	{ validate_profile_name, "profile", "daily", 0 },
	{ validate_profile_name, "profile", "a.b+c", 0 },
	{ validate_profile_name, "profile", "...", 0 },
	{ validate_profile_name, "profile", "", -1 },
	{ validate_profile_name, "profile", ".", -1 },
	{ validate_profile_name, "profile", "..", -1 },
	{ validate_profile_name, "profile", "a/b", -1 },
};

static void
test_validators(void)
{
	size_t i;

	for (i = 0; i < NELEM(str_cases); i++)
		is_int(str_cases[i].fn(str_cases[i].in), str_cases[i].rc,
		    "validate_%s %s", str_cases[i].fname,
		    unit_qs(str_cases[i].in));
}

int
main(void)
{
	test_env();
	test_payload();
	test_payload_max();
	test_serves_and_names();
	test_sock_path();
	test_update_count();
	test_read_bounded();
	test_validators();
	return done_testing();
}
