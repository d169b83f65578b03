"""Scanning on a Ray cluster: the same rows as a local scan, with the photos checked by many machines.

    from gesture_audit.distributed import scan_on_ray

    counts = scan_on_ray(["/mnt/shared/photos"], "audit-out", address="auto", actors=8)

The driver does what a local scan does (`gesture_audit.scan`: plan, walk, resume, findings.jsonl,
counts); only the photos go to the cluster. `RayAuditor` stands in for `Auditor` in
`run_scan`: its `check_many` sends the paths through Ray Data's `map_batches` on a pool of actors,
each holding one `Auditor` (models loaded once per actor), and yields the findings back in input
order, so the driver writes them with the same writer as a local scan, each flushed as it arrives.
The paths must be readable by the workers (a shared file system, or the same paths on every node),
or be object-store URIs (`s3://bucket/prefix`): the actors then read each object through pyarrow.

Faults: Ray restarts an actor whose process dies and retries its block of photos. A block that
comes back after a crash is checked one photo at a time, and a photo whose check has died twice gets an
error row instead of a third try, so that one poisoned photo cannot stop the job. The attempts
are counted by a small `_Attempts` actor (no CPU) that holds only the photos in flight.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
from collections.abc import Callable, Generator, Iterable
from dataclasses import replace
from functools import partial

import numpy as np

from gesture_audit.audit import Auditor
from gesture_audit.results import Finding
from gesture_audit.scan import ScanUsageError, finish_scan, plan_scan, run_scan, walk

INSTALL = "scanning on Ray needs the ray extra: pip install 'gesture-audit[ray]'"
CRASHES = 2  # a photo whose check killed its worker this many times gets an error row


def _ray():
    try:
        import ray
        import ray.data
    except ImportError as e:
        raise ImportError(INSTALL) from e
    return ray


class _Attempts:
    """Photos being checked, with how many checks of each died (started, never finished)."""

    def __init__(self) -> None:
        self.open: dict[bytes, int] = {}

    def begin(self, keys: list[bytes]) -> list[int]:
        """The crashes of each photo so far; when there are none, the whole batch is started."""
        crashes = [self.open.get(k, 0) for k in keys]
        if not any(crashes):
            self.open.update(dict.fromkeys(keys, 1))
        return crashes

    def start(self, key: bytes) -> None:
        self.open[key] = self.open.get(key, 0) + 1

    def finish(self, keys: list[bytes]) -> None:
        for k in keys:
            self.open.pop(k, None)


class _Checker:
    """One Ray Data actor: an Auditor, loaded once, checking blocks of sources (pickled: paths of
    any encoding, archive members) in engine batches of `batch`."""

    def __init__(self, make_auditor: Callable[[], Auditor], attempts, batch: int):
        self.auditor = make_auditor()
        self.attempts = attempts
        self.batch = batch

    def __call__(self, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import ray

        keys = [bytes(k) for k in rows["source"]]
        crashes = ray.get(self.attempts.begin.remote(keys))
        if not any(crashes):
            findings = list(self.auditor.check_many([pickle.loads(k) for k in keys], batch=self.batch))
        else:  # an earlier try at this block died: alone, each photo's crashes are its own
            findings = []
            for key, crashed in zip(keys, crashes):
                source = pickle.loads(key)
                if crashed >= CRASHES:
                    findings.append(
                        Finding.failed(
                            str(source), f"its check stopped the worker process {crashed} times; not checked again"
                        )
                    )
                    continue
                ray.get(self.attempts.start.remote(key))
                findings.append(self.auditor.check(source))
                self.attempts.finish.remote([key])
        self.attempts.finish.remote(keys)  # no wait: an actor runs one caller's calls in order
        return {"finding": np.array([json.dumps(f.to_dict(), allow_nan=False) for f in findings], dtype=object)}


class RayAuditor:
    """`Auditor.check_many` on a Ray cluster, for `run_scan`; use it as a context manager.

    address: "auto" (the cluster this machine belongs to, or RAY_ADDRESS), "HOST:PORT" or
        "ray://HOST:PORT", or None / "local" to start Ray on this machine with `cpus` logical CPUs.
        When Ray is already initialised in this process, that connection is used as it is.
    actors: the size of the actor pool, each actor holding one Auditor.
    actor_cpus: the CPUs Ray reserves per actor (fractions allowed); ONNX Runtime runs that many
        threads per actor unless `engine.threads` says otherwise.
    election, gallery, engine (EngineOptions), workers, **options (e.g. text): as for `Auditor`, per actor.
    make_auditor: builds each actor's Auditor instead (a picklable callable), for custom setups.
    """

    def __init__(
        self,
        address: str | None = "auto",
        *,
        actors: int = 1,
        actor_cpus: float = 1.0,
        cpus: int | None = None,
        election=None,
        gallery=None,
        engine=None,
        workers: int | None = None,
        make_auditor: Callable[[], Auditor] | None = None,
        **options,
    ):
        ray = _ray()
        from gesture_audit.detect.engine import EngineOptions
        from gesture_audit.judge.election import Election, load_election

        if actors < 1 or actor_cpus <= 0:
            raise ValueError("actors must be at least 1 and actor_cpus above 0")
        # Election and gallery are read here, so that a bad file is an error before any cluster work.
        self.election = election if isinstance(election, Election) else load_election(election)
        if gallery is not None:
            from gesture_audit.identify.gallery import Gallery

            gallery = gallery if isinstance(gallery, Gallery) else Gallery.load(gallery)
        if make_auditor is None:
            engine = engine or EngineOptions()
            if engine.threads == 0:  # not every core of the node: the actor's share
                engine = replace(engine, threads=max(1, round(actor_cpus)))
            make_auditor = partial(
                Auditor, election=self.election, gallery=gallery, engine=engine, workers=workers, **options
            )
        self.make_auditor, self.actors, self.actor_cpus = make_auditor, actors, actor_cpus
        self._started = not ray.is_initialized()
        if self._started:
            local = address in (None, "local")
            ray.init(
                address=None if local else address,
                num_cpus=cpus if local else None,
                include_dashboard=False,
                logging_level=logging.WARNING,
                log_to_driver=False,
            )
            logging.getLogger("ray.data").setLevel(logging.WARNING)  # the scan shows its own progress,
            logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # not "bars disabled"
            cores = ray.cluster_resources().get("CPU", 0)
            if local and actors * actor_cpus > cores:  # a cluster may grow; this machine will not
                ray.shutdown()
                self._started = False
                raise ValueError(
                    f"{actors} actors of {actor_cpus:g} CPUs need {actors * actor_cpus:g} CPUs; "
                    f"this machine has {cores:g}: lower --actors or --actor-cpus"
                )

    def __enter__(self) -> RayAuditor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Disconnect from Ray when this object connected (a local Ray it started stops)."""
        if self._started:
            _ray().shutdown()
            self._started = False

    def check_many(self, sources: Iterable, batch: int = 8) -> Generator[Finding, None, None]:
        """One Finding per path or archive member, in input order, as the cluster finishes them (see `Auditor.check_many`)."""
        ray = _ray()
        from ray.data import ActorPoolStrategy, DataContext

        keys = [pickle.dumps(s) for s in sources]  # a path of any encoding or an archive Member, unchanged
        if not keys:
            return
        context = DataContext.get_current()
        context.execution_options.preserve_order = True  # run_scan pairs findings with files by order
        context.enable_progress_bars = False  # the driver shows the scan's own progress bar
        attempts = ray.remote(num_cpus=0)(_Attempts).remote()
        # Blocks (Ray tasks) of about a quarter of each actor's share, 1 to 32 batches: few enough that
        # scheduling costs little, small enough that the actors share the work and a crash retries little.
        per_block = batch * min(32, max(1, len(keys) // (4 * self.actors * batch)))
        blocks = -(-len(keys) // per_block)
        ds = ray.data.from_items([{"source": k} for k in keys], override_num_blocks=blocks)
        # One call per block, so that check_many decodes the next batch while the engine runs this one.
        ds = ds.map_batches(
            _Checker,
            fn_constructor_args=(self.make_auditor, attempts, batch),
            batch_size=per_block,
            batch_format="numpy",
            compute=ActorPoolStrategy(size=self.actors),
            num_cpus=self.actor_cpus,
        )
        try:
            for rows in ds.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=1):
                for line in rows["finding"]:
                    yield Finding.from_dict(json.loads(line))
        finally:
            ray.kill(attempts)


def scan_on_ray(
    paths: list[str | os.PathLike],
    out: str | os.PathLike,
    *,
    address: str | None = "auto",
    resume: bool = False,
    batch: int = 8,
    actors: int = 1,
    actor_cpus: float = 1.0,
    cpus: int | None = None,
    election=None,
    gallery=None,
    fast: bool = False,
    workers: int | None = None,
    make_auditor: Callable[[], Auditor] | None = None,
    on_finding: Callable[[Finding], None] | None = None,
):
    """`gesture-audit scan PATHS --out OUT --ray ADDRESS` from Python: writes OUT/findings.jsonl and
    scan.json as a local scan does (render the report with `gesture_audit.report.render_reports`).

    Returns the verdict counts of the rows written by this run. Raises ScanUsageError as `plan_scan`.
    """
    from gesture_audit.detect.engine import EngineOptions

    engine = EngineOptions.fast() if fast else EngineOptions()
    with RayAuditor(
        address,
        actors=actors,
        actor_cpus=actor_cpus,
        cpus=cpus,
        election=election,
        gallery=gallery,
        engine=engine,
        workers=workers,
        make_auditor=make_auditor,
    ) as auditor:
        options = {"batch": batch, "workers": workers, "profile": "fast" if fast else "default"}
        plan = plan_scan(paths, out, resume=resume, election=auditor.election.to_record(), options=options)
        counts = run_scan(plan, auditor, list(walk(plan)), batch=batch, on_finding=on_finding)
    finish_scan(plan, counts)
    return counts


__all__ = ["INSTALL", "RayAuditor", "ScanUsageError", "scan_on_ray"]
