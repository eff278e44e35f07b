"""Host accounts and `make` for the root-only tests: running a command that
must succeed, making and removing throwaway accounts and groups, and running
a make target on the build under test."""
import grp
import os
import pwd
import subprocess
import unittest

from pochta import BUILD

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(*cmd, input=None):
    """cmd, which must exit 0 (an AssertionError with its stderr otherwise)"""
    p = subprocess.run(list(cmd), input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    if p.returncode != 0:
        raise AssertionError('%s failed (%d): %s' % (' '.join(cmd), p.returncode,
                                                     p.stderr.decode(errors='replace')))
    return p


def account_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def claim_accounts(add_cleanup, users, groups=()):
    """throwaway accounts a test is about to make: unittest.SkipTest when
    one of the names (or a group of a user's name, which useradd would make)
    is on the host already, not ours to touch; else add_cleanup (addCleanup
    or addClassCleanup, registered before anything uses them, so run after)
    removes them all"""
    for n in list(users) + list(groups):
        if (n in users and account_exists(n)) or group_exists(n):
            raise unittest.SkipTest('account or group %s exists already on this host' % n)
    add_cleanup(del_accounts, list(users), list(users) + list(groups))


def del_account(name):
    subprocess.run(['userdel', name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


def del_group(name):
    subprocess.run(['groupdel', name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


def del_accounts(users, groups=()):
    """userdel each of users, then groupdel each of groups (missing ones are fine)"""
    for u in users:
        del_account(u)
    for g in groups:
        del_group(g)


def make(*args):
    """make ARGS on the build under test (its B=, and SAN=1 for a sanitized one)"""
    b = os.path.relpath(BUILD, TOP)
    # under `make check`, the outer make's flags and variables must not leak in
    env = {k: v for k, v in os.environ.items() if k not in ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL')}
    cmd = ['make', '--no-print-directory', '-C', TOP, 'B=' + b]
    if os.path.basename(b) == 'asan':
        cmd.append('SAN=1')  # never rebuild a sanitized tree without the sanitizers
    return subprocess.run(cmd + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env, timeout=300)
