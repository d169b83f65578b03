"""Micro-batching: photos that arrive together go through the hand engine in one call.

Requests put their decoded photo on an asyncio queue and wait. One collector task takes the first
photo, waits a few milliseconds for company (unless a full batch is already queued), and hands up
to `max_batch` photos to a single engine thread. While that call runs, new photos queue up and
form the next batch, so batches grow with the load by themselves and one photo alone waits only
`wait` seconds longer than it would have.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

log = logging.getLogger("gesture_audit.serve")

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Job(Generic[Item, Result]):
    item: Item
    future: asyncio.Future[Result]


class Batcher(Generic[Item, Result]):
    """Runs `judge(items) -> results` (same length, same order) on micro-batches of `submit` calls.

    Create and use it inside a running event loop: `start()`, `await submit(item)`, `await close()`.
    `on_batch(n)` is told the size of every batch before it runs (for the metrics).
    """

    def __init__(
        self,
        judge: Callable[[list[Item]], list[Result]],
        *,
        max_batch: int,
        wait: float,
        on_batch: Callable[[int], None] = lambda n: None,
    ):
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if wait < 0:
            raise ValueError("wait must not be negative")
        self.max_batch, self.wait = max_batch, wait
        self._judge, self._on_batch = judge, on_batch
        self._queue: asyncio.Queue[_Job[Item, Result]] = asyncio.Queue()
        # One thread: the engine already uses every core for one call, and its calls are
        # serialised anyway; a second thread would only make batches smaller.
        self._engine = ThreadPoolExecutor(1, thread_name_prefix="gesture-audit-engine")
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._collect(), name="gesture-audit-batcher")

    async def close(self) -> None:
        """Stop collecting; photos still queued are cancelled (the server has drained requests by now)."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        while not self._queue.empty():
            self._queue.get_nowait().future.cancel()
        self._engine.shutdown(wait=True)

    async def submit(self, item: Item) -> Result:
        """The result for `item`, once the batch it joined has run. Raises what `judge` raised."""
        if self._task is None or self._task.done():
            raise RuntimeError("the batcher is not running")
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Job(item, future))
        return await future  # cancelled with the request when its client goes away

    async def _collect(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            jobs = [await self._queue.get()]
            if self.wait and self._queue.qsize() + 1 < self.max_batch:
                await asyncio.sleep(self.wait)
            while len(jobs) < self.max_batch and not self._queue.empty():
                jobs.append(self._queue.get_nowait())
            jobs = [job for job in jobs if not job.future.done()]  # their clients went away
            if not jobs:
                continue
            self._on_batch(len(jobs))
            try:
                results = await loop.run_in_executor(self._engine, self._judge, [job.item for job in jobs])
            except asyncio.CancelledError:  # closing: nobody will take these results
                for job in jobs:
                    job.future.cancel()
                raise
            except Exception as e:  # a bug, not a bad photo (those are results): fail this batch only
                log.exception("engine call on a batch of %d failed", len(jobs))
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(e)
                continue
            for job, result in zip(jobs, results):
                if not job.future.done():
                    job.future.set_result(result)
