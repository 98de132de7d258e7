"""Request-scoped dependencies: the container, the job trigger and bearer-token auth."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from fulfilment.uow import UnitOfWork
from kamidesk.bootstrap import Container
from kamidesk.jobs import Jobs

bearer = HTTPBearer(auto_error=False)


def container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


def jobs(request: Request) -> Jobs:
    return request.app.state.jobs  # type: ignore[no-any-return]


def uow(box: Annotated[Container, Depends(container)]) -> UnitOfWork:
    return box.uow()


def _matches(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _role(creds: HTTPAuthorizationCredentials | None, box: Container) -> str | None:
    if creds is None or creds.scheme.lower() != "bearer":
        return None
    settings = box.settings
    if _matches(creds.credentials, settings.staff_api_token.get_secret_value()):
        return "staff"
    if _matches(creds.credentials, settings.shop_api_token.get_secret_value()):
        return "shop"
    return None


def shop_or_staff(
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    box: Annotated[Container, Depends(container)],
) -> str:
    """The caller's role; 401 without a valid bearer token."""
    role = _role(creds, box)
    if role is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a valid bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return role


def staff_only(role: Annotated[str, Depends(shop_or_staff)]) -> str:
    """Staff actions (reissue, refund, manual payment confirmation)."""
    if role != "staff":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this action needs the staff token")
    return role


def no_nul_in_url(request: Request) -> None:
    """Refuse NUL in path and query values (PostgreSQL text cannot hold it)."""
    values = [*request.path_params.values(), *request.query_params.values()]
    if any("\x00" in str(v) for v in values):
        raise HTTPException(422, "the URL must not contain NUL characters")


UowDep = Annotated[UnitOfWork, Depends(uow)]
JobsDep = Annotated[Jobs, Depends(jobs)]
ShopDep = Annotated[str, Depends(shop_or_staff)]
StaffDep = Annotated[str, Depends(staff_only)]
