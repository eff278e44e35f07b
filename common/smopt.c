/* smopt: the sendmail command line (smopt.h). */
#include <string.h>
#include "smopt.h"

/* option letters that take a value, used or ignored */
#define SMOPT_WITH_VALUE "ABCFLNORVXbdefhopr"
/* ignored letters without a value */
#define SMOPT_IGNORED "GUcmnx"

static int smopt_bad(sa_t *err, const char *fmt, const char *what)
{
	sa_trunc(err, 0);
	if (sa_catf(err, fmt, what) < 0)
		sa_trunc(err, 0);
	return -1;
}

/* c's 1-character string for messages */
static const char *smopt_letter(char c, char buf[2])
{
	buf[0] = c;
	buf[1] = '\0';
	return buf;
}

static int smopt_mode(struct smopt *o, const char *v, sa_t *err)
{
	switch (v[0]) {
	case 'm':
		o->mode = SMOPT_DELIVER;
		return 0;
	case 'p':
		o->mode = SMOPT_MAILQ;
		return 0;
	case 's':
		o->mode = SMOPT_SMTP;
		return 0;
	case 'i':
		return smopt_bad(err, "-b%s (newaliases) is not supported", v);
	case 'd':
	case 'D':
	case 'l':
		return smopt_bad(err, "-b%s (daemon mode) is not supported: use pochtactl start", v);
	default:
		return smopt_bad(err, "-b%s is not supported (-bm, -bp and -bs are)", v);
	}
}

/* -q: a flush; -qNUMBER[smhdw] (an interval): nothing; anything else refused */
static int smopt_queue(struct smopt *o, const char *v, sa_t *err)
{
	if (!*v) {
		o->mode = SMOPT_FLUSH;
		return 0;
	}
	if (v[0] >= '0' && v[0] <= '9') {
		o->mode = SMOPT_NOTHING;
		return 0;
	}
	return smopt_bad(err, "-q%s is not supported (only -q, to flush the whole queue)", v);
}

/* a value option c with its value v */
static int smopt_value(struct smopt *o, char c, const char *v, sa_t *err)
{
	switch (c) {
	case 'f':
		o->sender = v;
		return 0;
	case 'r':
		if (strchr(v, '@'))
			o->sender = v; /* sendmail's old -r SENDER */
		else if (!*v)
			return smopt_bad(err, "-r needs an instance root directory%s", "");
		else
			o->root = v;
		return 0;
	case 'F':
		o->fullname = v;
		return 0;
	case 'B':
		if (strcmp(v, "7BIT") == 0 || strcmp(v, "8BITMIME") == 0) {
			o->body = v;
			return 0;
		}
		return smopt_bad(err, "-B %s: the body type is 7BIT or 8BITMIME", v);
	case 'b':
		return smopt_mode(o, v, err);
	case 'o':
		if (v[0] == 'i' && v[1] == '\0')
			o->dot_ends = 0;
		return 0; /* -o7 -o8 -oA -oe -od -om -oQ ...: sendmail.cf options, ignored */
	default:
		return 0; /* the rest of SMOPT_WITH_VALUE: ignored */
	}
}

int smopt_parse(int argc, char *const *argv, struct smopt *o, sa_t *err)
{
	const char *name = argc > 0 && argv[0] ? argv[0] : "";
	const char *slash = strrchr(name, '/');
	int i = 1;
	char lb[2];

	memset(o, 0, sizeof *o);
	o->mode = SMOPT_DELIVER;
	o->dot_ends = 1;
	name = slash ? slash + 1 : name;
	if (strcmp(name, "mailq") == 0)
		o->mode = SMOPT_MAILQ;
	else if (strcmp(name, "newaliases") == 0)
		return smopt_bad(err, "%s is not supported", name);
	while (i < argc) {
		const char *a = argv[i];

		if (a[0] != '-' || a[1] == '\0')
			break;
		i++;
		if (strcmp(a, "--") == 0)
			break;
		if (strcmp(a, "--root") == 0) {
			if (i >= argc)
				return smopt_bad(err, "--root needs a directory%s", "");
			o->root = argv[i++];
			continue;
		}
		if (a[1] == '-')
			return smopt_bad(err, "unknown option %s", a);
		for (const char *p = a + 1; *p; p++) {
			char c = *p;

			if (c == 'q') { /* its value is optional: only ever attached */
				if (smopt_queue(o, p + 1, err) < 0)
					return -1;
				break;
			}
			if (strchr(SMOPT_WITH_VALUE, c)) {
				const char *v = p + 1;
				if (!*v) {
					if (i >= argc)
						return smopt_bad(err, "option -%s needs a value",
						                 smopt_letter(c, lb));
					v = argv[i++];
				}
				if (smopt_value(o, c, v, err) < 0)
					return -1;
				break; /* the value was the rest of the argument */
			}
			if (c == 't')
				o->extract = 1;
			else if (c == 'i')
				o->dot_ends = 0;
			else if (c == 'v')
				o->verbose++;
			else if (c == 'I')
				return smopt_bad(err, "-I (newaliases) is not supported%s", "");
			else if (!strchr(SMOPT_IGNORED, c))
				return smopt_bad(err, "unknown option -%s", smopt_letter(c, lb));
		}
	}
	o->first_rcpt = i;
	o->nrcpt = argc - i;
	if (o->extract && o->mode != SMOPT_DELIVER)
		return smopt_bad(err, "-t is only for sending a message (-bm)%s", "");
	if (o->nrcpt > 0 && o->mode != SMOPT_DELIVER && o->mode != SMOPT_NOTHING)
		return smopt_bad(err, "%s takes no recipients",
		                 o->mode == SMOPT_MAILQ ? "-bp (mailq)"
		                 : o->mode == SMOPT_SMTP ? "-bs" : "-q");
	return 0;
}
