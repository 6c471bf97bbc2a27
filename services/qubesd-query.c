/*
 * qubesd-query - send one request to a qubesd socket and copy the raw
 * response to stdout (protocol.md 6).
 *
 * A C rewrite of qubes/tools/qubesd_query.py (qubes-core-admin 4.2).  The
 * service scripts (admin.vm.Console, admin.vm.volume.Import*,
 * qubes.FeaturesRequest, ...) depend on its output and exit status, so it
 * follows the Python tool closely, including argparse's command line:
 * unique prefixes of long options ("--max" = "--max-bytes"), "--opt=value",
 * clustered short options ("-ecPATH"), options mixed with the positionals,
 * "--", and errors printed as "usage: ..." plus "PROG: error: MSG" on stderr
 * with exit status 2.
 *
 * Order of work, as in the Python tool: parse argv; check --max-bytes;
 * read stdin (unless -e); only then catch SIGINT/SIGTERM, connect, send
 * "METHOD+ARG SRC name DEST\0" + payload, half-close, copy the response.
 *
 * Exit status: 2 for argument and stdin-format errors; 1 when the socket
 * cannot be connected, on I/O errors (stdout included: a full disk is not a
 * success) and on SIGINT/SIGTERM; otherwise 0, or with --fail the type
 * digit of the response (1 if it is empty or does not start with a digit).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frame.h"
#include "ioall.h"
#include "strbuf.h"
#include "validate.h"

#define QQ_SOCK_DEFAULT	"/var/run/qubesd.sock"
#define QQ_PAYLOAD_MAX	65536	/* MAX_PAYLOAD_SIZE of the Python tool */
#define QQ_LINE_MAX	1024	/* default limit with --single-line */
#define QQ_CHUNK	4096	/* response read size */

#define QQ_EXIT_OK	0
#define QQ_EXIT_FAIL	1	/* I/O error, no connection, signal */
#define QQ_EXIT_USAGE	2	/* argparse's parser.error() */

enum qq_opt {
	OPT_HELP,
	OPT_CONNECT,
	OPT_EMPTY,
	OPT_FAIL,
	OPT_MAX_BYTES,
	OPT_SINGLE_LINE,
	OPT_NULL,
};

/*
 * Option strings in argparse's registration order: prefix matching and the
 * "ambiguous option" message walk them in this order.
 */
static const struct qq_optstr {
	const char	*str;
	enum qq_opt	 opt;
} qq_optstrs[] = {
	{ "-h", OPT_HELP },
	{ "--help", OPT_HELP },
	{ "--connect", OPT_CONNECT },
	{ "-c", OPT_CONNECT },
	{ "--empty", OPT_EMPTY },
	{ "-e", OPT_EMPTY },
	{ "--fail", OPT_FAIL },
	{ "--max-bytes", OPT_MAX_BYTES },
	{ "--single-line", OPT_SINGLE_LINE },
	{ "--null", OPT_NULL },
};
#define QQ_NOPTSTRS	(sizeof(qq_optstrs) / sizeof(qq_optstrs[0]))

/* Name of an option in argparse's messages, and whether it takes a value. */
static const struct qq_optinfo {
	const char	*name;
	int		 takes_value;
} qq_optinfo[] = {
	[OPT_HELP] = { "-h/--help", 0 },
	[OPT_CONNECT] = { "--connect/-c", 1 },
	[OPT_EMPTY] = { "--empty/-e", 0 },
	[OPT_FAIL] = { "--fail", 0 },
	[OPT_MAX_BYTES] = { "--max-bytes", 1 },
	[OPT_SINGLE_LINE] = { "--single-line", 0 },
	[OPT_NULL] = { "--null", 0 },
};

/* Usage parts, as argparse splits them for wrapping. */
static const char *const qq_usage_opts[] = {
	"[-h]", "[--connect PATH]", "[--empty]", "[--fail]",
	"[--max-bytes MAX_BYTES]", "[--single-line]", "[--null]",
};
static const char *const qq_usage_pos[] = {
	"SRC", "METHOD", "DEST", "[ARGUMENT]",
};

/* The rest of argparse's --help text (at its default 78 columns). */
static const char qq_help_body[] =
    "\n"
    "low-level qubesd interrogation tool\n"
    "\n"
    "positional arguments:\n"
    "  SRC                   source qube\n"
    "  METHOD                method name\n"
    "  DEST                  destination qube\n"
    "  ARGUMENT              argument to method\n"
    "\n"
    "options:\n"
    "  -h, --help            show this help message and exit\n"
    "  --connect PATH, -c PATH\n"
    "                        path to qubesd UNIX socket (default:\n"
    "                        " QQ_SOCK_DEFAULT ")\n"
    "  --empty, -e           do not read from stdin and send empty payload\n"
    "  --fail                Should non-OK qubesd response result in non-zero"
    " exit\n"
    "                        code\n"
    "  --max-bytes MAX_BYTES\n"
    "                        Maximum number of bytes to read from stdin\n"
    "  --single-line         Only read a single line of input\n"
    "  --null                Print an extra NUL byte; useful for shell"
    " scripts\n";

struct qq_args {
	const char	*prog;
	const char	*sock;
	int		 empty;
	int		 fail;
	int		 single_line;
	int		 null;
	int		 have_max;
	int64_t		 max;		/* INT64_MIN/MAX when beyond int64 */
	struct strbuf	 maxtext;	/* max as Python prints it */
	const char	*pos[4];	/* SRC METHOD DEST ARGUMENT */
	int		 npos;		/* of SRC METHOD DEST */
	int		 arg_done;	/* ARGUMENT matched (maybe empty) */
	struct strbuf	 extras;	/* "unrecognized arguments" */
};

static void	qq_usage(FILE *fp, const char *prog);
static void	qq_error(const struct qq_args *a, const char *fmt, ...)
		    __attribute__((noreturn, format(printf, 2, 3)));

/*
 * argparse formats for shutil.get_terminal_size().columns - 2, which is
 * $COLUMNS, else the size of the terminal on stdout, else 80.
 */
static int
qq_text_width(void)
{
	struct winsize ws;
	const char *e;
	int64_t v;

	e = getenv("COLUMNS");
	if (e != NULL && parse_pyint(e, strlen(e), &v) == 0 && v > 0 &&
	    v < 10000)
		return (int)v - 2;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col - 2;
	return 80 - 2;
}

/* argparse HelpFormatter._format_usage().get_lines() */
static void
qq_usage_lines(FILE *fp, const char *const *parts, size_t n, size_t indent,
    size_t line_len, size_t width, int first)
{
	size_t i, len;

	if (n == 0)
		return;
	if (!first)
		fprintf(fp, "%*s", (int)indent, "");
	for (i = 0; i < n; i++) {
		len = strlen(parts[i]);
		if (i > 0 && line_len + 1 + len > width) {
			fprintf(fp, "\n%*s", (int)indent, "");
			line_len = indent - 1;
		} else if (i > 0) {
			fputc(' ', fp);
		}
		fputs(parts[i], fp);
		line_len += len + 1;
	}
	fputc('\n', fp);
}

static void
qq_usage(FILE *fp, const char *prog)
{
	static const char prefix[] = "usage: ";
	const size_t plen = sizeof(prefix) - 1;
	const char *parts[1 + sizeof(qq_usage_opts) / sizeof(qq_usage_opts[0])];
	size_t nopt = sizeof(qq_usage_opts) / sizeof(qq_usage_opts[0]);
	size_t npos = sizeof(qq_usage_pos) / sizeof(qq_usage_pos[0]);
	size_t i, total, width;
	int w;

	w = qq_text_width();
	width = w > 11 ? (size_t)w : 11;
	total = strlen(prog);
	for (i = 0; i < nopt; i++)
		total += 1 + strlen(qq_usage_opts[i]);
	for (i = 0; i < npos; i++)
		total += 1 + strlen(qq_usage_pos[i]);
	fputs(prefix, fp);
	if (plen + total <= width) {
		fputs(prog, fp);
		for (i = 0; i < nopt; i++)
			fprintf(fp, " %s", qq_usage_opts[i]);
		for (i = 0; i < npos; i++)
			fprintf(fp, " %s", qq_usage_pos[i]);
		fputc('\n', fp);
		return;
	}
	if (4 * (plen + strlen(prog)) <= 3 * width) {
		/* options after "usage: PROG", positionals below them */
		parts[0] = prog;
		for (i = 0; i < nopt; i++)
			parts[i + 1] = qq_usage_opts[i];
		qq_usage_lines(fp, parts, nopt + 1, plen + strlen(prog) + 1,
		    plen - 1, width, 1);
		qq_usage_lines(fp, qq_usage_pos, npos, plen + strlen(prog) + 1,
		    plen + strlen(prog), width, 0);
	} else {
		/* a long program name stands alone on the first line */
		fprintf(fp, "%s\n", prog);
		if (plen - 1 + total - strlen(prog) <= width) {
			/* the rest fits on one line */
			fprintf(fp, "%*s", (int)plen, "");
			for (i = 0; i < nopt; i++)
				fprintf(fp, "%s ", qq_usage_opts[i]);
			for (i = 0; i + 1 < npos; i++)
				fprintf(fp, "%s ", qq_usage_pos[i]);
			fprintf(fp, "%s\n", qq_usage_pos[npos - 1]);
			return;
		}
		qq_usage_lines(fp, qq_usage_opts, nopt, plen, plen - 1, width,
		    0);
		qq_usage_lines(fp, qq_usage_pos, npos, plen, plen - 1, width,
		    0);
	}
}

/* argparse parser.error(): usage and message on stderr, exit status 2. */
static void
qq_error(const struct qq_args *a, const char *fmt, ...)
{
	va_list ap;

	qq_usage(stderr, a->prog);
	fprintf(stderr, "%s: error: ", a->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(QQ_EXIT_USAGE);
}

/* Python repr() of an argument, for argparse's messages. */
static const char *
qq_repr(struct strbuf *sb, const char *s)
{
	sb_reset(sb);
	sb_add_pyrepr(sb, s);
	return sb_ok(sb) ? sb->buf : "'...'";
}

/* argparse's _negative_number_matcher: '^-\d+$|^-\d*\.\d+$' */
static int
qq_is_negative_number(const char *s)
{
	const char *p = s + 1;
	size_t before = 0, after = 0;

	if (s[0] != '-')
		return 0;
	while (*p >= '0' && *p <= '9') {
		p++;
		before++;
	}
	if (*p == '\0')
		return before > 0;
	if (*p != '.')
		return 0;
	p++;
	while (*p >= '0' && *p <= '9') {
		p++;
		after++;
	}
	return *p == '\0' && after > 0;
}


enum qq_kind {
	KIND_POS,		/* positional ('A') */
	KIND_SEP,		/* the first "--" ('-'), dropped */
	KIND_OPT,		/* known option ('O') */
	KIND_UNKNOWN,		/* unknown option ('O', goes to the extras) */
};

struct qq_token {
	enum qq_kind		 kind;
	const struct qq_optstr	*os;		/* KIND_OPT: the matched string */
	const char		*explicit;	/* "=value" or glued, or NULL */
};

/*
 * argparse _parse_optional() and _get_option_tuples(): what is s?  Exact
 * option strings, "--opt=value", unique prefixes of long options ("--max"),
 * short options with a glued value ("-cPATH"); "-", negative numbers and
 * strings with a space are positionals; anything else starting with "-" is
 * an unknown option.
 */
static enum qq_kind
qq_classify(const struct qq_args *a, const char *s, struct qq_token *t)
{
	const struct qq_optstr *match = NULL;
	const char *eq, *match_explicit = NULL;
	struct strbuf names;
	size_t i, plen, nmatch = 0;

	t->os = NULL;
	t->explicit = NULL;
	if (s[0] != '-')
		return KIND_POS;
	for (i = 0; i < QQ_NOPTSTRS; i++) {
		if (strcmp(s, qq_optstrs[i].str) == 0) {
			t->os = &qq_optstrs[i];
			return KIND_OPT;
		}
	}
	if (s[1] == '\0')
		return KIND_POS;
	eq = strchr(s, '=');
	if (eq != NULL) {
		for (i = 0; i < QQ_NOPTSTRS; i++) {
			if (strlen(qq_optstrs[i].str) == (size_t)(eq - s) &&
			    strncmp(s, qq_optstrs[i].str,
			    (size_t)(eq - s)) == 0) {
				t->os = &qq_optstrs[i];
				t->explicit = eq + 1;
				return KIND_OPT;
			}
		}
	}
	sb_init(&names, 0);
	if (s[1] == '-') {
		plen = eq != NULL ? (size_t)(eq - s) : strlen(s);
		for (i = 0; i < QQ_NOPTSTRS; i++) {
			if (strncmp(qq_optstrs[i].str, s, plen) != 0)
				continue;
			match = &qq_optstrs[i];
			match_explicit = eq != NULL ? eq + 1 : NULL;
			sb_addf(&names, "%s%s", nmatch ? ", " : "", match->str);
			nmatch++;
		}
	} else {
		plen = strlen(s);
		for (i = 0; i < QQ_NOPTSTRS; i++) {
			if (strlen(qq_optstrs[i].str) == 2 &&
			    strncmp(qq_optstrs[i].str, s, 2) == 0) {
				match = &qq_optstrs[i];
				match_explicit = s + 2;
			} else if (strncmp(qq_optstrs[i].str, s, plen) == 0) {
				match = &qq_optstrs[i];
				match_explicit = NULL;
			} else {
				continue;
			}
			sb_addf(&names, "%s%s", nmatch ? ", " : "", match->str);
			nmatch++;
		}
	}
	if (nmatch > 1)
		qq_error(a, "ambiguous option: %s could match %s", s,
		    sb_ok(&names) ? names.buf : "...");
	sb_free(&names);
	if (nmatch == 1) {
		t->os = match;
		t->explicit = match_explicit;
		return KIND_OPT;
	}
	if (qq_is_negative_number(s) || strchr(s, ' ') != NULL)
		return KIND_POS;
	return KIND_UNKNOWN;
}

/*
 * type=int of --max-bytes is Python int(), which has no range: a value
 * beyond int64 is kept as INT64_MIN/INT64_MAX, with its decimal text for
 * the messages that print it.
 */
static void
qq_set_max(struct qq_args *a, const char *value)
{
	struct strbuf tmp;
	const char *p;
	char *zeros;
	size_t i, len = strlen(value);
	int64_t v;

	sb_reset(&a->maxtext);
	a->have_max = 1;
	if (parse_pyint(value, len, &v) == 0) {
		a->max = v;
		sb_addf(&a->maxtext, "%" PRId64, v);
		return;
	}
	/* the same text with every digit 0 parses iff only the range failed */
	zeros = strdup(value);
	if (zeros == NULL) {
		fprintf(stderr, "%s: out of memory\n", a->prog);
		exit(QQ_EXIT_FAIL);
	}
	for (i = 0; i < len; i++)
		if (zeros[i] >= '0' && zeros[i] <= '9')
			zeros[i] = '0';
	if (parse_pyint(zeros, len, &v) != 0) {
		free(zeros);
		sb_init(&tmp, 0);
		qq_error(a, "argument --max-bytes: invalid int value: %s",
		    qq_repr(&tmp, value));
	}
	free(zeros);
	p = value + strspn(value, " \t\n\v\f\r");
	a->max = *p == '-' ? INT64_MIN : INT64_MAX;
	if (*p == '-')
		sb_addc(&a->maxtext, '-');
	if (*p == '-' || *p == '+')
		p++;
	p += strspn(p, "0_");
	for (; (*p >= '0' && *p <= '9') || *p == '_'; p++)
		if (*p != '_')
			sb_addc(&a->maxtext, *p);
}

static void
qq_extra(struct qq_args *a, const char *s)
{
	if (a->extras.len > 0)
		sb_addc(&a->extras, ' ');
	sb_adds(&a->extras, s);
}

/*
 * argparse consume_positionals() on one run of positional strings: SRC,
 * METHOD, DEST take one each; in the run that completes them ARGUMENT
 * (nargs='?') takes the next string or, if there is none, matches empty.
 * Hence "SRC METHOD DEST --fail ARG" rejects ARG, as the Python tool does.
 */
static void
qq_positionals(struct qq_args *a, char **run, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return;
	while (i < n && a->npos < 3)
		a->pos[a->npos++] = run[i++];
	if (a->npos == 3 && !a->arg_done) {
		a->arg_done = 1;
		if (i < n)
			a->pos[3] = run[i++];
	}
	for (; i < n; i++)
		qq_extra(a, run[i]);
}

/* Action of one option occurrence (argparse take_action()). */
static void
qq_take(struct qq_args *a, enum qq_opt opt, const char *value)
{
	switch (opt) {
	case OPT_HELP:
		qq_usage(stdout, a->prog);
		fputs(qq_help_body, stdout);
		exit(fflush(stdout) == 0 && !ferror(stdout) ? QQ_EXIT_OK :
		    QQ_EXIT_FAIL);
	case OPT_CONNECT:
		a->sock = value;
		break;
	case OPT_EMPTY:
		a->empty = 1;
		break;
	case OPT_FAIL:
		a->fail = 1;
		break;
	case OPT_MAX_BYTES:
		qq_set_max(a, value);
		break;
	case OPT_SINGLE_LINE:
		a->single_line = 1;
		break;
	case OPT_NULL:
		a->null = 1;
		break;
	}
}

static const struct qq_optstr *
qq_find_optstr(const char *s)
{
	size_t i;

	for (i = 0; i < QQ_NOPTSTRS; i++)
		if (strcmp(qq_optstrs[i].str, s) == 0)
			return &qq_optstrs[i];
	return NULL;
}

/*
 * argparse consume_optional() for tokens t[i]: a value-taking option takes
 * its "=value"/glued value or the next token, which must be positional; a
 * short flag with glued characters ("-ec") continues with "-c".  argparse
 * runs the actions only once the whole cluster was checked; of ours only
 * -h has a visible effect, so it alone waits for the end of the cluster.
 * Returns the index of the last token used.
 */
static int
qq_consume_optional(struct qq_args *a, int argc, char *argv[],
    const struct qq_token *t, int i)
{
	const struct qq_optstr *os = t[i].os;
	const char *explicit = t[i].explicit;
	struct strbuf tmp;
	char sopt[3];
	int help = 0;

	sb_init(&tmp, 0);
	for (;;) {
		if (qq_optinfo[os->opt].takes_value) {
			if (explicit == NULL) {
				if (i + 1 >= argc || t[i + 1].kind != KIND_POS)
					qq_error(a, "argument %s: expected one "
					    "argument", qq_optinfo[os->opt].name);
				explicit = argv[++i];
			}
			qq_take(a, os->opt, explicit);
			break;
		}
		if (os->opt == OPT_HELP)
			help = 1;
		else
			qq_take(a, os->opt, NULL);
		if (explicit == NULL)
			break;
		/* a flag with "=value" or glued characters */
		sopt[0] = '-';
		sopt[1] = explicit[0];
		sopt[2] = '\0';
		if (os->str[1] == '-' || explicit[0] == '\0' ||
		    qq_find_optstr(sopt) == NULL)
			qq_error(a, "argument %s: ignored explicit argument %s",
			    qq_optinfo[os->opt].name, qq_repr(&tmp, explicit));
		os = qq_find_optstr(sopt);
		explicit = explicit[1] != '\0' ? explicit + 1 : NULL;
	}
	sb_free(&tmp);
	if (help)
		qq_take(a, OPT_HELP, NULL);
	return i;
}

static void
qq_parse_args(struct qq_args *a, int argc, char *argv[])
{
	static const char *const names[] = { "SRC", "METHOD", "DEST" };
	struct qq_token *t;
	struct strbuf miss;
	char **run;
	const char *slash;
	size_t nrun = 0;
	int i, posonly = 0;

	memset(a, 0, sizeof(*a));
	a->prog = "qubesd-query";
	if (argc > 0 && argv[0] != NULL && argv[0][0] != '\0') {
		slash = strrchr(argv[0], '/');
		a->prog = slash != NULL ? slash + 1 : argv[0];
	}
	a->sock = QQ_SOCK_DEFAULT;
	a->pos[3] = "";
	sb_init(&a->maxtext, 0);
	sb_init(&a->extras, 0);
	t = calloc((size_t)argc + 1, sizeof(*t));
	run = calloc((size_t)argc + 1, sizeof(*run));
	if (t == NULL || run == NULL) {
		fprintf(stderr, "%s: out of memory\n", a->prog);
		exit(QQ_EXIT_FAIL);
	}

	/* classify everything first, as argparse does */
	for (i = 1; i < argc; i++) {
		if (posonly) {
			t[i].kind = KIND_POS;
		} else if (strcmp(argv[i], "--") == 0) {
			t[i].kind = KIND_SEP;
			posonly = 1;
		} else {
			t[i].kind = qq_classify(a, argv[i], &t[i]);
		}
	}

	for (i = 1; i < argc; i++) {
		switch (t[i].kind) {
		case KIND_SEP:
			break;
		case KIND_POS:
			run[nrun++] = argv[i];
			break;
		case KIND_UNKNOWN:
			qq_positionals(a, run, nrun);
			nrun = 0;
			qq_extra(a, argv[i]);
			break;
		case KIND_OPT:
			qq_positionals(a, run, nrun);
			nrun = 0;
			i = qq_consume_optional(a, argc, argv, t, i);
			break;
		}
	}
	qq_positionals(a, run, nrun);
	free(run);
	free(t);

	if (a->npos < 3) {
		sb_init(&miss, 0);
		for (i = a->npos; i < 3; i++)
			sb_addf(&miss, "%s%s", i > a->npos ? ", " : "",
			    names[i]);
		qq_error(a, "the following arguments are required: %s",
		    sb_ok(&miss) ? miss.buf : "SRC, METHOD, DEST");
	}
	if (a->extras.len > 0)
		qq_error(a, "unrecognized arguments: %s",
		    sb_ok(&a->extras) ? a->extras.buf : "...");
}

/*
 * Read the payload.  Plain: stdin up to EOF, but at most QQ_PAYLOAD_MAX + 1
 * bytes so that "too long" is reported instead of truncating.
 * --single-line: one byte at a time (the rest of stdin stays for the next
 * reader, e.g. dd in admin.vm.volume.ImportWithSize), printable ASCII up
 * to a required "\n" that is not sent.  limit may be <= 0 (Python accepts
 * any int): then nothing fits.  Beyond that the payload is relayed as it
 * is: judging it is the server's business.
 */
static unsigned char *
qq_read_payload(const struct qq_args *a, int64_t limit, const char *limtext,
    size_t *lenp)
{
	unsigned char *buf, untrusted_c, c;
	size_t len = 0;
	int64_t i;
	ssize_t n;

	buf = malloc(QQ_PAYLOAD_MAX + 1);
	if (buf == NULL) {
		fprintf(stderr, "%s: out of memory\n", a->prog);
		exit(QQ_EXIT_FAIL);
	}
	if (!a->single_line) {
		while (len < QQ_PAYLOAD_MAX + 1) {
			n = read(STDIN_FILENO, buf + len,
			    QQ_PAYLOAD_MAX + 1 - len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				fprintf(stderr, "%s: read from stdin: %s\n",
				    a->prog, strerror(errno));
				exit(QQ_EXIT_FAIL);
			}
			if (n == 0)
				break;
			len += (size_t)n;
		}
		if (limit < 0 || len > (uint64_t)limit)
			qq_error(a, "Payload too long (max %s)", limtext);
		*lenp = len;
		return buf;
	}
	for (i = 0; i < limit; i++) {
		n = read(STDIN_FILENO, &untrusted_c, 1);
		if (n < 0 && errno == EINTR) {
			i--;
			continue;
		}
		if (n < 0) {
			fprintf(stderr, "%s: read from stdin: %s\n", a->prog,
			    strerror(errno));
			exit(QQ_EXIT_FAIL);
		}
		if (n == 0)
			qq_error(a, "End of input without a newline");
		/* sanitize start */
		if (untrusted_c != '\n' &&
		    (untrusted_c < 0x20 || untrusted_c > 0x7e))
			qq_error(a, "Invalid byte %u in input",
			    (unsigned)untrusted_c);
		c = untrusted_c;
		/* sanitize end */
		if (c == '\n') {
			*lenp = len;
			return buf;
		}
		buf[len++] = c;		/* len <= i < limit <= 65536 */
	}
	qq_error(a, "No newline found in first %s bytes", limtext);
}

/*
 * SIGINT/SIGTERM once the request is under way: the Python tool prints
 * "caught SIGxxx, exiting" on stdout, abandons the request and exits 1
 * (after a traceback on stderr).  Only async-signal-safe calls here.
 */
static void
qq_on_signal(int sig)
{
	static const char int_out[] = "caught SIGINT, exiting\n";
	static const char term_out[] = "caught SIGTERM, exiting\n";
	static const char err[] = "qubesd-query: interrupted, request "
	    "abandoned\n";

	if (sig == SIGINT) {
		if (write(STDOUT_FILENO, int_out, sizeof(int_out) - 1) < 0) {
			/* nothing more to do */
		}
	} else {
		if (write(STDOUT_FILENO, term_out, sizeof(term_out) - 1) < 0) {
			/* nothing more to do */
		}
	}
	if (write(STDERR_FILENO, err, sizeof(err) - 1) < 0) {
		/* nothing more to do */
	}
	_exit(QQ_EXIT_FAIL);
}

static void
qq_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGTERM);
	sa.sa_handler = qq_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Write to stdout; an error (EPIPE, ENOSPC, closed stdout) is fatal. */
static void
qq_out(const struct qq_args *a, const void *p, size_t len)
{
	if (write_all(STDOUT_FILENO, p, len) < 0) {
		fprintf(stderr, "%s: write to stdout: %s\n", a->prog,
		    strerror(errno));
		exit(QQ_EXIT_FAIL);
	}
}

/*
 * Send the request and copy the response; returns the --fail status (the
 * type digit, or 1 when the response does not start with one).
 */
static int
qq_query(const struct qq_args *a, const unsigned char *payload, size_t plen)
{
	struct strbuf req;
	unsigned char buf[QQ_CHUNK];
	ssize_t n;
	int fd, moved, rc;

	fd = unix_connect(a->sock);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot connect to %s: %s\n", a->prog,
		    a->sock, strerror(errno));
		exit(QQ_EXIT_FAIL);
	}
	/* with fd 0-2 closed the socket must not stand in for stdout */
	if (fd <= STDERR_FILENO) {
		moved = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
		if (moved < 0) {
			fprintf(stderr, "%s: fcntl: %s\n", a->prog,
			    strerror(errno));
			exit(QQ_EXIT_FAIL);
		}
		close(fd);
		fd = moved;
	}

	sb_init(&req, 0);
	frame_build_request(&req, a->pos[1], a->pos[3], a->pos[0], a->pos[2],
	    payload, plen);
	if (!sb_ok(&req)) {
		fprintf(stderr, "%s: cannot build the request: %s\n", a->prog,
		    strerror(req.err));
		exit(QQ_EXIT_FAIL);
	}
	/* the Python tool encodes the header as ASCII, after connecting */
	if (!frame_is_ascii(req.buf, strlen(req.buf))) {
		fprintf(stderr, "%s: the request header is not ASCII\n",
		    a->prog);
		exit(QQ_EXIT_FAIL);
	}
	if (write_all(fd, req.buf, req.len) < 0 ||
	    shutdown(fd, SHUT_WR) < 0) {
		fprintf(stderr, "%s: send to %s: %s\n", a->prog, a->sock,
		    strerror(errno));
		exit(QQ_EXIT_FAIL);
	}
	sb_free(&req);

	rc = -1;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* e.g. ECONNRESET after "request too long" */
			fprintf(stderr, "%s: receive from %s: %s\n", a->prog,
			    a->sock, strerror(errno));
			exit(QQ_EXIT_FAIL);
		}
		if (n == 0)
			break;
		if (rc < 0) {
			/* a silent close or garbage prints nothing */
			if (buf[0] < '0' || buf[0] > '9') {
				rc = 1;
				break;
			}
			rc = buf[0] - '0';
		}
		qq_out(a, buf, (size_t)n);
	}
	close(fd);
	return rc < 0 ? 1 : rc;
}

int
main(int argc, char *argv[])
{
	struct qq_args a;
	unsigned char *payload = NULL;
	const char *limtext;
	size_t plen = 0;
	int64_t limit;
	int rc;

	/* a vanished reader is an EPIPE error, not a silent death */
	signal(SIGPIPE, SIG_IGN);
	qq_parse_args(&a, argc, argv);

	limit = a.single_line ? QQ_LINE_MAX : QQ_PAYLOAD_MAX;
	limtext = a.single_line ? "1024" : "65536";
	if (a.have_max) {
		if (a.max > QQ_PAYLOAD_MAX)
			qq_error(&a, "Maximum payload too large (max %s)",
			    limtext);	/* sic: 1024 with --single-line */
		limit = a.max;
		limtext = sb_ok(&a.maxtext) ? a.maxtext.buf : "?";
	}
	if (!a.empty)
		payload = qq_read_payload(&a, limit, limtext, &plen);

	qq_signals();
	rc = qq_query(&a, payload, plen);
	free(payload);

	if (!a.fail) {
		if (a.null)
			qq_out(&a, "", 1);
		rc = QQ_EXIT_OK;
	}
	/* the final check: an error reported only at close is a failure */
	if (close(STDOUT_FILENO) < 0 && errno != EBADF && errno != EINTR) {
		fprintf(stderr, "%s: write to stdout: %s\n", a.prog,
		    strerror(errno));
		return QQ_EXIT_FAIL;
	}
	sb_free(&a.maxtext);
	sb_free(&a.extras);
	return rc;
}
