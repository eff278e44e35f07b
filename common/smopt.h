/* smopt: the sendmail command line (pochta-sendmail(8)), parsed once.
 * Options end at the first argument that is not one, or at "--"; several
 * single-letter options may share one argument ("-ti"); an option that takes
 * a value has it attached ("-fbob@x") or as the next argument ("-f bob@x"),
 * except -q, whose value is only ever attached.
 * What is understood:
 *   -bm (default) -bp -bs: the modes; any other -b, -I, and argv[0]
 *   "newaliases" are refused; argv[0] "mailq" means -bp
 *   -t  -i  -v  -f SENDER  -F NAME  -r X  -B 7BIT|8BITMIME  -q  -qNUMBER (nothing)
 *   -o X: -oi as -i; -o7 -o8 -oA.. -oe.. -od.. -om -oQ.. and the rest ignored
 *   ignored, without a value: -G -U -c -m -n -x; with one: -A -C -L -N -O -R
 *   -V -X -d -e -h -p
 * -r X is the instance root (pochta's -r ROOT) unless X holds an '@': then it
 * is sendmail's old spelling of -f. Pure: no I/O; the strings point into argv. */
#ifndef POCHTA_SMOPT_H
#define POCHTA_SMOPT_H
#include "sa.h"

enum smopt_mode {
	SMOPT_DELIVER,   /* -bm: read a message, queue it */
	SMOPT_MAILQ,     /* -bp, mailq: list the queue */
	SMOPT_SMTP,      /* -bs: SMTP on stdin/stdout */
	SMOPT_FLUSH,     /* -q: retry deferred mail now */
	SMOPT_NOTHING,   /* -qNUMBER (a queue run interval): nothing to do */
};

struct smopt {
	enum smopt_mode mode;
	int extract;            /* -t */
	int dot_ends;           /* a line "." ends the input (no -i / -oi) */
	int verbose;            /* -v count */
	const char *sender;     /* -f, -r ADDR; NULL: the caller's login */
	const char *fullname;   /* -F; NULL: none given */
	const char *root;       /* -r ROOT, --root ROOT; NULL: none */
	const char *body;       /* -B: "7BIT" or "8BITMIME"; NULL: none */
	int first_rcpt;         /* index in argv of the first recipient argument */
	int nrcpt;              /* recipient arguments */
};

/* 0, or -1 with the reason in err (a usage error) */
int smopt_parse(int argc, char *const *argv, struct smopt *o, sa_t *err);

#endif
