"""Errors with a stable machine code: every 4xx answers {"detail": ..., "code": ...}."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException


class AppError(Exception):
    status_code = 400
    code = "bad_request"
    detail = "Bad request"
    # More fields for the error body beside detail and code (e.g. an English message).
    extra: dict[str, Any] | None = None

    def __init__(
        self,
        detail: Any = None,
        *,
        code: str | None = None,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.detail = detail if detail is not None else self.detail
        self.code = code or self.code
        self.status_code = status_code or self.status_code
        self.headers = headers
        super().__init__(str(self.detail))


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    detail = "Not found"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    detail = "Not allowed"


class Unauthorized(AppError):
    status_code = 401
    code = "not_authenticated"
    detail = "Not authenticated"

    def __init__(self, detail: Any = None, *, code: str | None = None) -> None:
        super().__init__(detail, code=code, headers={"WWW-Authenticate": "Bearer"})


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    detail = "Conflict"


class Unprocessable(AppError):
    status_code = 422
    code = "invalid"
    detail = "Invalid input"


_STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    429: "too_many_requests",
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.detail, "code": exc.code, **(exc.extra or {})},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        return JSONResponse(
            {"detail": exc.detail, "code": code},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(SQLAlchemyTimeoutError)
    async def _pool_exhausted(_: Request, exc: SQLAlchemyTimeoutError) -> JSONResponse:
        # Overload: every database connection is busy. Say so at once; clients retry.
        return JSONResponse(
            {"detail": "The server is busy; try again in a moment", "code": "server_busy"},
            status_code=503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors, "code": "validation_error"}, status_code=422)
