"""Micro-batching on its own: what arrives together runs together, in order, and failures stay local."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from gesture_audit.serve.batcher import Batcher


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_requests_arriving_together_share_one_call():
    calls: list[list[int]] = []

    def judge(items):
        calls.append(list(items))
        time.sleep(0.05)  # the engine is busy: what arrives meanwhile forms the next batch
        return [item * 10 for item in items]

    async def main():
        batcher = Batcher(judge, max_batch=8, wait=0.01)
        batcher.start()
        try:
            return await asyncio.gather(*(batcher.submit(i) for i in range(20)))
        finally:
            await batcher.close()

    assert run(main()) == [i * 10 for i in range(20)]
    assert sorted(i for call in calls for i in call) == list(range(20))
    assert max(map(len, calls)) == 8 and len(calls) <= 4, calls


def test_one_request_alone_is_not_held_for_a_full_batch():
    """A lone request runs as a batch of one once the batch wait is over: it never waits for the 15
    requests that would fill the batch (`run` gives up after 60 s; no timing is asserted)."""
    calls: list[list[str]] = []

    def judge(items):
        calls.append(list(items))
        return items

    async def main():
        batcher = Batcher(judge, max_batch=16, wait=0.005)
        batcher.start()
        try:
            return await batcher.submit("photo")
        finally:
            await batcher.close()

    assert run(main()) == "photo"
    assert calls == [["photo"]]


def test_a_failing_batch_fails_only_its_own_requests():
    def judge(items):
        if "bad" in items:
            raise RuntimeError("engine bug")
        return items

    async def main():
        batcher = Batcher(judge, max_batch=2, wait=0)
        batcher.start()
        try:
            first = await asyncio.gather(batcher.submit("bad"), return_exceptions=True)
            second = await batcher.submit("good")
            return first, second
        finally:
            await batcher.close()

    (failure,), after = run(main())
    assert isinstance(failure, RuntimeError) and after == "good"


def test_requests_whose_clients_left_are_skipped():
    seen: list[str] = []
    gate = threading.Event()

    def judge(items):
        seen.extend(items)
        gate.wait(10)
        return items

    async def main():
        batcher = Batcher(judge, max_batch=4, wait=0)
        batcher.start()
        try:
            busy = asyncio.ensure_future(batcher.submit("first"))
            await asyncio.sleep(0.1)  # "first" is in the engine now
            gone = asyncio.ensure_future(batcher.submit("gone"))
            await asyncio.sleep(0.05)
            gone.cancel()
            gate.set()
            assert await busy == "first"
            assert await batcher.submit("next") == "next"
        finally:
            await batcher.close()

    run(main())
    assert "gone" not in seen and seen == ["first", "next"]


def test_bad_settings_and_use_before_start():
    with pytest.raises(ValueError):
        Batcher(lambda items: items, max_batch=0, wait=0)
    with pytest.raises(ValueError):
        Batcher(lambda items: items, max_batch=1, wait=-1)

    async def main():
        with pytest.raises(RuntimeError, match="not running"):
            await Batcher(lambda items: items, max_batch=1, wait=0).submit(1)

    run(main())
