"""schema.drop()'s plan: which relations go first (cycles) and the order collections go in."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pydirectus.models import Relation
from pydirectus.system.schema import drop_order


def rel(many: str, field: str, one: str | None) -> Relation:
    return {"collection": many, "field": field, "related_collection": one, "meta": {},
            "schema": None}


def test_the_many_side_goes_before_what_it_points_at() -> None:
    relations = [rel("articles", "author", "authors")]
    assert drop_order(["authors", "articles"], relations) == ([], ["articles", "authors"])
    assert drop_order(["articles", "authors"], relations) == ([], ["articles", "authors"])


def test_a_junction_goes_first_and_the_given_order_breaks_ties() -> None:
    relations = [rel("posts_tags", "posts_id", "posts"), rel("posts_tags", "tags_id", "tags"),
                 rel("posts", "author", "authors")]
    assert drop_order(["tags", "authors", "posts", "posts_tags"], relations) == (
        [], ["posts_tags", "tags", "posts", "authors"])


def test_relations_leaving_the_set_and_many_to_any_do_not_order() -> None:
    relations = [rel("articles", "author", "authors"), rel("comments", "item", None),
                 rel("notes", "article", "articles")]
    assert drop_order(["authors", "comments"], relations) == ([], ["authors", "comments"])


def test_self_references_and_cycles_are_deleted_first() -> None:
    relations = [rel("tree", "parent", "tree"), rel("a", "b", "b"), rel("b", "a", "a"),
                 rel("a", "owner", "people"), rel("notes", "a", "a")]
    cyclic, order = drop_order(["people", "tree", "a", "b", "notes"], relations)
    assert cyclic == [("tree", "parent"), ("a", "b"), ("b", "a")]
    # a still points at people, and notes at a, outside the cycle: those keep their order.
    assert order == ["tree", "b", "notes", "a", "people"]


def test_duplicates_are_dropped_once() -> None:
    assert drop_order(["a", "b", "a"], []) == ([], ["a", "b"])


NAMES = st.sampled_from("abcdef")


@given(names=st.lists(NAMES, max_size=8),
       links=st.lists(st.tuples(NAMES, NAMES), max_size=12, unique=True))
def test_every_kept_relation_points_at_a_later_collection(
        names: list[str], links: list[tuple[str, str]]) -> None:
    relations = [rel(many, f"to_{one}", one) for many, one in links]
    cyclic, order = drop_order(names, relations)
    assert len(order) == len(set(order)) and set(order) == set(names)
    position: dict[str, Any] = {name: index for index, name in enumerate(order)}
    inside = [(many, one) for many, one in links if many in position and one in position]
    for many, one in inside:
        if (many, f"to_{one}") not in cyclic:
            assert position[many] < position[one]
    # Only relations on a cycle are deleted: each one's target leads back to its source.
    for many, field in cyclic:
        one = field.removeprefix("to_")
        assert (many, one) in inside
        reach, stack = {one}, [one]
        while stack:
            here = stack.pop()
            for m, o in inside:
                if m == here and o not in reach:
                    reach.add(o)
                    stack.append(o)
        assert many in reach
