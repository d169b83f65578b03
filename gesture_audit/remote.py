"""Files in object stores (`s3://`, `gs://`, also `file:///abs/path`), read through pyarrow filesystems.

    root = "s3://bucket/fotos?endpoint_override=127.0.0.1:9000&scheme=http"   # or plain s3://bucket/fotos
    for obj in list_uri(root):      # every file under the prefix, in name order
        obj.relative                # "kegiatan/IMG_0001.jpg", below the root
        obj.read_bytes()            # the object's bytes, into memory

A `RemoteFile` is a plain descriptor, like an archive `Member`: the root URI as given and the
object's path below it. It pickles small, so it can travel to another process (a Ray
actor), which builds the filesystem from the URI itself (once per process) and reads the bytes
there. Credentials and region come from the usual places (AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL,
GOOGLE_APPLICATION_CREDENTIALS, ...) or from the URI's query, as `pyarrow.fs.FileSystem.from_uri`
reads them; keep secrets out of the URI, which scan.json records.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from gesture_audit.archives import MAX_MEMBER

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_uri(source: str) -> bool:
    """Whether a scan source is a URI (`s3://...`, `gs://...`, `file:///...`) rather than a path."""
    return bool(_URI.match(source))


@functools.lru_cache(maxsize=16)
def filesystem(uri: str):
    """The pyarrow filesystem of a URI and the path in it (built once per process and URI).
    Raises ValueError for a scheme pyarrow does not know, OSError when the store cannot be reached."""
    from pyarrow import fs

    return fs.FileSystem.from_uri(uri)


def local_path(uri: str) -> str | None:
    """The path on this machine of a `file://` URI, else None."""
    from pyarrow import fs

    system, path = filesystem(uri)
    return path if isinstance(system, fs.LocalFileSystem) else None


@dataclass(frozen=True)
class RemoteFile:
    """An object under a scan root URI: `root` is the URI as given, `relative` the object's path
    below it ("" when the root is the object itself). Nothing is contacted until it is read."""

    root: str
    relative: str

    @property
    def name(self) -> str:
        return (self.relative or self.root.split("?", 1)[0].rstrip("/")).rsplit("/", 1)[-1]

    @property
    def path(self) -> str:
        """The object's path in the root's filesystem (for S3, "bucket/prefix/name.jpg")."""
        base = filesystem(self.root)[1]
        return f"{base.rstrip('/')}/{self.relative}" if self.relative else base

    def read_bytes(self, limit: int = MAX_MEMBER) -> bytes:
        """The object's bytes. Raises FileNotFoundError (gone), OSError (cannot be read, or over
        `limit` bytes)."""
        with filesystem(self.root)[0].open_input_stream(self.path) as stream:
            data = stream.read(limit + 1)
        if len(data) > limit:
            raise OSError(f"over the limit of {limit / 1e6:.0f} MB read from an object store")
        return data

    def head(self, size: int) -> bytes:
        """The object's first `size` bytes (one ranged read)."""
        with filesystem(self.root)[0].open_input_file(self.path) as fh:
            return fh.read(size)

    def __str__(self) -> str:
        root = self.root.split("?", 1)[0].rstrip("/")  # no query: it may hold settings
        return f"{root}/{self.relative}" if self.relative else root


def is_object(uri: str) -> bool:
    """Whether `uri` names one object (else a prefix holding some). Raises FileNotFoundError when
    there is nothing at `uri`, ValueError or OSError as `filesystem`."""
    from pyarrow import fs

    system, base = filesystem(uri)
    kind = system.get_file_info(base).type
    if kind not in (fs.FileType.File, fs.FileType.Directory):
        raise FileNotFoundError(f"{uri}: nothing there")
    return kind == fs.FileType.File


def list_uri(uri: str) -> list[RemoteFile]:
    """Every file under `uri` (a prefix, searched recursively, or one object), in name order.
    Raises as `is_object`."""
    from pyarrow import fs

    system, base = filesystem(uri)
    if is_object(uri):
        return [RemoteFile(uri, "")]
    base = base.rstrip("/") + "/"
    found = system.get_file_info(fs.FileSelector(base, recursive=True))
    return [
        RemoteFile(uri, i.path[len(base) :])
        for i in sorted(found, key=lambda i: i.path)
        if i.type == fs.FileType.File and i.path.startswith(base)
    ]
