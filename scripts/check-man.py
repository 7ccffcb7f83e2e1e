#!/usr/bin/env python3
"""check-man.py - the manual pages pass mandoc's lint and say everything --help says.

    scripts/check-man.py BUILD

For docs/man/*: `mandoc -Tlint -W warning` prints nothing.  Then, read from
the binaries' --help (which the command and port type tables print):
  - every vswctl command's words and options, every port type with each
    of its keys and the keys any port takes, are in vswctl(8);
  - every port type and key, and every vswd option, are in vswd(8);
  - every configuration key vswd --help names, every port type and key,
    are in vsw.conf(5) (as "key");
  - every vsw-bench option is in vsw-bench(1).
A command or key added to a table without its manual page fails here.
Prints one line per miss and "check-man: N passed, M failed"; exit 1 on any.
"""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAN = os.path.join(ROOT, "docs", "man")
PAGES = {"vswd": "vswd.8", "vswctl": "vswctl.8", "vsw-bench": "vsw-bench.1", "conf": "vsw.conf.5"}


def rendered(page):
    """The page as plain text, all blanks one space (a phrase may wrap)."""
    out = subprocess.run(["mandoc", "-Tascii", "-O", "width=400", os.path.join(MAN, page)], capture_output=True,
                         check=True).stdout.decode()
    out = re.sub(r".\x08", "", out)
    return " ".join(out.split())


def help_text(build, tool):
    r = subprocess.run([os.path.join(build, tool), "--help"], capture_output=True, text=True, timeout=10)
    return r.stdout + r.stderr


def port_types(text):
    """{type: [keys]} from the type table's lines ("  vhost-user path=SOCK [mode=...]"), and the generic keys."""
    types, generic = {}, set()
    for line in text.splitlines():
        m = re.match(r"^\s+([a-z][a-z0-9-]*) (\[?[a-z_]+=.*)$", line)
        if m:
            types[m.group(1)] = re.findall(r"([a-z_]+)=", m.group(2))
        if re.match(r"^\s+any (type|port):", line):
            generic |= set(re.findall(r"([a-z_]+)=", line)) | set(re.findall(r'"([a-z_]+)"', line))
    return types, generic


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    passed, failed = 0, 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL " + what)

    for page in sorted(os.listdir(MAN)):
        r = subprocess.run(["mandoc", "-Tlint", "-W", "warning", os.path.join(MAN, page)], capture_output=True,
                           text=True)
        check(r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(),
              "mandoc -Tlint %s: %s" % (page, (r.stdout + r.stderr).strip()))
    text = {k: rendered(v) for k, v in PAGES.items()}

    ctl_help = help_text(build, "vswctl")
    cmds = ctl_help.split("commands:", 1)[1] if "commands:" in ctl_help else ""
    check(bool(cmds), "vswctl --help lists commands")
    for line in cmds.splitlines():
        if not re.match(r"^  [a-z]", line):
            continue
        syn = line.split("   ")[0].strip()           # the synopsis, before the help column
        words = []
        for w in syn.split():
            if not re.match(r"^[a-z][a-z-]*$", w):
                break
            words.append(w)
        check(" ".join(words) in text["vswctl"], "vswctl(8) lacks the command \"%s\"" % " ".join(words))
        for opt in re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", syn):
            check(opt in text["vswctl"], "vswctl(8) lacks %s of \"%s\"" % (opt, " ".join(words)))
    for opt in re.findall(r"^  (--[a-z-]+)", ctl_help, re.M):
        check(opt in text["vswctl"], "vswctl(8) lacks the option %s" % opt)

    vswd_help = help_text(build, "vswd")
    for tool_help in (ctl_help, vswd_help):
        types, generic = port_types(tool_help)
        check(len(types) >= 5 and generic, "port types and generic keys found in --help (%s)" % sorted(types))
        for t, keys in types.items():
            for page in ("vswd", "vswctl", "conf"):
                check(t in text[page], "%s lacks the port type %s" % (PAGES[page], t))
            for k in keys:
                for page in ("vswd", "vswctl"):
                    check(k + "=" in text[page], "%s lacks %s's key %s=" % (PAGES[page], t, k))
                check('"%s"' % k in text["conf"] or "“%s”" % k in text["conf"],
                      "vsw.conf(5) lacks %s's key \"%s\"" % (t, k))
        for k in generic:
            check(k in text["vswd"] and k in text["vswctl"] and k in text["conf"],
                  "a page lacks the generic port key %s" % k)
    for opt in set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", vswd_help)):
        check(opt in text["vswd"], "vswd(8) lacks the option %s" % opt)
    conf_part = vswd_help.split("  --config FILE", 1)[1].split("  --fdb-size", 1)[0] if "  --config FILE" in vswd_help else ""
    conf_keys = set(re.findall(r'"([a-z_]+)":', conf_part)) - {"name", "type"}
    check(len(conf_keys) >= 8, "configuration keys found in vswd --help (%s)" % sorted(conf_keys))
    for k in conf_keys:
        check('"%s"' % k in text["conf"], "vsw.conf(5) lacks the configuration key \"%s\"" % k)

    bench_help = help_text(build, "vsw-bench")
    for opt in set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", bench_help)):
        check(opt in text["vsw-bench"], "vsw-bench(1) lacks the option %s" % opt)

    print("check-man: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
