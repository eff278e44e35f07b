/* smopt: the sendmail command line */
#include "smopt.h"
#include "test.h"

#define PARSE(o, err, ...) parse((o), (err), (char *const[]){ __VA_ARGS__, NULL })

static int parse(struct smopt *o, sa_t *err, char *const *argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	sa_trunc(err, 0);
	return smopt_parse(argc, argv, o, err);
}

static void test_defaults(void)
{
	struct smopt o;
	sa_t err = SA_INIT;

	T_INTEQ(PARSE(&o, &err, "sendmail", "alice", "bob@x"), 0);
	T_INTEQ(o.mode, SMOPT_DELIVER);
	T_INTEQ(o.dot_ends, 1);
	T_INTEQ(o.extract, 0);
	T_ASSERT(o.sender == NULL && o.root == NULL && o.fullname == NULL && o.body == NULL);
	T_INTEQ(o.first_rcpt, 1);
	T_INTEQ(o.nrcpt, 2);
	sa_free(&err);
}

static void test_flags(void)
{
	struct smopt o;
	sa_t err = SA_INIT;

	T_INTEQ(PARSE(&o, &err, "sendmail", "-t", "-i", "-f", "s@x", "-FJoe Bloggs", "-v", "-v",
	              "-B8BITMIME", "r"), 0);
	T_INTEQ(o.extract, 1);
	T_INTEQ(o.dot_ends, 0);
	T_STREQ(o.sender, "s@x");
	T_STREQ(o.fullname, "Joe Bloggs");
	T_INTEQ(o.verbose, 2);
	T_STREQ(o.body, "8BITMIME");
	T_INTEQ(o.first_rcpt, 9);
	/* grouped letters, attached values, -oi */
	T_INTEQ(PARSE(&o, &err, "sendmail", "-tv", "-fme@x", "-oi", "a"), 0);
	T_ASSERT(o.extract && o.verbose == 1 && o.dot_ends == 0);
	T_STREQ(o.sender, "me@x");
	T_INTEQ(PARSE(&o, &err, "sendmail", "-o", "i", "a"), 0);
	T_INTEQ(o.dot_ends, 0);
	T_INTEQ(PARSE(&o, &err, "sendmail", "-tfme@x", "a"), 0);
	T_STREQ(o.sender, "me@x");
	/* -r: a root, or with '@' the old -f */
	T_INTEQ(PARSE(&o, &err, "sendmail", "-r", "/tmp/inst", "-r", "old@x", "a"), 0);
	T_STREQ(o.root, "/tmp/inst");
	T_STREQ(o.sender, "old@x");
	T_INTEQ(PARSE(&o, &err, "sendmail", "--root", "run", "a"), 0);
	T_STREQ(o.root, "run");
	sa_free(&err);
}

static void test_ignored(void)
{
	struct smopt o;
	sa_t err = SA_INIT;

	T_INTEQ(PARSE(&o, &err, "sendmail", "-oem", "-odb", "-om", "-o7", "-oQ/x", "-G", "-U",
	              "-m", "-n", "-c", "-x", "-N", "never", "-Rhdrs", "-L", "lbl", "-C/etc/sm.cf",
	              "-h", "5", "-Am", "-V", "envid", "-X", "/log", "-ee", "-d0.1", "-pSMTP",
	              "-O", "a=b", "a"), 0);
	T_INTEQ(o.mode, SMOPT_DELIVER);
	T_INTEQ(o.dot_ends, 1);
	T_INTEQ(o.nrcpt, 1);
	T_STREQ(o.sender == NULL ? "none" : o.sender, "none");
	sa_free(&err);
}

static void test_modes(void)
{
	struct smopt o;
	sa_t err = SA_INIT;

	T_INTEQ(PARSE(&o, &err, "sendmail", "-bp"), 0);
	T_INTEQ(o.mode, SMOPT_MAILQ);
	T_INTEQ(PARSE(&o, &err, "/usr/sbin/mailq"), 0);
	T_INTEQ(o.mode, SMOPT_MAILQ);
	T_INTEQ(PARSE(&o, &err, "mailq", "-bm", "a"), 0); /* the command line wins */
	T_INTEQ(o.mode, SMOPT_DELIVER);
	T_INTEQ(PARSE(&o, &err, "sendmail", "-bs"), 0);
	T_INTEQ(o.mode, SMOPT_SMTP);
	T_INTEQ(PARSE(&o, &err, "sendmail", "-q"), 0);
	T_INTEQ(o.mode, SMOPT_FLUSH);
	T_INTEQ(PARSE(&o, &err, "sendmail", "-q30m"), 0);
	T_INTEQ(o.mode, SMOPT_NOTHING);
	T_INTEQ(PARSE(&o, &err, "sendmail", "-vq", "-r", "/r"), 0);
	T_INTEQ(o.mode, SMOPT_FLUSH);
	T_STREQ(o.root, "/r");
	sa_free(&err);
}

static void test_end_of_options(void)
{
	struct smopt o;
	sa_t err = SA_INIT;

	T_INTEQ(PARSE(&o, &err, "sendmail", "-i", "--", "-t", "b"), 0);
	T_INTEQ(o.extract, 0);
	T_INTEQ(o.first_rcpt, 3);
	T_INTEQ(o.nrcpt, 2);
	T_INTEQ(PARSE(&o, &err, "sendmail", "a", "-t"), 0); /* options end at the first name */
	T_INTEQ(o.extract, 0);
	T_INTEQ(o.nrcpt, 2);
	T_INTEQ(PARSE(&o, &err, "sendmail", "-", "a"), 0); /* a lone "-" is not an option */
	T_INTEQ(o.first_rcpt, 1);
	sa_free(&err);
}

static void test_errors(void)
{
	struct smopt o;
	sa_t err = SA_INIT;

	T_INTEQ(PARSE(&o, &err, "sendmail", "-Z", "a"), -1);
	T_STREQ(err.s, "unknown option -Z");
	T_INTEQ(PARSE(&o, &err, "sendmail", "--long"), -1);
	T_INTEQ(PARSE(&o, &err, "sendmail", "-f"), -1);
	T_STREQ(err.s, "option -f needs a value");
	T_INTEQ(PARSE(&o, &err, "sendmail", "-bi"), -1);
	T_INTEQ(PARSE(&o, &err, "sendmail", "-I"), -1);
	T_INTEQ(PARSE(&o, &err, "newaliases"), -1);
	T_INTEQ(PARSE(&o, &err, "sendmail", "-bd"), -1);
	T_INTEQ(PARSE(&o, &err, "sendmail", "-bv", "a"), -1);
	T_INTEQ(PARSE(&o, &err, "sendmail", "-qRsite"), -1);
	T_INTEQ(PARSE(&o, &err, "sendmail", "-BBINARYMIME", "a"), -1);
	T_INTEQ(PARSE(&o, &err, "sendmail", "-bp", "a"), -1);
	T_INTEQ(PARSE(&o, &err, "sendmail", "-bs", "a"), -1);
	T_INTEQ(PARSE(&o, &err, "sendmail", "-q", "a"), -1);
	T_INTEQ(PARSE(&o, &err, "sendmail", "-t", "-bp"), -1);
	T_INTEQ(PARSE(&o, &err, "sendmail", "-r", ""), -1);
	T_INTEQ(PARSE(&o, &err, "sendmail", "--root"), -1);
	T_INTEQ(smopt_parse(0, (char *const[]){ NULL }, &o, &err), 0); /* no argv[0] at all */
	sa_free(&err);
}

int main(void)
{
	T_RUN(test_defaults);
	T_RUN(test_flags);
	T_RUN(test_ignored);
	T_RUN(test_modes);
	T_RUN(test_end_of_options);
	T_RUN(test_errors);
	return t_done();
}
