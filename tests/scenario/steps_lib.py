"""steps_lib.py - the PASS/FAIL step counter the hostile scenarios share."""


class Steps:
    """Counts and prints PASS/FAIL lines."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def result(self, ok, name, detail=""):
        print("%s %s%s" % ("PASS" if ok else "FAIL", name, (": " + detail) if detail else ""), flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok
