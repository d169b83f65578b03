"""What a request brings: its photos, read within a size limit, and decoded.

Every way an upload can be unusable ends as an `ApiError` with a 4xx status and a stable
`reason`, never a 500: 413 over the size limit (refused from Content-Length before any of the
body is read, or as soon as a body without one passes the limit), 400 for an empty body or broken
multipart, 415 for what is not an image, 422 for a damaged image or a form without the photo.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import Message

from gesture_audit.audit import Auditor, Decoded
from gesture_audit.results import Finding

log = logging.getLogger("gesture_audit.serve")

# Room for the multipart envelope around the photos (boundaries, part headers).
FORM_OVERHEAD = 64 * 1024
# Text fields of a form are never needed; these only bound what a client can make the parser hold.
_MAX_FIELDS, _MAX_FIELD_BYTES = 16, 16 * 1024

# How the loader's reasons map to HTTP.
_STATUS = {
    "empty": 400,
    "not_image": 415,
    "unsupported": 415,
    "corrupt": 422,
    "truncated": 422,
    "too_large": 413,
    "unreadable": 422,
}


class ApiError(Exception):
    """An answer other than 200: `status`, a stable `reason` to branch on, a `detail` for people."""

    def __init__(self, status: int, reason: str, detail: str, headers: dict[str, str] | None = None):
        super().__init__(status, reason, detail)
        self.status, self.reason, self.detail, self.headers = status, reason, detail, headers or {}


def too_large(detail: str) -> ApiError:
    # The unread rest of the body must not be taken for the next request on this connection,
    # and reading it to the end is what the limit is there to avoid: close instead.
    return ApiError(413, "too_large", detail, {"Connection": "close"})


@dataclass
class Upload:
    """One photo as sent: its bytes and, from a multipart part, the client's file name."""

    data: bytes
    name: str | None = None


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "multipart/form-data"


def _limited(request: Request, limit: int, allowed: str, timeout: float) -> Request:
    """`request` with a body that raises 413 once more than `limit` bytes have arrived, and 408 when
    it has not all arrived `timeout` seconds after reading began. `allowed` says what the limit is,
    for the client."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(f"the request body ({declared} bytes) is over the limit of {allowed}")
    seen = 0
    receive = request.receive
    deadline = time.monotonic() + timeout

    async def counted() -> Message:
        nonlocal seen
        try:
            message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            raise ApiError(
                408, "too_slow", f"the request body did not arrive within {timeout:g} s", {"Connection": "close"}
            ) from None
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large(f"the request body is over the limit of {allowed}")
        return message

    return Request(request.scope, counted)


async def read_body(request: Request, max_bytes: int, timeout: float) -> Upload:
    """The raw request body as one photo of at most `max_bytes`, within `timeout` seconds."""
    return Upload(await _limited(request, max_bytes, f"{max_bytes} bytes", timeout).body())


async def read_form(request: Request, *, field: str, max_files: int, max_bytes: int, timeout: float) -> list[Upload]:
    """The files of the multipart field `field`: at least one, at most `max_files` of `max_bytes` each
    (a larger file is returned as it is, for `decode` to refuse: the body's limit is their sum),
    within `timeout` seconds."""
    allowed = f"{max_bytes} bytes per photo" + (f", {max_files} photos" if max_files > 1 else "")
    form_request = _limited(request, max_files * max_bytes + FORM_OVERHEAD, allowed, timeout)
    try:
        form = await form_request.form(max_files=max_files, max_fields=_MAX_FIELDS, max_part_size=_MAX_FIELD_BYTES)
    except HTTPException as e:  # what Starlette's parser says about broken multipart
        raise ApiError(400, "bad_multipart", e.detail) from None
    if not form:  # nothing parsed: garbage, or a boundary the body never uses (README: 400 broken form)
        raise ApiError(
            400,
            "bad_multipart",
            "no form part found: the body is not multipart/form-data with the boundary its Content-Type names",
        )
    try:
        parts = form.getlist(field)
        files = [part for part in parts if isinstance(part, UploadFile)]
        if files and len(files) == len(parts):
            return [Upload(await part.read(), part.filename or None) for part in files]
        if parts:
            problem = f"the field {field!r} holds text, not a file"
        else:
            names = sorted({name[:40] for name in form.keys()})[:10]
            problem = f"the form has {', '.join(map(repr, names))}"
        raise ApiError(
            422,
            "missing_file",
            f"expected the photo as a file upload in the multipart field "
            f"{field!r} (curl -F {field}=@photo.jpg); {problem}",
        )
    finally:
        await form.close()  # the spooled temporary files of large parts


def decode(auditor: Auditor, upload: Upload, max_bytes: int) -> Decoded:
    """Hash and decode one upload with `auditor.decode`, as `auditor.check(bytes)` does. Raises ApiError."""
    if len(upload.data) > max_bytes:
        raise too_large(f"the photo ({len(upload.data)} bytes) is over the limit of {max_bytes} bytes")
    # No videos: minutes of frames would hold up every photo in the micro-batch.
    decoded = auditor.decode(upload.data, videos=False)
    decoded.finding.path = upload.name
    if decoded.image is not None:
        return decoded
    if decoded.reason is None:  # a decoder bug this input found: still the input's fault, not a 500
        # Not the error's text: a decoder's message may quote the file's bytes.
        log.warning("a photo failed to decode with an unexpected error")
        raise ApiError(422, "corrupt", "the image cannot be decoded")
    raise ApiError(_STATUS.get(decoded.reason, 422), decoded.reason, decoded.finding.error or decoded.reason)


def failed(upload: Upload, error: ApiError) -> Finding:
    """The error row a batch answer has for an unusable upload, as `Auditor.check_many` would write it."""
    return Finding.failed(upload.name, error.detail, hashlib.sha256(upload.data).hexdigest())
