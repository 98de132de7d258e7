"""Actors: who acted, as a value the edges build and the services carry into the audit log."""

from __future__ import annotations

import pytest

from fulfilment.actors import Actor, ActorKind


def test_an_actor_has_a_kind_an_id_and_a_display_name_that_defaults_to_the_id():
    alice = Actor.agent("alice", "Alice Wang")
    assert (alice.kind, alice.id, alice.name, alice.label) == (
        ActorKind.AGENT,
        "alice",
        "Alice Wang",
        "agent:alice",
    )
    assert Actor.system("sweeper").name == "sweeper"
    assert Actor.customer("tg:123").label == "customer:tg:123"
    assert Actor.shop().label == "shop:shop"


def test_two_agents_are_told_apart_by_their_ids_not_their_names():
    assert Actor.agent("alice", "A") != Actor.agent("bob", "A")
    assert Actor.agent("alice", "A").label != Actor.agent("bob", "A").label


def test_a_kind_given_as_text_becomes_the_enum_and_an_unknown_kind_is_refused():
    assert Actor("agent", "alice").kind is ActorKind.AGENT  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind"):
        Actor("robot", "r2")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", "a\x00b", "x" * 101])
def test_an_id_that_cannot_be_stored_is_refused(bad):
    with pytest.raises(ValueError, match="id"):
        Actor.agent(bad)


def test_an_id_is_kept_as_the_edge_gave_it():
    assert Actor.customer(" TG:\u200b42\t").id == " TG:\u200b42\t"  # services normalise


def test_the_longest_label_fits_the_120_character_actor_columns():
    longest = Actor.customer("w" * 100)
    assert len(longest.label) <= 120


def test_a_display_name_that_cannot_be_stored_is_refused():
    with pytest.raises(ValueError, match="name"):
        Actor.agent("alice", "Alice\x00")
    with pytest.raises(ValueError, match="name"):
        Actor.agent("alice", "A" * 201)
