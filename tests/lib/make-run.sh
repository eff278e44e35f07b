#!/bin/sh
# make run: create ./run (domain localhost, user demo/demo) when missing, then
# start it in the foreground: SMTP 127.0.0.1:2525, POP3 127.0.0.1:1110.
# POCHTA_RUN_SMTP and POCHTA_RUN_POP3 (ADDR:PORT) override the listeners of a
# new ./run (the tests use them to run it beside a real one). Run by root, the
# new ./run belongs to the account POCHTA_RUN_USER (default nobody), which all
# of its programs run as.
set -e
B=${1:-build}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
SMTP=${POCHTA_RUN_SMTP:-127.0.0.1:2525}
POP3=${POCHTA_RUN_POP3:-127.0.0.1:1110}
if [ ! -f run/etc/pochta.conf ]; then
	ACCOUNT=
	if [ "$(id -u)" = 0 ]; then
		# the demo never runs mail as root: its programs run as one account
		# (pochtactl init --user), which must reach ./run and the programs
		ACCOUNT=${POCHTA_RUN_USER:-nobody}
		if ! runuser -u "$ACCOUNT" -- test -x "$(pwd)" -a -x "$B/pochta-smtpd"; then
			echo "make run: run as root, the demo runs as the account $ACCOUNT, which cannot" \
			     "reach $(pwd) or $B (a directory on the way is not searchable by others):" \
			     "run make run as an ordinary user, from a directory others can search, or" \
			     "with POCHTA_RUN_USER=ACCOUNT naming an account that can" >&2
			exit 1
		fi
	fi
	"$B/pochtactl" -r run init --domain localhost --smtp "$SMTP" --pop3 "$POP3" \
		${ACCOUNT:+--user "$ACCOUNT"}
	printf 'demo\n' | "$B/pochtactl" -r run user add demo
fi
echo "pochta: SMTP $("$B/pochtactl" -r run config get smtp_listen)," \
     "POP3 $("$B/pochtactl" -r run config get pop3_listen), user demo/demo;" \
     "mail in run/mail/demo/new/; Ctrl-C stops"
exec "$B/pochtactl" -r run start
