/* The one table of pochta.conf keys: name, type, default, min, max, doc.
 * The reader, `pochtactl config check|list` and the consistency test against
 * man/pochta.conf.5 all come from here. Types: INT (plain integer: bytes,
 * seconds or a count), STR (free text, no control characters).
 * X(name, type, default-as-text, min, max, doc) */
#ifndef POCHTA_CONF_KEYS_H
#define POCHTA_CONF_KEYS_H

#define CONF_KEYS(X) \
	X(myhostname, STR, "", 0, 255, \
	  "host name in the SMTP greeting, Received: headers and Maildir names; empty: the system host name") \
	X(instance_user, STR, "", 0, 32, \
	  "the one account every program runs as when pochta-master is started as root; empty: each program as its own user") \
	X(log_destination, STR, "stderr", 4, 6, \
	  "where the programs log: stderr (that of pochta-master, which the programs it starts share), file (LOGDIR/pochta.log, through pochta-master), or syslog (facility mail)") \
	X(log_format, STR, "text", 4, 4, \
	  "text: TIME PROGRAM[PID]: line; json: one JSON object per line (time, program, pid, level, qid, message and each key=value); syslog keeps its own format") \
	X(local_domains, STR, "", 0, 4096, \
	  "comma- or space-separated domains delivered locally to the users of this instance") \
	X(virtual_domains, STR, "", 0, 4096, \
	  "comma- or space-separated domains delivered locally whose users are only those listed as NAME@DOMAIN (no bare names, no host accounts)") \
	X(catch_all, STR, "", 0, 4096, \
	  "comma- or space-separated @DOMAIN:MAILBOX pairs: mail for an unknown user of that local or virtual domain goes to MAILBOX (a listed user); empty: none") \
	X(local_system_users, INT, "1", 0, 1, \
	  "1: the host's accounts (uid at least local_uid_minimum) are local recipients too, with a Maildir in their home; only when run by root") \
	X(local_uid_minimum, INT, "1000", 1, 4294967294, \
	  "lowest uid of a host account that receives mail as a local recipient (root never does)") \
	X(home_mailbox, STR, "Maildir/", 2, 255, \
	  "a host account's Maildir, relative to its home directory; ends with /") \
	X(relay_networks, STR, "", 0, 4096, \
	  "comma- or space-separated IPv4/IPv6 CIDR blocks whose SMTP clients may relay; empty: none") \
	X(relayhost, STR, "", 0, 300, \
	  "HOST:PORT that receives all non-local mail; empty: deliver by MX lookup") \
	X(message_size_limit, INT, "10240000", 1024, 2147483647, \
	  "largest message accepted, in bytes, as received (before added headers)") \
	X(max_recipients, INT, "1000", 1, 100000, \
	  "recipients accepted per message; more get 452 4.5.3") \
	X(smtp_timeout, INT, "300", 1, 3600, \
	  "seconds an SMTP client may stay silent, or take over one command line, before 421 and close") \
	X(smtp_min_data_rate, INT, "500", 1, 1000000000, \
	  "bytes per second an SMTP client must keep up in DATA: each read extends the DATA deadline by bytes/rate seconds") \
	X(smtp_allow_long_lines, INT, "0", 0, 1, \
	  "1: accept message lines over 998 octets; 0: refuse such a message with 550 5.6.0") \
	X(smtp_forbid_unauth_pipelining, INT, "1", 0, 1, \
	  "1: end an SMTP session with 554 when a client sends input before the reply it must wait for") \
	X(smtp_error_limit, INT, "20", 1, 1000, \
	  "bad commands and refused recipients tolerated per SMTP session before 421 and close") \
	X(smtp_listen, STR, "127.0.0.1:25", 0, 300, \
	  "ADDR:PORT where `pochtactl start` accepts SMTP; empty: no listener") \
	X(submission_listen, STR, "", 0, 300, \
	  "ADDR:PORT where `pochtactl start` accepts message submission (RFC 6409: AUTH required before MAIL); empty: no listener") \
	X(submission_sender_check, INT, "1", 0, 1, \
	  "1: an authenticated client's envelope sender must be one of its user's own addresses (else 553 5.7.1); 0: any sender") \
	X(smtp_auth_enable, INT, "0", 0, 1, \
	  "1: AUTH on smtp_listen too (authenticated clients may relay); submission_listen always offers it") \
	X(smtp_auth_plaintext_loopback, INT, "0", 0, 1, \
	  "1: AUTH offered without TLS to loopback clients (127.0.0.0/8, ::1); never to others without TLS") \
	X(smtp_auth_failure_delay, INT, "1", 0, 60, \
	  "seconds pochta-smtpd waits before it answers a failed AUTH (each failure also counts toward smtp_error_limit)") \
	X(pop3_listen, STR, "127.0.0.1:110", 0, 300, \
	  "ADDR:PORT where `pochtactl start` accepts POP3; empty: no listener") \
	X(smtps_listen, STR, "", 0, 300, \
	  "ADDR:PORT where `pochtactl start` accepts SMTP over implicit TLS (RFC 8314, port 465); needs pochta-tls; empty: no listener") \
	X(pop3s_listen, STR, "", 0, 300, \
	  "ADDR:PORT where `pochtactl start` accepts POP3 over implicit TLS (RFC 8314, port 995); needs pochta-tls; empty: no listener") \
	X(tls_cert_file, STR, "", 0, 4096, \
	  "PEM certificate (chain) pochta-tls presents, relative to ETC unless absolute; empty: no STARTTLS, STLS or implicit TLS") \
	X(tls_key_file, STR, "", 0, 4096, \
	  "PEM private key of tls_cert_file, relative to ETC unless absolute; refused when world-readable") \
	X(tls_ca_file, STR, "", 0, 4096, \
	  "PEM CA certificates pochta-remote verifies servers against, relative to ETC unless absolute; empty: the system's default CA store") \
	X(pop3_timeout, INT, "600", 1, 3600, \
	  "seconds a POP3 client may stay silent before the session is closed with no deletion") \
	X(max_connections, INT, "100", 1, 100000, \
	  "concurrent connections per listener of `pochtactl start`") \
	X(max_connections_per_ip, INT, "50", 1, 100000, \
	  "concurrent connections from one client address per listener (as Postfix's default)") \
	X(connection_limit_exempt, STR, "relay_networks", 0, 4096, \
	  "CIDR blocks whose clients max_connections_per_ip does not limit; the word relay_networks stands for its blocks; empty: none") \
	X(session_memory_limit, INT, "268435456", 0, 1099511627776, \
	  "address space, in bytes, of each pochta-smtpd and pochta-pop3d process (and what it starts); 0: no limit") \
	X(session_files_limit, INT, "64", 0, 65536, \
	  "open files of each pochta-smtpd and pochta-pop3d process (and what it starts); 0: no limit") \
	X(session_cpu_limit, INT, "600", 0, 86400, \
	  "CPU seconds of each pochta-smtpd and pochta-pop3d process (and what it starts); 0: no limit") \
	X(delivery_concurrency, INT, "10", 1, 1000, \
	  "deliveries the queue manager runs at once") \
	X(worker_max_use, INT, "100", 1, 1000000, \
	  "deliveries (local) or batches (remote) a delivery worker makes before the queue manager replaces it") \
	X(worker_idle_timeout, INT, "60", 1, 86400, \
	  "seconds an idle delivery worker (local or remote) is kept before it is stopped") \
	X(remote_connection_cache_time, INT, "2", 0, 300, \
	  "seconds a remote delivery worker keeps an idle SMTP connection for the next message to the same domain; 0: no connection cache") \
	X(remote_connection_reuse_limit, INT, "100", 1, 100000, \
	  "messages one cached SMTP connection carries before it is closed") \
	X(queue_lifetime, INT, "432000", 0, 31536000, \
	  "seconds a message may stay queued before undeliverable recipients are bounced") \
	X(retry_min, INT, "300", 1, 86400, \
	  "first retry delay after a temporary failure, in seconds; doubled on each failure") \
	X(retry_max, INT, "4000", 1, 604800, \
	  "longest retry delay, in seconds") \
	X(recipient_delimiter, STR, "+", 0, 1, \
	  "character separating a user name from an address extension (user+ext); empty: none") \
	X(extension_folders, INT, "0", 0, 1, \
	  "1: mail for user+ext goes to the Maildir++ folder .ext of the user's Maildir (made when missing); 0: to the inbox") \
	X(postmaster, STR, "postmaster", 1, 32, \
	  "local mailbox that receives mail for postmaster@ every local domain and Postmaster") \
	X(admin_alias, STR, "root", 1, 64, \
	  "local name that postmaster, abuse and mailer-daemon are aliases of when the aliases file does not list them (RFC 2142); root, when not listed, is the postmaster mailbox") \
	X(default_privs, STR, "nobody", 1, 32, \
	  "system account that commands and files of a root-owned aliases file are delivered as") \
	X(command_time_limit, INT, "1000", 1, 86400, \
	  "seconds a command of an alias or .forward may run before it is killed and the delivery retried") \
	X(smtpd_user, STR, "pochtad", 1, 32, \
	  "system user pochta-smtpd runs as (installed, or an instance started as root); created by `pochtactl setup`") \
	X(qmgr_user, STR, "pochtaq", 1, 32, \
	  "system user pochta-qmgr runs as; owner of the queue directory") \
	X(remote_user, STR, "pochtar", 1, 32, \
	  "system user pochta-remote runs as") \
	X(virtual_user, STR, "pochtav", 1, 32, \
	  "system user that owns the virtual mailboxes in the mail directory and delivers to them") \
	X(queue_group, STR, "pochta", 1, 32, \
	  "group of the queue directory; pochta-enqueue is setgid to it; smtpd_user must not be in it") \
	X(destination_concurrency, INT, "4", 1, 1000, \
	  "remote deliveries to one destination domain at once") \
	X(remote_port, INT, "25", 1, 65535, \
	  "TCP port pochta-remote connects to on mail exchangers (routes and relayhost name their own)") \
	X(remote_connect_timeout, INT, "30", 1, 600, \
	  "seconds pochta-remote waits for a TCP connection") \
	X(remote_timeout, INT, "300", 1, 3600, \
	  "seconds pochta-remote waits for each reply of the remote server") \
	X(remote_data_timeout, INT, "600", 1, 3600, \
	  "seconds pochta-remote waits for the reply to the end of the message data") \
	X(dns_servers, STR, "", 0, 1024, \
	  "comma- or space-separated IP[:PORT] of DNS servers for MX lookups; empty: /etc/resolv.conf") \
	X(delay_warning_time, INT, "0", 0, 31536000, \
	  "seconds after arrival when the sender is told a message is still undelivered; 0: never") \
	X(bounce_size_limit, INT, "50000", 0, 10485760, \
	  "bytes of the original message returned in a bounce; beyond it only the headers")

/* Keys a reload does not apply: the listeners, the limits the supervisor
 * sized its tables by, the accounts programs run as. A change to one takes
 * effect when the instance is restarted (pochtactl restart); every other key
 * applies on `pochtactl reload` (SIGHUP to pochta-master).
 * man/pochta.conf.5 says so for each (tests/test_confdoc.py). */
#define CONF_RESTART_KEYS(R) \
	R(instance_user) R(local_system_users) R(smtp_listen) R(submission_listen) R(pop3_listen) \
	R(smtps_listen) R(pop3s_listen) R(smtp_auth_enable) \
	R(max_connections) R(delivery_concurrency) R(smtpd_user) R(qmgr_user) \
	R(remote_user) R(virtual_user) R(queue_group)

#endif
