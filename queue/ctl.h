/* pochtactl: the administration tool. One file per command group:
 * ctl.c (main, helpers), ctl_init.c, ctl_setup.c, ctl_user.c, ctl_config.c, ctl_start.c
 * (execs the supervisor, pochta-master), ctl_queue.c. */
#ifndef POCHTA_CTL_H
#define POCHTA_CTL_H
#include <stddef.h>
#include <stdio.h>
#include "sa.h"
#include "conf.h"

/* print "pochtactl: ..." on stderr and exit 1 */
void ctl_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* same, with ": strerror(errno)" appended */
void ctl_die_sys(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* the usage text on stderr, exit 2 */
void ctl_usage(void) __attribute__((noreturn));
/* the usage of one command (sub: one of its subcommands, or NULL) on stderr, exit 2 */
void ctl_usage_of(const char *cmd, const char *sub) __attribute__((noreturn));
/* "pochtactl: CMD SUB: missing WHAT" and that command's usage on stderr, exit 2 */
void ctl_missing(const char *cmd, const char *sub, const char *what) __attribute__((noreturn));
/* "CMD SUB" takes the arguments names (words: "KEY VALUE") and was given have:
 * returns when that is right, else names the first missing one (or says there
 * are too many) with the command's usage on stderr, exit 2 */
void ctl_nargs(const char *cmd, const char *sub, int have, const char *names);

/* read a whole regular file of at most max bytes into out (replacing it);
 * 0, or -1 with errno (EFBIG when larger than max) */
/* conf_load(paths.conf) or die with its message */
void ctl_conf_load(struct conf *c);
/* each '\n'-ended line of lines on stderr as "pochtactl: LINE" */
void ctl_print_lines(const sa_t *lines);
/* a JSON string (with quotes) for s[0..len) on f */
void ctl_json_str(FILE *f, const char *s, size_t len);

int ctl_cmd_init(int argc, char **argv);
int ctl_cmd_user(int argc, char **argv);
int ctl_cmd_config(int argc, char **argv);
int ctl_cmd_setup(int argc, char **argv);
int ctl_cmd_start(int argc, char **argv);
int ctl_cmd_queue(int argc, char **argv);
int ctl_cmd_aliases(int argc, char **argv);
int ctl_cmd_reload(int argc, char **argv);
/* start -d: run prog (pochta-master) args detached; 0 once it runs, else 1 */
int ctl_start_background(const char *prog, char *const args[]);
int ctl_cmd_status(int argc, char **argv);
int ctl_cmd_stop(int argc, char **argv);
int ctl_cmd_restart(int argc, char **argv);

#endif
