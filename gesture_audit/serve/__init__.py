"""The HTTP service (`gesture-audit serve`): FastAPI over a shared `Auditor`, micro-batched.

    from gesture_audit.serve import ServeOptions, create_app
    app = create_app(ServeOptions(tokens=("s3cret",), max_batch=16))   # any ASGI server runs it

Needs the `serve` extra (fastapi, uvicorn, python-multipart).
"""

from gesture_audit.serve.app import ServeOptions, create_app, load_tokens

__all__ = ["ServeOptions", "create_app", "load_tokens"]
