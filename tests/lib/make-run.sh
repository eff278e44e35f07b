#!/bin/sh
# make run: create ./run (domain localhost, user demo/demo) when missing, then
# start it in the foreground: SMTP 127.0.0.1:2525, POP3 127.0.0.1:1110.
# POCHTA_RUN_SMTP and POCHTA_RUN_POP3 (ADDR:PORT) override the listeners of a
# new ./run (the tests use them to run it beside a real one).
set -e
B=${1:-build}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
SMTP=${POCHTA_RUN_SMTP:-127.0.0.1:2525}
POP3=${POCHTA_RUN_POP3:-127.0.0.1:1110}
if [ ! -f run/etc/pochta.conf ]; then
	"$B/pochtactl" -r run init --domain localhost --smtp "$SMTP" --pop3 "$POP3"
	printf 'demo\n' | "$B/pochtactl" -r run user add demo
fi
echo "pochta: SMTP $("$B/pochtactl" -r run config get smtp_listen)," \
     "POP3 $("$B/pochtactl" -r run config get pop3_listen), user demo/demo;" \
     "mail in run/mail/demo/new/; Ctrl-C stops"
exec "$B/pochtactl" -r run start
