"""The sandbox's first process: confine itself, report what held, then exec the job (see sandbox.py).

Runs as `python -I -B _launcher.py PLAN_JSON STATUS_FD` in the job's directory and environment. It imports
only the standard library, applies the layers the plan names, writes {"applied": [...], "missing": {...}}
to STATUS_FD and replaces itself with the job's interpreter; Landlock, the namespace and the limits carry
across exec. Landlock constants are the kernel's uapi values (include/uapi/linux/landlock.h).
"""

import ctypes
import json
import math
import os
import resource
import sys

CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000
PR_SET_NO_NEW_PRIVS = 38
SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
RULESET_VERSION, RULE_PATH_BENEATH = 1, 1
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FILE_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}
FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | (1 << 14) | (1 << 15)  # the rights a rule on a file may carry
NET_BIND_TCP, NET_CONNECT_TCP = 1, 2
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1, 2


class RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


libc = ctypes.CDLL(None, use_errno=True)


def _fail(what: str) -> str:
    return f"{what} failed: {os.strerror(ctypes.get_errno())}"


def limit(plan: dict) -> None:
    cpu = math.ceil(plan["time_s"]) + 1
    memory = plan["memory_mb"] << 20
    for name, value in ((resource.RLIMIT_CPU, cpu), (resource.RLIMIT_AS, memory),
                        (resource.RLIMIT_FSIZE, plan["file_mb"] << 20), (resource.RLIMIT_NOFILE, plan["open_files"]),
                        (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(name, (value, value))


def cut_network() -> None:
    flags = CLONE_NEWNET if os.geteuid() == 0 else CLONE_NEWUSER | CLONE_NEWNET
    if libc.unshare(flags) != 0:
        raise OSError(_fail("unshare(CLONE_NEWNET)"))


def landlock(plan: dict) -> None:
    abi = libc.syscall(SYS_CREATE_RULESET, None, 0, RULESET_VERSION)
    if abi < 1:
        raise OSError(_fail("Landlock (kernel >= 5.13 with landlock in lsm=)"))
    rights = FILE_RIGHTS_BY_ABI.get(abi, FILE_RIGHTS_BY_ABI[5])
    attr = RulesetAttr(rights, NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                       SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), size, 0)
    if ruleset < 0:
        raise OSError(_fail("landlock_create_ruleset"))
    read = EXECUTE | READ_FILE | READ_DIR
    grants = [(path, read) for path in plan["read"]]
    grants += [(f"/proc/{os.getpid()}", READ_FILE | READ_DIR), ("/dev/null", READ_FILE | WRITE_FILE),
               (plan["workdir"], rights)]
    for path, access in grants:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        if not os.path.isdir(path):
            access &= FILE_ONLY
        rule = PathBeneath(access & rights, fd)
        added = libc.syscall(SYS_ADD_RULE, ruleset, RULE_PATH_BENEATH, ctypes.byref(rule), 0)
        os.close(fd)
        if added != 0:
            raise OSError(_fail(f"landlock_add_rule({path})"))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(_fail("prctl(PR_SET_NO_NEW_PRIVS)"))
    if libc.syscall(SYS_RESTRICT_SELF, ruleset, 0) != 0:
        raise OSError(_fail("landlock_restrict_self"))
    os.close(ruleset)


def main() -> None:
    plan, status_fd = json.loads(sys.argv[1]), int(sys.argv[2])
    applied, missing = [], {}
    steps = {"rlimits": lambda: limit(plan), "netns": cut_network, "landlock": lambda: landlock(plan)}
    for name in ("rlimits", "netns", "landlock"):  # Landlock last: it would refuse the namespace's set-up
        if name not in plan["layers"]:
            continue
        try:
            steps[name]()
            applied.append(name)
        except (OSError, ValueError, AttributeError) as exc:
            missing[name] = str(exc)
    os.write(status_fd, json.dumps({"applied": applied, "missing": missing}).encode())
    os.close(status_fd)
    os.execv(plan["argv"][0], plan["argv"])


if __name__ == "__main__":
    main()
