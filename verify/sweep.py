"""A bounded sweep: one function over many items, N at a time, on daemon threads, until a time limit.

For the tenant sweep (verify.probes.tenantprobes): thousands of hosts, each a few bounded network
steps. What is not done by `stop_at` comes back as None, so the caller can say "not checked: the
run's deadline came first" for exactly those items instead of losing every result to a timeout.
Daemon threads, like the runner's: a straggler past the limit never holds up the process exit.
"""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def bounded_map(fn: Callable[[T], R], items: Sequence[T], workers: int, stop_at: float) -> list[R | None]:
    """[fn(item) for item in items] with at most `workers` calls at once; results in item order, None for
    an item not finished by `stop_at` (time.monotonic()). `fn` must not raise (wrap it): an exception
    leaves its item None."""
    results: list[R | None] = [None] * len(items)
    if not items:
        return results
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(len(items)):
        todo.put(i)
    state = {"left": len(items)}
    cond = threading.Condition()
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set() and time.monotonic() < stop_at:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            try:
                value = fn(items[i])
            except Exception:  # noqa: BLE001 - documented: the item stays None (not checked)
                value = None
            with cond:
                if not stop.is_set():
                    results[i] = value
                state["left"] -= 1
                cond.notify()

    threads = [threading.Thread(target=work, name=f"verify-sweep-{n}", daemon=True)
               for n in range(max(1, min(workers, len(items))))]
    for t in threads:
        t.start()
    with cond:
        while state["left"] > 0 and not all_idle(threads):
            now = time.monotonic()
            if now >= stop_at:
                break
            cond.wait(timeout=min(0.25, stop_at - now))
        stop.set()
        return list(results)


def all_idle(threads: Sequence[threading.Thread]) -> bool:
    """Every worker has returned (the queue ran dry, or the limit came before it did)."""
    return not any(t.is_alive() for t in threads)
