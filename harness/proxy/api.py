"""The Toxiproxy 2.x HTTP API (its `api.go`): routes, handlers, JSON out, errors as {"error", "status"}."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from harness.proxy import wire
from harness.proxy.collection import PopulateError, ProxyCollection, entries_from_json
from harness.proxy.errors import ApiError, toxic_not_found
from harness.proxy.httpserver import Request, Response
from harness.proxy.proxy import DOWN, Proxy, toxic_key
from harness.proxy.toxic_input import new_toxic, updated_toxic

log = logging.getLogger("harness.proxy")

API_VERSION = "2.12.0"  # the Toxiproxy release whose API this one mirrors
JSON = "application/json"
TEXT = "text/plain; charset=utf-8"  # the label Go's http.Error puts on whatever it writes

Params = dict[str, str]
Endpoint = Callable[["ToxiproxyApi", Request, Params], Awaitable[Response]]


def json_response(value: Any, status: int = HTTPStatus.OK) -> Response:
    return Response(status, wire.dumps(value), JSON)


def http_error(status: int, body: bytes) -> Response:
    """Go's http.Error: text/plain whatever the body, nosniff, and a newline after the body."""
    return Response(status, body + b"\n", TEXT, {"X-Content-Type-Options": "nosniff"})


def error_response(error: ApiError) -> Response:
    """Toxiproxy's apiError: the JSON {"error", "status"}, written with http.Error (so labelled text/plain)."""
    return http_error(error.status, wire.dumps({"error": error.message, "status": error.status}))


def populate_response(status: int, proxies: list[Proxy], error: ApiError | None = None) -> Response:
    """Toxiproxy's Populate writes its own JSON, errors included (application/json, no newline): the
    error's fields, if any, then `proxies`, null when none was created (Go's nil slice)."""
    body: wire.JsonObject = {} if error is None else {"error": error.message, "status": error.status}
    body["proxies"] = [render_proxy(proxy) for proxy in proxies] or None
    return json_response(body, status)


def render_proxy(proxy: Proxy) -> wire.JsonObject:
    toxics = [render_toxic(proxy, spec.name) for spec in proxy.toxics()]
    return wire.render_proxy(proxy.name, proxy.listen, proxy.upstream, proxy.enabled, toxics, proxy.leases.left_s(DOWN))


def render_toxic(proxy: Proxy, name: str) -> wire.JsonObject:
    spec = proxy.toxic(name)
    if spec is None:
        raise toxic_not_found()
    return wire.render_toxic(spec, proxy.leases.left_s(toxic_key(name)))


class ToxiproxyApi:
    def __init__(self, collection: ProxyCollection) -> None:
        self.collection = collection

    async def __call__(self, request: Request) -> Response:
        route = match(request.path)
        if route is None:
            return http_error(404, b"404 page not found")
        endpoints, params = route
        endpoint = endpoints.get(request.method)
        if endpoint is None:
            return Response(405)  # gorilla/mux: a known path with another method
        if request.headers.get("user-agent", "").startswith("Mozilla/"):
            # Toxiproxy refuses browsers, so a web page cannot drive it (cross-site requests).
            return http_error(403, b"User agent not allowed")
        try:
            return await endpoint(self, request, params)
        except ApiError as exc:
            if exc.status >= 500:
                log.warning("%s %s: %s", request.method, request.path, exc.message)
            return error_response(exc)

    # ---- proxies -------------------------------------------------------------------------

    async def proxy_index(self, request: Request, params: Params) -> Response:
        return json_response({proxy.name: render_proxy(proxy) for proxy in self.collection.all()})

    async def proxy_create(self, request: Request, params: Params) -> Response:
        proxy = await self.collection.create(wire.parse_body(request.body))
        return json_response(render_proxy(proxy), HTTPStatus.CREATED)

    async def populate(self, request: Request, params: Params) -> Response:
        try:
            proxies = await self.collection.populate(entries_from_json(wire.parse_body(request.body)))
        except PopulateError as exc:
            return populate_response(exc.status, exc.proxies, exc)
        except ApiError as exc:
            return populate_response(exc.status, [], exc)
        return populate_response(HTTPStatus.CREATED, proxies)

    async def proxy_show(self, request: Request, params: Params) -> Response:
        return json_response(render_proxy(self.collection.get(params["proxy"])))

    async def proxy_update(self, request: Request, params: Params) -> Response:
        self.collection.get(params["proxy"])  # a missing proxy is a 404 even with a bad body
        proxy = await self.collection.update(params["proxy"], wire.parse_body(request.body))
        return json_response(render_proxy(proxy))

    async def proxy_delete(self, request: Request, params: Params) -> Response:
        await self.collection.delete(params["proxy"])
        return Response(HTTPStatus.NO_CONTENT)

    async def reset(self, request: Request, params: Params) -> Response:
        await self.collection.reset()
        return Response(HTTPStatus.NO_CONTENT)

    async def version(self, request: Request, params: Params) -> Response:
        return Response(200, f'{{"version": "{API_VERSION}"}}\n'.encode(), "application/json;charset=utf-8")

    # ---- toxics --------------------------------------------------------------------------

    async def toxic_index(self, request: Request, params: Params) -> Response:
        proxy = self.collection.get(params["proxy"])
        return json_response([render_toxic(proxy, spec.name) for spec in proxy.toxics()])

    async def toxic_create(self, request: Request, params: Params) -> Response:
        proxy = self.collection.get(params["proxy"])
        async with proxy.lock:
            names = {spec.name for spec in proxy.toxics()}
            spec, lease = new_toxic(wire.parse_body(request.body), names)
            await proxy.add_toxic(spec)
            if not isinstance(lease, wire.Missing):
                proxy.lease_toxic(spec.name, lease)
            return json_response(render_toxic(proxy, spec.name))

    async def toxic_show(self, request: Request, params: Params) -> Response:
        proxy = self.collection.get(params["proxy"])
        return json_response(render_toxic(proxy, params["toxic"]))

    async def toxic_update(self, request: Request, params: Params) -> Response:
        proxy = self.collection.get(params["proxy"])
        async with proxy.lock:
            spec = proxy.toxic(params["toxic"])
            if spec is None:
                raise toxic_not_found()
            updated, lease = updated_toxic(spec, wire.parse_body(request.body))
            renewal_only = updated == spec and not isinstance(lease, wire.Missing)
            if not renewal_only:  # re-running would restart timeouts and re-roll toxicity
                await proxy.update_toxic(updated)
            if not isinstance(lease, wire.Missing):
                proxy.lease_toxic(spec.name, lease)
            return json_response(render_toxic(proxy, spec.name))

    async def toxic_delete(self, request: Request, params: Params) -> Response:
        proxy = self.collection.get(params["proxy"])
        async with proxy.lock:
            if proxy.toxic(params["toxic"]) is None:
                raise toxic_not_found()
            await proxy.remove_toxic(params["toxic"])
        return Response(HTTPStatus.NO_CONTENT)


ROUTES: list[tuple[re.Pattern[str], dict[str, Endpoint]]] = [
    (re.compile(r"/reset"), {"POST": ToxiproxyApi.reset}),
    (re.compile(r"/proxies"), {"GET": ToxiproxyApi.proxy_index, "POST": ToxiproxyApi.proxy_create}),
    (re.compile(r"/populate"), {"POST": ToxiproxyApi.populate}),
    (
        re.compile(r"/proxies/(?P<proxy>[^/]+)"),
        {
            "GET": ToxiproxyApi.proxy_show,
            "POST": ToxiproxyApi.proxy_update,  # deprecated by Toxiproxy in favour of PATCH
            "PATCH": ToxiproxyApi.proxy_update,
            "DELETE": ToxiproxyApi.proxy_delete,
        },
    ),
    (
        re.compile(r"/proxies/(?P<proxy>[^/]+)/toxics"),
        {"GET": ToxiproxyApi.toxic_index, "POST": ToxiproxyApi.toxic_create},
    ),
    (
        re.compile(r"/proxies/(?P<proxy>[^/]+)/toxics/(?P<toxic>[^/]+)"),
        {
            "GET": ToxiproxyApi.toxic_show,
            "POST": ToxiproxyApi.toxic_update,
            "PATCH": ToxiproxyApi.toxic_update,
            "DELETE": ToxiproxyApi.toxic_delete,
        },
    ),
    (re.compile(r"/version"), {"GET": ToxiproxyApi.version}),
]


def match(path: str) -> tuple[dict[str, Endpoint], Params] | None:
    for pattern, endpoints in ROUTES:
        found = pattern.fullmatch(path)
        if found:
            # Names are matched encoded and then decoded, so a name may hold any character.
            return endpoints, {key: unquote(value) for key, value in found.groupdict().items()}
    return None
