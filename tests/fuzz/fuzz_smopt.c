/* libFuzzer harness: the sendmail command line (smopt.h). The input is argv,
 * NUL-separated. Properties: no crash; on success the recipients are the
 * tail of argv, and every string the result names is one of argv's or a
 * suffix of one (an attached value). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "smopt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXARGS 64

static int inside(const char *p, char *const *argv, int argc)
{
	if (!p)
		return 1;
	for (int i = 0; i < argc; i++)
		if (p >= argv[i] && p <= argv[i] + strlen(argv[i]))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAXARGS + 1];
	int argc = 0;
	struct smopt o;
	sa_t err = SA_INIT;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (char *p = buf; argc < MAXARGS && p <= buf + size; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	if (smopt_parse(argc, argv, &o, &err) == 0) {
		if (o.first_rcpt < 1 || o.first_rcpt > argc || o.first_rcpt + o.nrcpt != argc)
			abort();
		if (!inside(o.sender, argv, argc) || !inside(o.root, argv, argc) ||
		    !inside(o.fullname, argv, argc) || !inside(o.body, argv, argc))
			abort();
		if (o.extract && o.mode != SMOPT_DELIVER)
			abort();
	} else if (!err.s || !*err.s) {
		abort(); /* every refusal says why */
	}
	sa_free(&err);
	free(buf);
	return 0;
}
