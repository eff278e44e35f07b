#!/bin/sh
# make run: create ./run (domain localhost, user demo/demo) when missing, then
# start it in the foreground: SMTP 127.0.0.1:2525, POP3 127.0.0.1:1110.
set -e
B=${1:-build}
if [ ! -f run/etc/pochta.conf ]; then
	"$B/pochtactl" -r run init --domain localhost --smtp 127.0.0.1:2525 --pop3 127.0.0.1:1110
	printf 'demo\n' | "$B/pochtactl" -r run user add demo
fi
echo "pochta: SMTP 127.0.0.1:2525, POP3 127.0.0.1:1110, user demo/demo; mail in run/mail/demo/new/; Ctrl-C stops"
exec "$B/pochtactl" -r run start
