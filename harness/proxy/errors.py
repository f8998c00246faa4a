"""The API's errors: Toxiproxy's messages and status codes (its `api.go` error table).

ApiError                       message + HTTP status, rendered as {"error", "status"}
  400 bad request body: ...    malformed JSON, a wrong type, an invalid attribute
  400 missing required field: name | upstream
  400 stream was invalid, can be either upstream or downstream
  400 invalid toxic type
  404 proxy not found | toxic not found
  409 proxy already exists | toxic already exists
  500 listen tcp ...: bind: ...   the OS refused the listen address
"""

from __future__ import annotations

from http import HTTPStatus


class ApiError(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def bad_request_body(detail: str) -> ApiError:
    return ApiError(f"bad request body: {detail}", HTTPStatus.BAD_REQUEST)


def missing_field(field: str) -> ApiError:
    return ApiError(f"missing required field: {field}", HTTPStatus.BAD_REQUEST)


def invalid_stream() -> ApiError:
    return ApiError("stream was invalid, can be either upstream or downstream", HTTPStatus.BAD_REQUEST)


def invalid_toxic_type() -> ApiError:
    return ApiError("invalid toxic type", HTTPStatus.BAD_REQUEST)


def proxy_not_found() -> ApiError:
    return ApiError("proxy not found", HTTPStatus.NOT_FOUND)


def toxic_not_found() -> ApiError:
    return ApiError("toxic not found", HTTPStatus.NOT_FOUND)


def proxy_exists() -> ApiError:
    return ApiError("proxy already exists", HTTPStatus.CONFLICT)


def toxic_exists() -> ApiError:
    return ApiError("toxic already exists", HTTPStatus.CONFLICT)


def listen_failed(address: str, reason: str) -> ApiError:
    """The OS refused to listen: a server-side failure for Toxiproxy too (500)."""
    return ApiError(f"listen tcp {address}: bind: {reason}", HTTPStatus.INTERNAL_SERVER_ERROR)
