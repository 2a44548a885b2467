"""Where the machine's CPU went during `benchmarks/load.py`'s run: per process group, and (with
BENCH_PROFILE=1) inside one gunicorn worker, sampled with py-spy."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

BIN = Path(sys.executable).parent


class CpuWatch:
    """CPU seconds per second of gunicorn (master and workers), PostgreSQL, locust, Redis and
    everything else, over the middle of the measured run (its first seconds, locust's start
    included, and its last two are left out): where the machine's cores went."""

    GROUPS = ("gunicorn", "PostgreSQL", "locust", "Redis", "other")

    def __init__(self, server_pid: int, seconds: int):
        self.server_pid, self.first, self.last = server_pid, None, None
        self.lead = min(5.0, seconds / 4)
        self.window = seconds - self.lead - 2
        if self.window >= 1:
            threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        time.sleep(self.lead)
        self.first = self._snapshot()
        time.sleep(self.window)
        self.last = self._snapshot()

    def _snapshot(self) -> tuple[float, dict, object]:
        import psutil  # locust needs it, so it is there

        try:
            server = {self.server_pid} | {p.pid for p in
                                          psutil.Process(self.server_pid).children(recursive=True)}
        except psutil.Error:
            server = set()
        seen = {}
        for process in psutil.process_iter(["name", "cmdline", "cpu_times"]):
            times, name = process.info["cpu_times"], process.info["name"] or ""
            if times is None:
                continue
            command = " ".join(process.info["cmdline"] or ())
            group = ("gunicorn" if process.pid in server else "PostgreSQL" if name == "postgres"
                     else "locust" if "locust" in command else "Redis" if "redis" in name
                     else "other")
            seen[process.pid] = (group, times.user + times.system)
        return time.monotonic(), seen, psutil.cpu_times()

    def report(self, orders_per_second: float) -> None:
        if self.first is None or self.last is None:
            return
        (t0, before, machine0), (t1, after, machine1) = self.first, self.last
        seconds = t1 - t0
        used = Counter()
        for pid, (group, cpu) in after.items():
            used[group] += cpu - before[pid][1] if pid in before else cpu
        busy = sum(machine1) - sum(machine0) - (machine1.idle - machine0.idle)
        cores = os.cpu_count() or 1
        total = sum(used.values()) or 1
        shares = ", ".join(
            f"{group} {used[group] / seconds:.2f} ({100 * used[group] / total:.0f} %)"
            for group in self.GROUPS)
        print(f"CPU, seconds per second over {seconds:.0f} s of the run ({cores} cores, "
              f"{100 * busy / seconds / cores:.0f} % busy): {shares}")
        if orders_per_second:
            print("  per order placed: " + ", ".join(
                f"{group} {1000 * used[group] / seconds / orders_per_second:.1f} ms"
                for group in self.GROUPS[:3]))


# -- profiling ----------------------------------------------------------------------------

def start_profiler(master: int, scratch: Path, seconds: int) -> subprocess.Popen | None:
    py_spy = shutil.which("py-spy") or str(BIN / "py-spy")
    workers = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    if not Path(py_spy).exists() or not workers:
        print("profile: py-spy is not installed (pip install py-spy); skipped")
        return None
    return subprocess.Popen(
        [py_spy, "record", "--pid", str(workers[0]), "--duration", str(max(5, seconds - 10)),
         "--format", "raw", "--output", str(scratch / "profile.txt"), "--nonblocking",
         "--gil"],  # only the thread holding the GIL: where the CPU goes, not who waits
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def print_profile(profiler: subprocess.Popen, scratch: Path) -> None:
    """Share of samples per function (inclusive) in one worker: where a request's time goes."""
    profiler.wait(timeout=120)
    path = scratch / "profile.txt"
    if not path.exists():
        print("profile: py-spy wrote nothing (it may need ptrace permission)")
        return
    inclusive, own, total = Counter(), Counter(), 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [_frame_name(frame) for frame in stack.split(";")]
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    if not total:
        print("profile: no samples")
        return
    print(f"profile of one worker, CPU only ({total} samples holding the GIL)")
    print("  our code, inclusive:")
    for frame, count in [item for item in inclusive.most_common()
                         if item[0].startswith("configurator/")][:25]:
        print(f"    {100 * count / total:5.1f}%  {frame}")
    print("  any code, self:")
    for frame, count in own.most_common(15):
        print(f"    {100 * count / total:5.1f}%  {frame}")


def _frame_name(frame: str) -> str:
    """'propagate (/work/main/configurator/domain/engine.py:364)' -> 'configurator/domain/engine.py
    propagate'; library frames keep their package and module."""
    function, _, where = frame.partition(" (")
    path = where.split(":")[0]
    for marker in ("/site-packages/", "/lib/python3"):
        if marker in path:
            return f"{path.split(marker, 1)[1]} {function}"
    if "configurator/" in path:
        return f"configurator/{path.split('configurator/', 1)[1]} {function}"
    return f"{path.rsplit('/', 1)[-1]} {function}"


def engine_reference(designs: int = 60, rounds: int = 20) -> float:
    """Milliseconds of CPU a `propagate` of the shipped suit takes in this process, alone (the
    best of `rounds` passes over the same partial designs): how fast this machine is just now.
    2-core VMs differ by a third from one another and drift within the hour, so runs of the load
    benchmark on different machines, or far apart, compare only through this figure."""
    from benchmarks.engine import SPECS, realistic_designs
    from configurator.domain.engine import propagate
    from configurator.domain.loader import load_specs

    spec = load_specs(SPECS).products["suit"]
    states = realistic_designs(spec, designs)
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for design in states:
            propagate(spec, design)
        best = min(best, time.process_time() - start)
    return best / len(states) * 1000
