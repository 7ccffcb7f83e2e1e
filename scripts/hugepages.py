"""hugepages.py - 2 MiB hugepages and a hugetlbfs mount for DPDK, set up by the script that needs them.

DPDK's EAL wants free 2 MiB pages and, unless it runs --in-memory, a
mounted hugetlbfs ("EAL: no mounted hugetlbfs found").  A new machine has
neither.  Hugepages(N) reserves them on entry and on exit puts back exactly
what it changed: vm.nr_hugepages to the value it found, the mount it made
unmounted, the mount point it created removed.  What was there before is
never touched.

    with Hugepages(1024):
        ... run testpmd ...
"""

import os
import subprocess

PAGE_KB = 2048
MOUNT_POINT = "/dev/hugepages"
NR_PATH = "/proc/sys/vm/nr_hugepages"


class HugepagesError(Exception):
    pass


def meminfo():
    """/proc/meminfo as {key: int}."""
    res = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            res[k] = int(v.split()[0])
    return res


def hugetlbfs_2m_mounted():
    """The mount point of a 2 MiB hugetlbfs, or None."""
    with open("/proc/self/mounts") as f:
        for line in f:
            dev, path, fstype, opts = line.split()[:4]
            if fstype == "hugetlbfs" and ("pagesize=2M" in opts or "pagesize" not in opts):
                return path
    return None


class Hugepages:
    """Reserve @free_pages free 2 MiB pages (and a hugetlbfs mount with @mount) until restore()."""

    def __init__(self, free_pages, mount=True, log=None):
        self.want = free_pages
        self.mount = mount
        self.log = log or (lambda s: print(s, flush=True))
        self.nr_before = None     # vm.nr_hugepages we found, when we raised it
        self.mounted = None       # the mount point we mounted
        self.made_dir = False

    def __enter__(self):
        self.setup()
        return self

    def __exit__(self, *exc):
        self.restore()
        return False

    def setup(self):
        """Raise vm.nr_hugepages and mount hugetlbfs as needed; HugepagesError when it cannot."""
        mi = meminfo()
        if mi.get("Hugepagesize") != PAGE_KB:
            raise HugepagesError("the default hugepage size is %s kB, not 2048" % mi.get("Hugepagesize"))
        free = mi.get("HugePages_Free", 0)
        if free < self.want:
            with open(NR_PATH) as f:
                nr = int(f.read())
            try:
                with open(NR_PATH, "w") as f:
                    f.write(str(nr + self.want - free))
            except OSError as e:
                raise HugepagesError("cannot raise vm.nr_hugepages: %s" % e)
            self.nr_before = nr
            free = meminfo().get("HugePages_Free", 0)
            self.log("hugepages: vm.nr_hugepages %d -> %d (%d free)" % (nr, nr + self.want - free, free))
            if free < self.want:
                self.restore()
                raise HugepagesError("only %d of %d 2 MiB pages could be reserved (memory fragmented?)"
                                     % (free, self.want))
        if self.mount and hugetlbfs_2m_mounted() is None:
            if not os.path.isdir(MOUNT_POINT):
                os.makedirs(MOUNT_POINT)
                self.made_dir = True
            r = subprocess.run(["mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "nodev", MOUNT_POINT],
                               capture_output=True, text=True, timeout=30)
            if r.returncode != 0:
                self.restore()
                raise HugepagesError("cannot mount hugetlbfs on %s: %s" % (MOUNT_POINT, r.stderr.strip()))
            self.mounted = MOUNT_POINT
            self.log("hugepages: mounted hugetlbfs on %s" % MOUNT_POINT)
        return self

    def restore(self):
        """Put back what setup() changed (idempotent)."""
        if self.mounted:
            r = subprocess.run(["umount", self.mounted], capture_output=True, text=True, timeout=30)
            if r.returncode != 0:   # a straggler still maps a file: detach now, freed when it exits
                subprocess.run(["umount", "-l", self.mounted], capture_output=True, timeout=30)
            self.mounted = None
        if self.made_dir:
            try:
                os.rmdir(MOUNT_POINT)
            except OSError:
                pass
            self.made_dir = False
        if self.nr_before is not None:
            with open(NR_PATH, "w") as f:
                f.write(str(self.nr_before))
            self.log("hugepages: vm.nr_hugepages back to %d" % self.nr_before)
            self.nr_before = None
