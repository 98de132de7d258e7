"""Request-scoped dependencies: the container, the job runner and who is calling.

Callers are `Actor`s: the shop's systems (`Actor.shop()`, by the shop API token) or agents,
whom the container's `AgentDirectory` resolves (by default the staff token is the agent
`staff`). Routes declare `ShopCaller` (shop or agent) or `CurrentAgent` (agents only).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from fulfilment.actors import Actor, ActorKind
from fulfilment.uow import UnitOfWork
from kamidesk.agents import Credentials, matches
from kamidesk.bootstrap import Container
from kamidesk.jobs import Jobs

bearer = HTTPBearer(auto_error=False)
SHOP = Actor.shop()


def container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


def jobs(box: Annotated[Container, Depends(container)]) -> Jobs:
    return box.jobs


def uow(box: Annotated[Container, Depends(container)]) -> UnitOfWork:
    return box.uow()


def credentials(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Credentials:
    """What the request presented (a bearer token, cookies)."""
    token = creds.credentials if creds is not None and creds.scheme.lower() == "bearer" else None
    return Credentials(bearer=token, cookies=dict(request.cookies))


def current_caller(
    given: Annotated[Credentials, Depends(credentials)],
    box: Annotated[Container, Depends(container)],
) -> Actor:
    """The shop or an agent; 401 without valid credentials."""
    agent = box.agents.authenticate(given)
    if agent is not None:
        return agent
    if given.bearer is not None and matches(given.bearer, box.settings.shop_api_token):
        return SHOP
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "a valid bearer token is required",
        headers={"WWW-Authenticate": "Bearer"},
    )


def current_agent(caller: Annotated[Actor, Depends(current_caller)]) -> Actor:
    """An agent (staff actions: reissue, refund, manual payment confirmation); 403 for the shop."""
    if caller.kind != ActorKind.AGENT:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this action needs an agent (staff) token")
    return caller


def no_nul_in_url(request: Request) -> None:
    """Refuse NUL in path and query values (PostgreSQL text cannot hold it)."""
    values = [*request.path_params.values(), *request.query_params.values()]
    if any("\x00" in str(v) for v in values):
        raise HTTPException(422, "the URL must not contain NUL characters")


UowDep = Annotated[UnitOfWork, Depends(uow)]
JobsDep = Annotated[Jobs, Depends(jobs)]
ShopCaller = Annotated[Actor, Depends(current_caller)]
CurrentAgent = Annotated[Actor, Depends(current_agent)]
