"""Who acted: a customer, an agent, the system itself, or the shop's own systems.

The edges (HTTP routes, jobs, the CLI, the bot, the desk) build an `Actor` and pass it to the
services, which carry it into the audit log and the outbox. Services never make one up.

    Actor.agent("alice", "Alice Wang").label   # "agent:alice"
    Actor.system("sweeper").label              # "system:sweeper"
    Actor.customer("tg:123").label             # "customer:tg:123"
    Actor.shop().label                         # "shop:shop"
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MAX_ID = 100  # a label ("customer:" + id) fits the 120-character actor columns
MAX_NAME = 200


class ActorKind(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"
    SHOP = "shop"


@dataclass(frozen=True)
class Actor:
    """A stable identity (`kind`, `id`) plus a display name for people reading the log."""

    kind: ActorKind
    id: str  # agent name/id, customer claimant ("tg:123", "web:<conv>"), job name
    name: str = ""  # display name ("Alice Wang"); defaults to id

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", ActorKind(self.kind))
        except ValueError:
            raise ValueError(f"actor kind must be one of {sorted(ActorKind)}") from None
        # Ids are taken as the edge gives them (a channel's raw identity); services that count
        # per identity normalise it (see `services.ownership.normalise_claimant`).
        if not isinstance(self.id, str) or not 1 <= len(self.id) <= MAX_ID or "\x00" in self.id:
            raise ValueError(f"actor id must be 1-{MAX_ID} characters, without NUL")
        name = self.name or self.id
        if len(name) > MAX_NAME or "\x00" in name:
            raise ValueError(f"actor name must be at most {MAX_NAME} characters, without NUL")
        object.__setattr__(self, "name", name)

    @property
    def label(self) -> str:
        """`kind:id`, what the audit log's `actor` column holds (at most 120 characters)."""
        return f"{self.kind}:{self.id}"

    @classmethod
    def system(cls, id: str) -> Actor:
        """A process acting on its own: `Actor.system("sweeper")`."""
        return cls(ActorKind.SYSTEM, id)

    @classmethod
    def agent(cls, id: str, name: str = "") -> Actor:
        """A person on the desk (or the staff token)."""
        return cls(ActorKind.AGENT, id, name)

    @classmethod
    def customer(cls, id: str, name: str = "") -> Actor:
        """A customer, identified by their channel identity (`tg:123`, `web:<conversation>`)."""
        return cls(ActorKind.CUSTOMER, id, name)

    @classmethod
    def shop(cls, id: str = "shop", name: str = "") -> Actor:
        """The shop's own systems (the shop API token)."""
        return cls(ActorKind.SHOP, id, name)
